"""The source-neutral sync: a snapshot of the directory in, the organisation made to match it.

A dry run and an application are the same code: the dry run makes every change inside a
transaction and rolls it back, so the preview an admin reads is exactly what applying does.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.audit.services import audit_record
from collab.org.models import Department, DirectorySource, Person, SyncRun, display_name
from collab.org.sync.snapshot import DirectoryError, Snapshot, SourceDepartment, SourceUser

# What happened to one department or person, as the preview lists it.
ACTIONS = {
    "added": gettext_lazy("added"),
    "linked": gettext_lazy("linked to an existing entry"),
    "renamed": gettext_lazy("renamed"),
    "moved": gettext_lazy("moved"),
    "head": gettext_lazy("head changed"),
    "left": gettext_lazy("left (deactivated)"),
    "returned": gettext_lazy("returned (reactivated)"),
    "removed": gettext_lazy("removed at the source (deactivated, kept on past items)"),
    "restored": gettext_lazy("back in the directory (reactivated)"),
    # Runs before departments were deactivated: a department gone from the source was unlinked.
    "unlinked": gettext_lazy("no longer in the directory (kept, now managed by hand)"),
}

# The Person field that holds the source's user ID for personal messages and sign-in.
IM_ID_FIELD = {
    DirectorySource.Kind.DINGTALK: "dingtalk_id",
    DirectorySource.Kind.FEISHU: "feishu_id",
    DirectorySource.Kind.WECOM: "wecom_id",
}


@dataclass
class _Log:
    """The changes of one run; each one audited as it is made (a dry run rolls the audit back too)."""

    source: DirectorySource
    actor: Any
    changes: list["Change"]

    def add(self, target: Any, change: "Change") -> None:
        self.changes.append(change)
        audit_record(
            actor=self.actor,
            action=f"org.sync_{change.action}",
            target=target,
            changes={"source": self.source.name, "before": change.before, "after": change.after},
        )


@dataclass
class Change:
    action: str
    kind: str  # "department" or "person"
    external_id: str
    name: str
    before: str = ""
    after: str = ""
    user_id: int | None = None

    @property
    def action_label(self) -> str:
        return str(ACTIONS[self.action])


# Called inside the transaction with the user IDs about to be deactivated, before anything
# about them changes (they still head their departments); returns what to keep in the run.
LeavingHook = Callable[[list[int]], Any]


def split_name(name: str) -> tuple[str, str]:
    """(first name, last name) as ``display_name`` joins them back: 张敏 → ("敏", "张")."""
    name = name.strip()
    if name.isascii():
        first, _sep, last = name.rpartition(" ")
        return (first, last) if first else (name, "")
    return name[1:], name[:1]


def directory_sync(
    *,
    source: DirectorySource,
    snapshot: Snapshot,
    actor: Any = None,
    apply: bool,
    on_leaving: LeavingHook | None = None,
) -> SyncRun:
    """Computes (``apply=False``) or applies the changes that make the organisation match ``snapshot``.

    1. Lock the source's row, so two syncs of one source run one after the other.
    2. Departments, parents first: matched by the source's ID; else an unlinked department of
       the same name under the same parent (or one of this source removed earlier) is adopted;
       else created. Renames and moves follow; a removed department that is back is reactivated.
       Departments of this source missing from the snapshot are deactivated, never deleted:
       past items, tasks and the register keep naming them, pickers and filters stop offering
       them. Their people follow the snapshot like everyone else (moved, or left).
    3. People: matched by the source's user ID; else an unlinked person with that IM ID or
       e-mail is adopted; else created (without a usable password: they sign in with the
       company account). Name and department follow the source; a returning person is reactivated.
    4. People of this source missing from the snapshot are deactivated, never deleted.
    5. Heads: the first of the source's managers who is here; a head who left is cleared.
    6. Every change gets an audit row; the run is recorded with its diff. A dry run rolls all
       of it back and keeps only the run.
    A failure at any step rolls everything back: nothing changes.
    """
    departments = snapshot.ordered_departments()
    changes: list[Change] = []
    log = _Log(source=source, actor=actor, changes=changes)
    extra: Any = None
    try:
        with transaction.atomic():
            DirectorySource.objects.select_for_update().filter(pk=source.pk).first()
            by_external = _sync_departments(source, departments, log)
            extra = _sync_people(source, snapshot.users, by_external, log, on_leaving)
            _sync_heads(departments, by_external, log)
            if apply:
                DirectorySource.objects.filter(pk=source.pk).update(
                    last_synced_at=timezone.now(), last_error=""
                )
            else:
                transaction.set_rollback(True)
    except IntegrityError as error:
        raise DirectoryError(
            _("The directory conflicts with departments or people entered by hand: %(error)s")
            % {"error": error}
        ) from error
    diff: dict[str, Any] = {"changes": [asdict(change) for change in changes]}
    if extra is not None:
        diff["handover"] = extra
    return SyncRun.objects.create(
        source=source, actor=actor if getattr(actor, "pk", None) else None, applied=apply, diff=diff
    )


def run_changes(run: SyncRun) -> list[Change]:
    return [Change(**row) for row in run.diff.get("changes", [])]


def _path(department: Department | None) -> str:
    return department.name if department is not None else ""


def _sync_departments(
    source: DirectorySource, departments: list[SourceDepartment], log: _Log
) -> dict[str, Department]:
    existing = {d.external_id: d for d in Department.objects.filter(source=source).select_related("parent")}
    result: dict[str, Department] = {}
    for wanted in departments:
        parent = result.get(wanted.parent_id) if wanted.parent_id else None
        name = wanted.name.strip()
        department = existing.pop(wanted.id, None)
        if department is None:
            department = _adopt_department(source, wanted, parent, name, existing, log)
            if department is not None:
                result[wanted.id] = department
                continue
            department = Department(name=name, parent=parent, source=source, external_id=wanted.id)
            department.save()
            log.add(department, Change("added", "department", wanted.id, name, after=_path(parent)))
            result[wanted.id] = department
            continue
        fields = []
        if not department.active:
            log.add(department, Change("restored", "department", wanted.id, name, after=_path(parent)))
            department.active = True
            fields.append("active")
        if department.name != name:
            log.add(
                department,
                Change("renamed", "department", wanted.id, name, before=department.name, after=name),
            )
            department.name = name
            fields.append("name")
        if department.parent_id != (parent.pk if parent else None):
            log.add(
                department,
                Change(
                    "moved",
                    "department",
                    wanted.id,
                    name,
                    before=_path(department.parent),
                    after=_path(parent),
                ),
            )
            department.parent = parent
            fields.append("parent")
        if fields:
            department.save(update_fields=fields)
        result[wanted.id] = department
    for gone in existing.values():
        if not gone.active:
            continue  # removed by an earlier run
        log.add(gone, Change("removed", "department", gone.external_id, gone.name, before=_path(gone.parent)))
        gone.active = False
        gone.save(update_fields=["active"])
    return result


def _adopt_department(
    source: DirectorySource,
    wanted: SourceDepartment,
    parent: Department | None,
    name: str,
    existing: dict[str, Department],
    log: _Log,
) -> Department | None:
    """The department already here under this name and parent that the source's one is.

    One entered by hand is linked; one of this source that was removed at the source (and got
    a new ID when it was created again there) takes the new ID and is reactivated. Either way the
    sibling name stays unique and past items keep their department.
    """
    here = Department.objects.filter(parent=parent, name=name).first()
    if here is None:
        return None
    if here.source_id is None:
        here.source, here.external_id = source, wanted.id
        here.save(update_fields=["source", "external_id"])
        log.add(here, Change("linked", "department", wanted.id, name, after=_path(parent)))
        return here
    if here.source_id == source.pk and not here.active and existing.get(here.external_id) is here:
        del existing[here.external_id]
        here.external_id, here.active = wanted.id, True
        here.save(update_fields=["external_id", "active"])
        log.add(here, Change("restored", "department", wanted.id, name, after=_path(parent)))
        return here
    return None


def _sync_people(
    source: DirectorySource,
    users: list[SourceUser],
    departments: dict[str, Department],
    log: _Log,
    on_leaving: LeavingHook | None,
) -> Any:
    existing = {
        p.source_user_id: p for p in Person.objects.filter(source=source).select_related("user", "department")
    }
    seen: set[str] = set()
    for wanted in users:
        if wanted.id in seen:
            raise DirectoryError(_("The directory lists user ID %(id)s twice.") % {"id": wanted.id})
        seen.add(wanted.id)
        department = next((departments[d] for d in wanted.department_ids if d in departments), None)
        person = existing.pop(wanted.id, None)
        if person is None:
            person = _adopt_person(source, wanted)
            if person is not None:
                log.add(person, Change("linked", "person", wanted.id, wanted.name, user_id=person.user_id))
        if person is None:
            person = _create_person(source, wanted, department)
            log.add(
                person,
                Change(
                    "added", "person", wanted.id, wanted.name, after=_path(department), user_id=person.user_id
                ),
            )
            continue
        _update_person(person, wanted, department, log)
    leaving = [p for p in existing.values() if p.user.is_active]
    extra = on_leaving([p.user_id for p in leaving]) if on_leaving is not None and leaving else None
    for person in leaving:
        get_user_model().objects.filter(pk=person.user_id).update(is_active=False)
        log.add(
            person,
            Change(
                "left",
                "person",
                person.source_user_id,
                display_name(person.user),
                before=_path(person.department),
                user_id=person.user_id,
            ),
        )
    return extra


def _adopt_person(source: DirectorySource, wanted: SourceUser) -> Person | None:
    unlinked = Person.objects.filter(source=None).select_related("user", "department")
    im_field = IM_ID_FIELD.get(DirectorySource.Kind(source.kind))
    candidates: list[Person] = []
    if im_field:
        candidates = list(unlinked.filter(**{im_field: wanted.id})[:2])
    if not candidates and wanted.email:
        candidates = list(unlinked.filter(user__email__iexact=wanted.email)[:2])
    if len(candidates) != 1:  # none, or ambiguous: a new person is safer than a wrong link
        return None
    person = candidates[0]
    person.source, person.source_user_id = source, wanted.id
    person.save(update_fields=["source", "source_user_id"])
    return person


def _create_person(source: DirectorySource, wanted: SourceUser, department: Department | None) -> Person:
    user_model = get_user_model()
    base = (wanted.username or f"{source.kind}-{wanted.id}")[:140]
    username, n = base, 1
    while user_model.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    first, last = split_name(wanted.name)
    user = user_model.objects.create_user(username, wanted.email, None, first_name=first, last_name=last)
    person = Person(
        user=user,
        department=department,
        region=department.region if department is not None else None,
        phone=wanted.phone,
        position=wanted.position[:100],
        source=source,
        source_user_id=wanted.id,
    )
    im_field = IM_ID_FIELD.get(DirectorySource.Kind(source.kind))
    if im_field:
        setattr(person, im_field, wanted.id)
    person.save()
    return person


def _update_person(person: Person, wanted: SourceUser, department: Department | None, log: _Log) -> None:
    user = person.user
    before = (user.first_name, user.last_name, user.is_active, user.email)
    name = display_name(user)
    if name != wanted.name.strip():
        log.add(
            person,
            Change(
                "renamed", "person", wanted.id, wanted.name, before=name, after=wanted.name, user_id=user.pk
            ),
        )
        user.first_name, user.last_name = split_name(wanted.name)
    if not user.is_active:
        log.add(
            person,
            Change("returned", "person", wanted.id, wanted.name, after=_path(department), user_id=user.pk),
        )
        user.is_active = True
    if wanted.email and user.email != wanted.email:
        user.email = wanted.email
    if (user.first_name, user.last_name, user.is_active, user.email) != before:
        user.save(update_fields=["first_name", "last_name", "is_active", "email"])
    person_before = (person.department_id, person.phone, person.position)
    if person.department_id != (department.pk if department else None):
        log.add(
            person,
            Change(
                "moved",
                "person",
                wanted.id,
                wanted.name,
                before=_path(person.department),
                after=_path(department),
                user_id=user.pk,
            ),
        )
        person.department = department
    person.phone = wanted.phone or person.phone
    person.position = wanted.position[:100] or person.position
    if (person.department_id, person.phone, person.position) != person_before:
        person.save()


def _sync_heads(departments: list[SourceDepartment], by_external: dict[str, Department], log: _Log) -> None:
    source_ids = {uid for d in departments for uid in d.head_ids}
    people = {
        p.source_user_id: p.user
        for p in Person.objects.filter(
            source_id__in={d.source_id for d in by_external.values()}, source_user_id__in=source_ids
        ).select_related("user")
        if p.user.is_active
    }
    active = set(get_user_model().objects.filter(is_active=True).values_list("pk", flat=True))
    for wanted in departments:
        department = by_external[wanted.id]
        head = next((people[uid] for uid in wanted.head_ids if uid in people), None)
        if head is None and (department.head_id is None or department.head_id in active):
            continue  # the source names no head here: a head entered by hand stays, unless they left
        if department.head_id == (head.pk if head else None):
            continue
        before = display_name(department.head) if department.head_id else ""
        log.add(
            department,
            Change(
                "head",
                "department",
                wanted.id,
                department.name,
                before=before,
                after=display_name(head) if head else "",
            ),
        )
        department.head = head
        department.save(update_fields=["head"])
