"""Whether a password may still sign someone in, when the company account is required."""

from typing import Any

from django.db import transaction

from collab.audit.services import audit_record
from collab.org.models import SignInPolicy

PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"  # noqa: S105 (a class path, not a password)


def sign_in_policy() -> SignInPolicy:
    return SignInPolicy.objects.filter(pk=1).first() or SignInPolicy(pk=1)


def password_allowed(user: Any) -> bool:
    policy = sign_in_policy()
    return not policy.require_sso or policy.exempt_id == user.pk


@transaction.atomic
def sign_in_policy_set(*, actor: Any, require_sso: bool, create_accounts: bool | None = None) -> SignInPolicy:
    """Requires (or stops requiring) the company account; the admin who requires it stays exempt.
    ``create_accounts`` (None: unchanged): whether OpenID Connect sign-in creates missing accounts."""
    policy, _created = SignInPolicy.objects.select_for_update().get_or_create(pk=1)
    before = (policy.require_sso, policy.create_accounts)
    policy.require_sso = require_sso
    policy.exempt = actor if require_sso else None
    if create_accounts is not None:
        policy.create_accounts = create_accounts
    policy.save()
    audit_record(
        actor=actor,
        action="org.sign_in_policy",
        target=policy,
        changes={
            "require_sso": [before[0], require_sso],
            "create_accounts": [before[1], policy.create_accounts],
        },
    )
    return policy
