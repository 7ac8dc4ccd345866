"""Signing in with the LDAP / Active Directory password, through an LDAP source set to sign people in.

The read-only bind account finds the entry by ``uid`` or ``sAMAccountName``; a second bind as that
entry checks the password; the entry's ``entryUUID``/``objectGUID`` is the person the directory
sync linked. Nothing of the password is kept here.
"""

import logging
from typing import Any

import ldap3
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from collab.org.models import DirectorySource, Person, source_secret
from collab.org.sync.connectors.ldap import ID_ATTRIBUTES, first_value

logger = logging.getLogger(__name__)


class LdapBackend:
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not username or not password:
            return None
        for source in DirectorySource.objects.filter(kind=DirectorySource.Kind.LDAP, sign_in=True):
            subject = _bind(source, username, password)
            if subject:
                person = (
                    Person.objects.select_related("user")
                    .filter(source=source, source_user_id=subject)
                    .first()
                )
                if person is not None and person.user.is_active:
                    return person.user
        return None

    def get_user(self, user_id: int) -> Any:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _bind(source: DirectorySource, username: str, password: str) -> str:
    """The entry's ID when ``password`` is this user's directory password, else ""."""
    try:
        server = ldap3.Server(
            source.base_url or "ldap://127.0.0.1:389", get_info=ldap3.NONE, connect_timeout=10
        )
        with ldap3.Connection(
            server,
            user=source.app_id or None,
            password=source_secret(source) or None,
            auto_bind=True,
            read_only=True,
        ) as finder:
            name = escape_filter_chars(username)
            finder.search(
                source.user_base.strip() or source.root_department_id.strip(),
                f"(|(uid={name})(sAMAccountName={name}))",
                attributes=ID_ATTRIBUTES,
                size_limit=2,
            )
            entries = [e for e in finder.response or [] if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            return ""
        entry = entries[0]
        checker = ldap3.Connection(server, user=entry["dn"], password=password, read_only=True)
        if not checker.bind():
            return ""
        checker.unbind()
        return first_value(entry, *ID_ATTRIBUTES) or str(entry["dn"]).lower()
    except LDAPException as error:
        logger.warning("LDAP sign-in through %s failed: %s", source.name, type(error).__name__)
        return ""
