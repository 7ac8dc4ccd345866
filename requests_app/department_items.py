"""The database triggers that keep ``DepartmentItem`` (one row per department an item involves,
with a copy of what the department board ranks by) equal to the items and their participations.

Kept by the database rather than by the services: an item's status, number and health facts
are written by several doors (the status door, ``item_health_refresh`` and its compiled
single-item UPDATE, the warning sweep's batches, the importer, the admin, the benchmark's
generator), and a copy that one of them forgot would rank a department's items wrong in
silence. A trigger runs whatever writes the row.

- An item inserted: a row for its requesting department, and for the departments of
  participations written before it (foreign keys are checked at commit).
- An item updated: its rows take the copied columns when one of them changed; a changed
  requesting department moves that row (kept while the department also participates).
- A participation inserted: a row for its department, unless there is one.
- A participation deleted (or moved): its department's row goes, unless the department still
  takes part through another participation or requests the item.
- An item deleted: its rows go with it (the foreign key's CASCADE).

The SQL is written for both databases the project runs on (PostgreSQL: PL/pgSQL functions and
row triggers with WHEN conditions; SQLite: trigger bodies). ``copies`` are the column names
copied, the same on both tables; a migration passes its own frozen list. Migration 0017 runs
what this module says: a change to the triggers needs a migration of its own that drops and
creates them again (``drop_sql``, ``create_sql``), or existing databases keep the old ones.
"""

# ruff: noqa: S608 (SQL built from this module's own table and column names, no input)
from collections.abc import Sequence

ITEMS = "requests_app_collaborationitem"
PARTICIPATIONS = "requests_app_participation"
ROWS = "requests_app_departmentitem"

_ITEM_FUNCTION = "department_items_of_item"
_PARTICIPATION_FUNCTION = "department_items_of_participation"
_TRIGGERS = {
    # name: table
    "department_items_item_insert": ITEMS,
    "department_items_item_update": ITEMS,
    "department_items_item_department": ITEMS,
    "department_items_participation_change": PARTICIPATIONS,
    "department_items_participation_insert": PARTICIPATIONS,
    "department_items_participation_delete": PARTICIPATIONS,
    "department_items_participation_update": PARTICIPATIONS,
}


