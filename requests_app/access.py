"""Who may see an item and act on it and its parts: decided here, once, for views and services.

- Seeing: the item's view permission (kept by ``services.item_sync_permissions`` from the
  item's roles; ``services.item_grant_view`` adds to it for writes that only add people).
  Everyone given work on the item is granted it: requester, coordinator, invitees,
  confirmation delegates of the departments taking part, and what later stages register through
  ``register_work_givers`` (task owners, collaborators and receivers, problem
  handlers, deliverable receivers, improvement-measure owners). Stage 1 imports no later stage.
- Acting: a ``Right`` names who holds it and what a person without it is told. Views and
  services call the same ``Right.require``, so the rule and its message exist once.

Refusals are typed (``collab.refusals``): an outsider gets ``NotVisible`` (404), a party
without the right ``NotPermitted`` (403); ``collab.refusals.RefusalMiddleware`` answers both.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_users_with_perms

from collab.prepared_rows import row_by_key
from collab.refusals import NotPermitted, NotVisible
from requests_app.models import CollaborationItem, Invitation

VIEW = "requests_app.view_collaborationitem"
CHANGE = "requests_app.change_collaborationitem"

# The people later stages give work on an item (user ids); see register_work_givers.
_WORK_GIVERS: list[Callable[[CollaborationItem], Iterable[int | None]]] = []


def register_work_givers(source: Callable[[CollaborationItem], Iterable[int | None]]) -> None:
    """A later stage names the people it gives work on an item (called from its AppConfig.ready)."""
    if source not in _WORK_GIVERS:
        _WORK_GIVERS.append(source)


def people_given_work(item: CollaborationItem) -> set[int]:
    """Everyone who must do something on the item and therefore sees it (user ids)."""
    people = {item.requester_id, item.coordinator_id}
    people |= set(Invitation.objects.filter(meeting__item=item).values_list("person_id", flat=True))
    if not item.is_draft:
        # Delegates confirm minutes for a department they may not belong to.
        people |= set(
            item.participations.filter(department__confirmation_delegates__isnull=False).values_list(
                "department__confirmation_delegates", flat=True
            )
        )
    for source in _WORK_GIVERS:
        people |= {pk for pk in source(item) if pk is not None}
    return people


def _holds(user: Any, perm: str, item: CollaborationItem) -> bool:
    """``user.has_perm(perm, item)``, read once per person and item instance.

    A write asks two or three times (the view: may see, may act; the service: may act, on its
    own locked instance): the person's codenames on the instance, read with one query, answer
    every question after it. Object permissions only, as ``has_perm`` with this project's
    backends: Django's ModelBackend answers nothing about an object and guardian reads object
    rows, so a model-wide permission (an admin's) grants nothing on an item; rights on items are
    granted as object rows by ``item_sync_permissions`` (tests/test_write_reads.py pins it).
    The answers live as long as the instance (one request); the services that grant or take
    back rights forget them on the instance they were given (``forget_rights``).
    """
    if not user.is_authenticated:
        return bool(user.has_perm(perm, item))  # guardian's anonymous user: its own path
    if not user.is_active:
        return False  # as guardian (and Django's backends) for an inactive account
    if user.is_superuser:
        return True  # as Django's has_perm, before asking any backend
    known = item.__dict__.setdefault("_rights_known", {})
    if user.pk not in known:
        known[user.pk] = _codenames(user.pk, item.pk)
    return perm.rsplit(".", 1)[-1] in known[user.pk]


# guardian's rows of one person on one item, their own and their groups' (guardian's checker
# asks the same of the same tables in two ORM queries, whose compiling cost more than running).
_CODENAMES = """
    SELECT p.codename FROM {user_perms} o JOIN {permission} p ON p.id = o.permission_id
     WHERE o.user_id = %(user)s AND o.content_type_id = %(type)s AND o.object_pk = %(pk)s
    UNION
    SELECT p.codename FROM {group_perms} o JOIN {permission} p ON p.id = o.permission_id
      JOIN {user_groups} m ON m.group_id = o.group_id
     WHERE m.user_id = %(user)s AND o.content_type_id = %(type)s AND o.object_pk = %(pk)s
"""


def _codenames(user_id: int, item_id: int) -> frozenset[str]:
    sql = _CODENAMES.format(
        user_perms=UserObjectPermission._meta.db_table,
        group_perms=GroupObjectPermission._meta.db_table,
        permission=Permission._meta.db_table,
        user_groups=get_user_model().groups.through._meta.db_table,
    )
    content_type = ContentType.objects.get_for_model(CollaborationItem)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user_id, "type": content_type.pk, "pk": str(item_id)})
        return frozenset(codename for (codename,) in cursor.fetchall())


def forget_rights(item: CollaborationItem) -> None:
    """Drops the answers ``_holds`` keeps on ``item`` (its rights just changed)."""
    item.__dict__.pop("_rights_known", None)


def may_view(user: Any, item: CollaborationItem) -> bool:
    return _holds(user, VIEW, item)


def may_change(user: Any, item: CollaborationItem) -> bool:
    return _holds(user, CHANGE, item)


def _page_item(pk: int) -> QuerySet[CollaborationItem]:
    """The item of a page, with what every page of it shows (compiled once per connection)."""
    return (
        CollaborationItem.objects.select_related("requesting_department", "requester", "coordinator")
        .filter(pk=pk)
        .order_by()
    )


# The items a request read before its view ran, by pk (``ArchivedItemMiddleware`` reads the item
# of every write to decide whether it is archived): ``item_for`` takes its row from here instead
# of reading it again. Set for the length of one request only (``items_read_ahead``).
_READ_AHEAD: ContextVar[dict[int, CollaborationItem] | None] = ContextVar("items_read_ahead", default=None)


@contextmanager
def items_read_ahead() -> Iterator[None]:
    """A request's scope for ``read_item_ahead``: what is read ahead is gone with the request."""
    token = _READ_AHEAD.set({})
    try:
        yield
    finally:
        _READ_AHEAD.reset(token)


def read_item_ahead(pk: int) -> CollaborationItem | None:
    """The item of a page, read once for the request: the next ``item_for(user, pk)`` of the
    request takes this row (with the rights ``may_view`` learnt on it) instead of a new read."""
    item = row_by_key(_page_item, pk)
    ahead = _READ_AHEAD.get()
    if ahead is not None and item is not None:
        ahead[pk] = item
    return item


def item_for(user: Any, pk: int, right: "Right[CollaborationItem] | None" = None) -> CollaborationItem:
    """The item if ``user`` may see it, else NotVisible (an outsider does not learn it exists);
    with ``right``, also NotPermitted unless ``user`` holds it."""
    ahead = _READ_AHEAD.get()
    item = ahead.pop(pk, None) if ahead else None
    if item is None:
        item = row_by_key(_page_item, pk)
    if item is None or not may_view(user, item):
        raise NotVisible
    if right is not None:
        right.require(user, item)
    return item


def people_who_see(item: CollaborationItem) -> QuerySet[Any]:
    """The active people who see the item (the only ones a picker on it offers)."""
    # Without attach_perms guardian returns a queryset of users (its stub also allows a dict).
    users = cast(
        QuerySet[Any],
        get_users_with_perms(item, only_with_perms_in=["view_collaborationitem"], with_group_users=True),
    )
    return get_user_model().objects.filter(pk__in=users.values("pk"), is_active=True)


@dataclass(frozen=True)
class Right[T]:
    """An action on an item or one of its parts: who holds it, and what others are told."""

    holds: Callable[[Any, T], bool]
    refusal: Promise

    def allows(self, user: Any, target: T) -> bool:
        return user.pk is not None and self.holds(user, target)

    def require(self, user: Any, target: T) -> None:
        """Raises NotPermitted with the refusal unless ``user`` holds the right on ``target``."""
        if not self.allows(user, target):
            raise NotPermitted(str(self.refusal))


EDIT_FORM: Right[CollaborationItem] = Right(
    may_change, gettext_lazy("Only the requester and the coordinator can edit this requirement form.")
)
RUN_MEETINGS: Right[CollaborationItem] = Right(
    may_change, gettext_lazy("Only the requester and the coordinator can run this item's meetings.")
)


def require_confirmer(user: Any, department: Any) -> None:
    """Only the department's head or one of its delegates confirms minutes for it."""
    if not department.may_confirm_for(user):
        raise NotPermitted(
            gettext_lazy("Only the head of %(department)s or a delegate can confirm for it.")
            % {"department": department}
        )
