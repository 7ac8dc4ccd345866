"""LDAP / Active Directory, read with ldap3 (pure Python) over ldap:// or ldaps://.

- Bind: the source's application ID is the bind DN, its secret the password (a read-only account).
- Departments: the organizational units under the root base DN (``root_department_id``); an OU's
  parent is the OU that contains it. Their ID is the entry's ``entryUUID`` (OpenLDAP) or
  ``objectGUID`` (Active Directory), so renaming or moving an OU keeps its identity.
- People: person entries under ``user_base`` (default: the root base), their department the OU
  that contains them; login name from ``uid`` or ``sAMAccountName``. AD accounts disabled by
  ``userAccountControl`` are left out.
- Heads: the OU's ``managedBy`` (AD) when set; else the person most of the department's people
  name in their ``manager`` attribute.
- Paged searches (500 entries a page), so a directory over the server's size limit comes whole.
"""

from collections import Counter
from typing import Any

import ldap3
from django.utils.translation import gettext as _
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import parse_dn

from collab.org.models import DirectorySource, source_secret
from collab.org.sync.snapshot import DirectoryError, Snapshot, SourceDepartment, SourceUser

PAGE_SIZE = 500
ACCOUNT_DISABLED = 0x2
ID_ATTRIBUTES = ["entryUUID", "objectGUID"]


def _parent_dn(dn: str) -> str:
    parts = parse_dn(dn, escape=True)
    return ",".join(f"{attr}={value}" for attr, value, _sep in parts[1:]).lower()


def first_value(entry: dict[str, Any], *names: str) -> str:
    for name in names:
        value = entry["attributes"].get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value:
            return str(value)
    return ""


def _search(
    connection: ldap3.Connection, base: str, search_filter: str, attributes: list[str]
) -> list[dict[str, Any]]:
    entries = connection.extend.standard.paged_search(
        base, search_filter, ldap3.SUBTREE, attributes=attributes, paged_size=PAGE_SIZE, generator=False
    )
    return [e for e in entries if e.get("type") == "searchResEntry"]


def fetch(source: DirectorySource) -> Snapshot:
    base = source.root_department_id.strip()
    if not base:
        raise DirectoryError(_("An LDAP source needs the base DN of its departments."))
    try:
        server = ldap3.Server(
            source.base_url or "ldap://127.0.0.1:389", get_info=ldap3.NONE, connect_timeout=10
        )
        connection = ldap3.Connection(
            server,
            user=source.app_id or None,
            password=source_secret(source) or None,
            auto_bind=True,
            read_only=True,
            receive_timeout=30,
        )
        with connection:
            units = _search(
                connection, base, "(objectClass=organizationalUnit)", ["ou", "managedBy", *ID_ATTRIBUTES]
            )
            people = _search(
                connection,
                source.user_base.strip() or base,
                "(|(objectClass=inetOrgPerson)(&(objectClass=user)(objectCategory=person)))",
                [
                    "uid",
                    "sAMAccountName",
                    "cn",
                    "displayName",
                    "mail",
                    "mobile",
                    "title",
                    "manager",
                    "userAccountControl",
                    *ID_ATTRIBUTES,
                ],
            )
    except LDAPException as error:
        raise DirectoryError(_("The LDAP server refused the request: %(error)s") % {"error": error}) from None
    unit_ids = {e["dn"].lower(): first_value(e, *ID_ATTRIBUTES) or e["dn"].lower() for e in units}
    base_dn = base.lower()
    members: dict[str, list[str]] = {}
    managers: dict[str, Counter[str]] = {}
    users: list[SourceUser] = []
    person_ids: dict[str, str] = {}
    for entry in people:
        person_ids[entry["dn"].lower()] = first_value(entry, *ID_ATTRIBUTES) or entry["dn"].lower()
    for entry in people:
        flags = entry["attributes"].get("userAccountControl")
        if isinstance(flags, int) and flags & ACCOUNT_DISABLED:
            continue
        user_id = person_ids[entry["dn"].lower()]
        unit = _parent_dn(entry["dn"])
        department = unit_ids.get(unit, "")
        if department:
            members.setdefault(department, []).append(user_id)
            manager = person_ids.get(first_value(entry, "manager").lower())
            if manager and manager != user_id:
                managers.setdefault(department, Counter())[manager] += 1
        users.append(
            SourceUser(
                id=user_id,
                name=first_value(entry, "displayName", "cn") or first_value(entry, "uid", "sAMAccountName"),
                department_ids=(department,) if department else (),
                email=first_value(entry, "mail"),
                phone=first_value(entry, "mobile"),
                position=first_value(entry, "title"),
                username=first_value(entry, "uid", "sAMAccountName"),
            )
        )
    departments = []
    for entry in units:
        dn = entry["dn"].lower()
        if dn == base_dn:
            continue  # the base itself is the company, not a department
        unit_id = unit_ids[dn]
        managed_by = person_ids.get(first_value(entry, "managedBy").lower())
        head = managed_by or (managers[unit_id].most_common(1)[0][0] if unit_id in managers else "")
        parent = _parent_dn(entry["dn"])
        departments.append(
            SourceDepartment(
                id=unit_id,
                name=first_value(entry, "ou") or entry["dn"].split(",")[0].split("=", 1)[-1],
                parent_id=unit_ids[parent] if parent in unit_ids and parent != base_dn else "",
                head_ids=(head,) if head else (),
            )
        )
    return Snapshot(departments=departments, users=users)