def _columns(copies: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{column}" for column in copies)


def _still_involved(item: str, department: str) -> str:
    """SQL true while ``department`` takes part in ``item`` (both SQL expressions)."""
    return (
        f"EXISTS (SELECT 1 FROM {PARTICIPATIONS} p"
        f" WHERE p.item_id = {item} AND p.department_id = {department})"
        f" OR EXISTS (SELECT 1 FROM {ITEMS} i"
        f" WHERE i.id = {item} AND i.requesting_department_id = {department})"
    )


def _drop_unless_involved(item: str, department: str) -> str:
    return (
        f"DELETE FROM {ROWS} WHERE item_id = {item} AND department_id = {department}"
        f" AND NOT ({_still_involved(item, department)})"
    )


def fill_sql(copies: Sequence[str]) -> str:
    """The rows of every existing item (a migration's backfill)."""
    return (
        f"INSERT INTO {ROWS} (department_id, item_id, {_columns(copies)}) "
        f"SELECT d.department_id, i.id, {_columns(copies, 'i.')} FROM ("
        f"SELECT requesting_department_id AS department_id, id AS item_id FROM {ITEMS} "
        f"UNION SELECT department_id, item_id FROM {PARTICIPATIONS}"
        f") d JOIN {ITEMS} i ON i.id = d.item_id"
    )


def create_sql(vendor: str, copies: Sequence[str]) -> list[str]:
    """The statements that create the triggers on ``vendor`` ("postgresql" or "sqlite")."""
    if vendor == "postgresql":
        return _postgresql(copies)
    if vendor == "sqlite":
        return _sqlite(copies)
    raise NotImplementedError(f"department item triggers for {vendor}")


def drop_sql(vendor: str) -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in _TRIGGERS.items()]
    if vendor == "postgresql":
        return [
            *statements,
            f"DROP FUNCTION IF EXISTS {_ITEM_FUNCTION}()",
            f"DROP FUNCTION IF EXISTS {_PARTICIPATION_FUNCTION}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS]


def _changed(copies: Sequence[str]) -> str:
    """SQLite: true when one of the copied columns changed (NULL-safe)."""
    return " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in copies)


def _postgresql(copies: Sequence[str]) -> list[str]:
    insert_new = (
        f"INSERT INTO {ROWS} (department_id, item_id, {_columns(copies)}) "
        f"VALUES (NEW.requesting_department_id, NEW.id, {_columns(copies, 'NEW.')}) "
        "ON CONFLICT (department_id, item_id) DO NOTHING"
    )
    # Participations written before their item (the foreign keys are checked at commit).
    insert_participating = (
        f"INSERT INTO {ROWS} (department_id, item_id, {_columns(copies)}) "
        f"SELECT p.department_id, NEW.id, {_columns(copies, 'NEW.')} FROM {PARTICIPATIONS} p "
        "WHERE p.item_id = NEW.id ON CONFLICT (department_id, item_id) DO NOTHING"
    )
    set_copies = f"({_columns(copies)}) = ({_columns(copies, 'NEW.')})"
    item_function = f"""
CREATE OR REPLACE FUNCTION {_ITEM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert_new};
        {insert_participating};
        RETURN NULL;
    END IF;
    IF NEW.requesting_department_id IS DISTINCT FROM OLD.requesting_department_id THEN
        {_drop_unless_involved("OLD.id", "OLD.requesting_department_id")};
        {insert_new};
    END IF;
    UPDATE {ROWS} SET {set_copies} WHERE item_id = NEW.id;
    RETURN NULL;
END
$$"""
    participation_function = f"""
CREATE OR REPLACE FUNCTION {_PARTICIPATION_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        {_drop_unless_involved("OLD.item_id", "OLD.department_id")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO {ROWS} (department_id, item_id, {_columns(copies)})
        SELECT NEW.department_id, i.id, {_columns(copies, "i.")} FROM {ITEMS} i WHERE i.id = NEW.item_id
        ON CONFLICT (department_id, item_id) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$"""
    watched = ["requesting_department_id", *copies]
    return [
        item_function,
        participation_function,
        f"CREATE TRIGGER department_items_item_insert AFTER INSERT ON {ITEMS} "
        f"FOR EACH ROW EXECUTE FUNCTION {_ITEM_FUNCTION}()",
        f"CREATE TRIGGER department_items_item_update AFTER UPDATE ON {ITEMS} FOR EACH ROW "
        f"WHEN (({_columns(watched, 'OLD.')}) IS DISTINCT FROM ({_columns(watched, 'NEW.')})) "
        f"EXECUTE FUNCTION {_ITEM_FUNCTION}()",
        f"CREATE TRIGGER department_items_participation_change AFTER INSERT OR DELETE ON {PARTICIPATIONS} "
        f"FOR EACH ROW EXECUTE FUNCTION {_PARTICIPATION_FUNCTION}()",
        f"CREATE TRIGGER department_items_participation_update AFTER UPDATE ON {PARTICIPATIONS} "
        "FOR EACH ROW WHEN ((OLD.item_id, OLD.department_id) "
        "IS DISTINCT FROM (NEW.item_id, NEW.department_id)) "
        f"EXECUTE FUNCTION {_PARTICIPATION_FUNCTION}()",
    ]


def _sqlite(copies: Sequence[str]) -> list[str]:
    def insert_new(department: str, item: str, join: str = "") -> str:
        return (
            f"INSERT OR IGNORE INTO {ROWS} (department_id, item_id, {_columns(copies)}) "
            f"SELECT {department}, i.id, {_columns(copies, 'i.')} FROM {ITEMS} i{join} WHERE i.id = {item}"
        )

    # Participations written before their item (the foreign keys are checked at commit).
    participating = insert_new("p.department_id", "NEW.id", f" JOIN {PARTICIPATIONS} p ON p.item_id = i.id")

    set_copies = ", ".join(f"{column} = NEW.{column}" for column in copies)
    return [
        f"CREATE TRIGGER department_items_item_insert AFTER INSERT ON {ITEMS} BEGIN "
        f"{insert_new('NEW.requesting_department_id', 'NEW.id')}; {participating}; END",
        f"CREATE TRIGGER department_items_item_update AFTER UPDATE ON {ITEMS} "
        f"WHEN {_changed(copies)} BEGIN "
        f"UPDATE {ROWS} SET {set_copies} WHERE item_id = NEW.id; END",
        "CREATE TRIGGER department_items_item_department "
        f"AFTER UPDATE OF requesting_department_id ON {ITEMS} "
        "WHEN OLD.requesting_department_id IS NOT NEW.requesting_department_id BEGIN "
        f"{_drop_unless_involved('OLD.id', 'OLD.requesting_department_id')}; "
        f"{insert_new('NEW.requesting_department_id', 'NEW.id')}; END",
        f"CREATE TRIGGER department_items_participation_insert AFTER INSERT ON {PARTICIPATIONS} BEGIN "
        f"{insert_new('NEW.department_id', 'NEW.item_id')}; END",
        f"CREATE TRIGGER department_items_participation_delete AFTER DELETE ON {PARTICIPATIONS} BEGIN "
        f"{_drop_unless_involved('OLD.item_id', 'OLD.department_id')}; END",
        f"CREATE TRIGGER department_items_participation_update AFTER UPDATE OF item_id, department_id "
        f"ON {PARTICIPATIONS} "
        "WHEN OLD.item_id IS NOT NEW.item_id OR OLD.department_id IS NOT NEW.department_id "
        f"BEGIN {_drop_unless_involved('OLD.item_id', 'OLD.department_id')}; "
        f"{insert_new('NEW.department_id', 'NEW.item_id')}; END",
    ]
