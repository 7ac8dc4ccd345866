"""Who a company account is here, and what signing in with it records."""

from typing import Any

from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.org.models import DirectorySource, ExternalIdentity, Person
from collab.org.sync.engine import IM_ID_FIELD

# The session remembers when the company account last confirmed the person: setting a signing
# PIN needs a recent confirmation (a borrowed session cannot set one).
SSO_AT = "collab_sso_at"


class SignInError(Exception):
    """The company account cannot sign in here; the text is shown on the login page."""


def user_for(source: DirectorySource, subject: str, *, email: str = "", email_verified: bool = False) -> Any:
    """The active user this company account is, linking it on first use; raises ``SignInError``.

    1. A company account seen before: its user.
    2. A vendor account: the person the directory sync linked (their source user ID or IM ID).
    3. An OpenID Connect account with a verified e-mail: the one active person with that address.
    """
    if not subject:
        raise SignInError(_("The company account did not say who you are."))
    identity = ExternalIdentity.objects.select_related("user").filter(source=source, subject=subject).first()
    user = identity.user if identity is not None else None
    if user is None:
        people = Person.objects.select_related("user")
        person = people.filter(source=source, source_user_id=subject).first()
        im_field = IM_ID_FIELD.get(DirectorySource.Kind(source.kind))
        if person is None and im_field:
            person = people.filter(**{im_field: subject}).first()
        if person is None and email and email_verified:
            matches = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
            user = matches[0] if len(matches) == 1 else None
        elif person is not None:
            user = person.user
    if user is None:
        raise SignInError(_("There is no account here for this company account. Ask an admin to add you."))
    if not user.is_active:
        raise SignInError(_("This account is deactivated."))
    return user


@transaction.atomic
def sign_in_complete(request: HttpRequest, *, source: DirectorySource, subject: str, user: Any) -> None:
    """Logs ``user`` in for this company account and records it."""
    identity, created = ExternalIdentity.objects.get_or_create(
        source=source, subject=subject, defaults={"user": user}
    )
    ExternalIdentity.objects.filter(pk=identity.pk).update(last_sign_in=timezone.now())
    if created:
        audit_record(actor=user, action="org.identity_linked", target=identity, note=source.name)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SSO_AT] = timezone.now().timestamp()
