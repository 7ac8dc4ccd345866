"""What a connector hands the sync engine: the source's departments and users, fetched whole.

A connector fetches everything before the engine touches the database, so a fetch that fails
half-way (a network error, a vendor error code on page 7) changes nothing.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _


class DirectoryError(Exception):
    """The source could not be read or described an impossible tree. The text is shown to admins
    and stored: it never contains a token or a secret."""


@dataclass(frozen=True)
class SourceDepartment:
    id: str
    name: str
    # Empty: a top-level department (its parent is the company root or outside the synced tree).
    parent_id: str = ""
    # The source's managers/leaders, first one is the head.
    head_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceUser:
    id: str
    name: str
    # The first one the sync knows is the person's department.
    department_ids: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""
    position: str = ""
    # The login name to give a new person (LDAP's uid); empty: "<kind>-<id>".
    username: str = ""


@dataclass
class Snapshot:
    departments: list[SourceDepartment] = field(default_factory=list)
    users: list[SourceUser] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "departments": [asdict(d) for d in self.departments],
            "users": [asdict(u) for u in self.users],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Snapshot":
        return cls(
            departments=[
                SourceDepartment(**{**d, "head_ids": tuple(d["head_ids"])}) for d in data["departments"]
            ],
            users=[SourceUser(**{**u, "department_ids": tuple(u["department_ids"])}) for u in data["users"]],
        )

    def ordered_departments(self) -> list[SourceDepartment]:
        """The departments parents first, after checking the tree is one: unique IDs, no cycle,
        no two siblings with one name. Parents outside the snapshot make a department top-level."""
        by_id: dict[str, SourceDepartment] = {}
        for department in self.departments:
            if department.id in by_id:
                raise DirectoryError(
                    _("The directory lists department ID %(id)s twice.") % {"id": department.id}
                )
            if not department.name.strip():
                raise DirectoryError(
                    _("The directory's department %(id)s has no name.") % {"id": department.id}
                )
            by_id[department.id] = department
        siblings: set[tuple[str, str]] = set()
        for department in self.departments:
            key = (self.parent_of(department, by_id), department.name.strip())
            if key in siblings:
                raise DirectoryError(
                    _('The directory has two departments named "%(name)s" under the same parent.')
                    % {"name": department.name}
                )
            siblings.add(key)
        ordered: list[SourceDepartment] = []
        placed: set[str] = set()
        for department in self.departments:
            chain: list[SourceDepartment] = []
            current: SourceDepartment | None = department
            while current is not None and current.id not in placed:
                if current in chain:
                    raise DirectoryError(
                        _("The directory's departments form a cycle at %(name)s.") % {"name": current.name}
                    )
                chain.append(current)
                parent_id = self.parent_of(current, by_id)
                current = by_id[parent_id] if parent_id else None
            for link in reversed(chain):
                ordered.append(link)
                placed.add(link.id)
        return ordered

    @staticmethod
    def parent_of(department: SourceDepartment, by_id: dict[str, SourceDepartment]) -> str:
        return department.parent_id if department.parent_id in by_id else ""
