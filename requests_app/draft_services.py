"""Keeping what a person typed in a requirement form until they send it.

Two ways in: the page posts the form in the background while the person types (autosave), and
a post that arrives after the session expired is kept instead of being dropped at the login
page. Either way the draft belongs to one person, who alone reads it back (see
``draft_owner_token``): someone else signing in on the same computer never sees it.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction

from requests_app.models import FormDraft
from requests_app.start_selectors import FORM_FIELDS, ROW_FIELDS

_SALT = "requests_app.form-draft"
# A form page stays useful for the kept-draft token a little longer than a session lasts, so a
# form left open overnight can still be kept; after that a post is only sent to the login page.
TOKEN_MAX_AGE = settings.SESSION_COOKIE_AGE + 24 * 3600


def draft_owner_token(user: Any, form: str) -> str:
    """The hidden field that lets a post arriving without a session still be kept for ``user``:
    signed, so nobody can make it name someone else, and bound to one form."""
    return signing.dumps([user.pk, form], salt=_SALT)


def draft_owner(token: str, form: str) -> int | None:
    """The user id a form page was made for, if ``token`` is genuine, fresh and for ``form``."""
    try:
        owner, signed_form = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return owner if signed_form == form and isinstance(owner, int) else None


# The posted names of the rows' fields and of their formsets' management forms.
_PREFIXES = "|".join(ROW_FIELDS)
_ROW_FIELDS = "|".join(name for names in ROW_FIELDS.values() for name in names)
_ROW_NAME = re.compile(rf"({_PREFIXES})-([A-Z_]+_FORMS|[0-9]{{1,4}}-({_ROW_FIELDS}|DELETE))")


def kept_fields(data: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The part of a post a draft keeps: the form's fields and rows, the version and the reason;
    not the CSRF token, the pressed button or the day-off step."""
    wanted = set(FORM_FIELDS) | {"version", "reason"}
    # NUL characters go: PostgreSQL's JSON cannot store them, and no form field accepts them.
    return {
        name: [str(v).replace("\x00", "") for v in values]
        for name, values in data.items()
        if name in wanted or _ROW_NAME.fullmatch(name)
    }


@transaction.atomic
def form_draft_keep(*, owner_id: int, form: str, data: Mapping[str, list[str]]) -> FormDraft:
    """Keeps the latest input of ``owner``'s ``form``, replacing what was kept before."""
    draft, _created = FormDraft.objects.update_or_create(
        owner_id=owner_id, form=form, defaults={"data": kept_fields(data)}
    )
    return draft


def form_draft_discard(*, owner: Any, form: str) -> None:
    """Forgets the kept input once the form is saved or submitted, or the person discards it."""
    FormDraft.objects.filter(owner=owner, form=form).delete()
