"""Who a company account is here, and what signing in with it records."""

from typing import Any

from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.org.models import DirectorySource, ExternalIdentity, Person
from collab.org.signin.policy import sign_in_policy
from collab.org.sync.engine import IM_ID_FIELD, split_name

# ID-token claims that name the person's IM accounts (a provider can map them from its user
# attributes); they match the Person fields of the same name.
IM_CLAIMS = ("dingtalk_id", "feishu_id", "wecom_id")

# The session remembers when the company account last confirmed the person: setting a signing
# PIN needs a recent confirmation (a borrowed session cannot set one).
SSO_AT = "collab_sso_at"


class SignInError(Exception):
    """The company account cannot sign in here; the text is shown on the login page."""


class NoAccountError(SignInError):
    """Nobody here is this company account."""

    def __init__(self) -> None:
        super().__init__(_("There is no account here for this company account. Ask an admin to add you."))


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
        raise NoAccountError()
    if not user.is_active:
        raise SignInError(_("This account is deactivated."))
    return user


def oidc_user_for(source: DirectorySource, subject: str, claims: dict[str, Any]) -> Any:
    """The user an OpenID Connect account is, created on its first sign-in if the policy allows.

    An existing person is found first: a company account seen before, then the one active
    person with the claims' verified e-mail, verified phone number, or IM user ID. Nobody found:
    with "create accounts on first sign-in" a new account is made from the claims (no password,
    no department: an admin or the next directory sync places them); without it, or when the
    claims match several people, the person is told to ask an admin.
    """
    if not subject:
        raise SignInError(_("The company account did not say who you are."))
    email = str(claims.get("email") or "") if claims.get("email_verified") is True else ""
    try:
        return user_for(source, subject, email=email, email_verified=bool(email))
    except NoAccountError:
        pass
    matches = _matching_users(claims)
    if len(matches) == 1:
        return _active(matches.pop())
    if matches or not sign_in_policy().create_accounts:
        raise NoAccountError()
    return _create_account(source, subject, claims, email)


def _active(user: Any) -> Any:
    if not user.is_active:
        raise SignInError(_("This account is deactivated."))
    return user


def _matching_users(claims: dict[str, Any]) -> set[Any]:
    """Everyone the claims' verified e-mail (also deactivated or several people: then nobody is
    created), verified phone number or IM IDs point at."""
    found: set[Any] = set()
    email = str(claims.get("email") or "").strip()
    if email and claims.get("email_verified") is True:
        found |= set(get_user_model().objects.filter(email__iexact=email)[:2])
    people = Person.objects.select_related("user")
    phone = str(claims.get("phone_number") or "").strip()
    if phone and claims.get("phone_number_verified") is True:
        found |= {p.user for p in people.filter(phone=phone, user__is_active=True)[:2]}
    for claim in IM_CLAIMS:
        value = str(claims.get(claim) or "").strip()
        if value:
            found |= {p.user for p in people.filter(**{claim: value})[:2]}
    return found


def _create_account(source: DirectorySource, subject: str, claims: dict[str, Any], email: str) -> Any:
    user_model = get_user_model()
    base = str(claims.get("preferred_username") or email.partition("@")[0] or f"oidc-{subject}")
    base = "".join(c for c in base if c.isalnum() or c in "@.+-_")[:140] or f"oidc-{subject}"[:140]
    username, n = base, 1
    while user_model.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    name = str(claims.get("name") or "").strip()
    if name:
        first, last = split_name(name)
    else:
        first, last = str(claims.get("given_name") or ""), str(claims.get("family_name") or "")
    with transaction.atomic():
        user = user_model.objects.create_user(
            username, email, None, first_name=first[:150], last_name=last[:150]
        )
        person = Person(user=user)
        if claims.get("phone_number_verified") is True:
            person.phone = str(claims.get("phone_number") or "")[:32]
        for claim in IM_CLAIMS:
            setattr(person, claim, str(claims.get(claim) or "")[:64])
        person.save()
        audit_record(actor=user, action="org.account_created_on_sign_in", target=user, note=source.name)
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
