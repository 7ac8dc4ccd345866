"""The database's open-task guard: a task that is not done belongs to an item being planned or
carried out (planned or executing).

The services already keep this: tasks are broken down once an item is planned (the first task
plans it), a task becomes done when a deliverable of it is signed and stays done, an item is
archived only when every task has a signed deliverable, and an archived item takes no writes.
The guard makes it hold whatever writes the rows (the admin, a script, a future door), so the
boards and My work count a person's or a department's open tasks from the tasks' own open-task
indexes, without looking up each task's item to ask whether it is still live (most of the
department board's database time).

- A task written not done (inserted, reopened or moved to another item) on an item that is not
  planned or executing is refused.
- An item that leaves planned/executing while one of its tasks is not done is refused.

Both raise an integrity error (SQLite: RAISE(ABORT); PostgreSQL: SQLSTATE 23514). Migration 0008
runs what this module says: a change to the guard needs a migration of its own that drops it and
creates it again (``drop_sql``, ``create_sql``), or existing databases keep the old one.
"""

# The task triggers' refusal (SQLite has no functions of its own to share it).
_SQLITE_TASK_REFUSAL = """
        SELECT RAISE(ABORT, 'tasks_open_task_guard: an open task belongs to a planned or executing item')
        WHERE NOT EXISTS (
            SELECT 1 FROM requests_app_collaborationitem i
            WHERE i.id = NEW.item_id AND i.status IN ('planned', 'executing')
        );
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER tasks_open_task_guard_insert
    BEFORE INSERT ON tasks_app_task
    FOR EACH ROW WHEN NEW.status <> 'done'
    BEGIN{_SQLITE_TASK_REFUSAL}    END
    """,
    f"""
    CREATE TRIGGER tasks_open_task_guard_update
    BEFORE UPDATE OF status, item_id ON tasks_app_task
    FOR EACH ROW WHEN NEW.status <> 'done' AND (OLD.status = 'done' OR NEW.item_id <> OLD.item_id)
    BEGIN{_SQLITE_TASK_REFUSAL}    END
    """,
    """
    CREATE TRIGGER tasks_open_task_guard_item
    BEFORE UPDATE OF status ON requests_app_collaborationitem
    FOR EACH ROW WHEN NEW.status NOT IN ('planned', 'executing') AND OLD.status IN ('planned', 'executing')
    BEGIN
        SELECT RAISE(ABORT, 'tasks_open_task_guard: an item with open tasks stays planned or executing')
        WHERE EXISTS (SELECT 1 FROM tasks_app_task t WHERE t.item_id = NEW.id AND t.status <> 'done');
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_insert",
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_update",
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_item",
]

POSTGRESQL_FORWARD = [
    """
    CREATE FUNCTION tasks_open_task_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM requests_app_collaborationitem i
            WHERE i.id = NEW.item_id AND i.status IN ('planned', 'executing')
        ) THEN
            RAISE EXCEPTION 'tasks_open_task_guard: an open task belongs to a planned or executing item'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER tasks_open_task_guard_insert
    BEFORE INSERT ON tasks_app_task
    FOR EACH ROW WHEN (NEW.status <> 'done') EXECUTE FUNCTION tasks_open_task_guard()
    """,
    """
    CREATE TRIGGER tasks_open_task_guard_update
    BEFORE UPDATE OF status, item_id ON tasks_app_task
    FOR EACH ROW WHEN (NEW.status <> 'done' AND (OLD.status = 'done' OR NEW.item_id <> OLD.item_id))
    EXECUTE FUNCTION tasks_open_task_guard()
    """,
    """
    CREATE FUNCTION tasks_open_task_guard_item() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM tasks_app_task t WHERE t.item_id = NEW.id AND t.status <> 'done') THEN
            RAISE EXCEPTION 'tasks_open_task_guard: an item with open tasks stays planned or executing'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER tasks_open_task_guard_item
    BEFORE UPDATE OF status ON requests_app_collaborationitem
    FOR EACH ROW WHEN (NEW.status NOT IN ('planned', 'executing') AND OLD.status IN ('planned', 'executing'))
    EXECUTE FUNCTION tasks_open_task_guard_item()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_insert ON tasks_app_task",
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_update ON tasks_app_task",
    "DROP TRIGGER IF EXISTS tasks_open_task_guard_item ON requests_app_collaborationitem",
    "DROP FUNCTION IF EXISTS tasks_open_task_guard()",
    "DROP FUNCTION IF EXISTS tasks_open_task_guard_item()",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
}


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    statements = STATEMENTS.get(vendor)
    if statements is None:
        raise RuntimeError(f"No open-task guard for the {vendor} database.")
    return statements


def create_sql(vendor: str) -> list[str]:
    """The statements that create the guard on ``vendor`` ("postgresql" or "sqlite")."""
    return _statements(vendor)[0]


def drop_sql(vendor: str) -> list[str]:
    return _statements(vendor)[1]
