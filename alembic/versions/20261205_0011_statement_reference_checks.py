"""Check the references of devices, events and coverages once per statement on PostgreSQL

PostgreSQL checks a foreign key with one query per inserted row. For a bulk import that is
more than half of the server's work: 100,000 devices with their events and coverages took
4.1 s of server time with the foreign keys below and 1.9 s without them. Here those keys
become triggers that check all rows of a statement with one query per reference. They lock
the rows they find as the foreign keys did (FOR KEY SHARE), and they raise the same error:
SQLSTATE 23503 with the same constraint name and message. SQLite keeps its foreign keys.

What the foreign keys did and the triggers do:
- a row inserted into a child table must name an existing parent row (once per statement);
- a child row whose reference changes must name an existing parent row (once per row);
- a parent row still referenced may not be deleted, nor its id changed.

NOTE: unlike a foreign key, the triggers do not refuse TRUNCATE of a parent table, and a
delete racing a new reference is caught only under READ COMMITTED, the service's isolation
level: a REPEATABLE READ delete would not see a reference committed after it started.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (child table, column, parent table); the parent's key is its id.
REFERENCES = (
    ("devices", "model_id", "device_models"),
    ("devices", "site_id", "sites"),
    ("device_events", "device_id", "devices"),
    ("device_events", "site_id", "sites"),
    ("device_events", "technician_id", "technicians"),
    ("device_events", "actor_user_id", "users"),
    ("warranty_coverages", "device_id", "devices"),
)


def _quoted(schema: str, table: str) -> str:
    # The functions name their tables with the schema, because an unqualified name would be
    # looked up on each call in the caller's search_path, where a temporary table comes
    # first.
    return f'"{schema}"."{table}"'


def _constraint(child: str, column: str, parent: str) -> str:
    return f"fk_{child}_{column}_{parent}"


def _tables(position: int) -> list[str]:
    return list(dict.fromkeys(reference[position] for reference in REFERENCES))


def _missing_parent(child: str, column: str, parent: str, key: str) -> str:
    """PL/pgSQL raising the error PostgreSQL's own foreign key raises, for key `key`."""
    name = _constraint(child, column, parent)
    return f"""
        RAISE EXCEPTION 'insert or update on table "{child}" violates foreign key constraint "{name}"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{child}', CONSTRAINT = '{name}',
                  DETAIL = format('Key ({column})=(%s) is not present in table "{parent}".', {key});"""


def _insert_check(schema: str, child: str) -> list[str]:
    """A statement trigger's function: every reference of the inserted rows must exist.

    The rows found are locked, and their ids kept, so a missing key is named even when
    another transaction has since put a row with that id back.
    """
    checks = []
    for table, column, parent in REFERENCES:
        if table != child:
            continue
        checks.append(f"""
    found := ARRAY(
        SELECT id FROM {_quoted(schema, parent)}
        WHERE id IN (SELECT {column} FROM new_rows) FOR KEY SHARE
    );
    IF cardinality(found) < (SELECT count(DISTINCT {column}) FROM new_rows) THEN
        SELECT n.{column} INTO missing FROM new_rows AS n
        WHERE n.{column} IS NOT NULL AND n.{column} <> ALL (found)
        LIMIT 1;{_missing_parent(child, column, parent, "missing")}
    END IF;""")  # noqa: S608 (fixed names)
    return [
        f"""CREATE FUNCTION {child}_insert_references() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    found bigint[];
    missing bigint;
BEGIN{"".join(checks)}
    RETURN NULL;
END
$body$""",
        f"""CREATE TRIGGER {child}_insert_references AFTER INSERT ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION {child}_insert_references()""",
    ]


def _update_check(schema: str, child: str) -> list[str]:
    """A row trigger's function: a reference that changes must exist."""
    columns = [column for table, column, _ in REFERENCES if table == child]
    checks = []
    for table, column, parent in REFERENCES:
        if table != child:
            continue
        checks.append(f"""
    IF NEW.{column} IS NOT NULL AND NEW.{column} IS DISTINCT FROM OLD.{column} THEN
        PERFORM 1 FROM {_quoted(schema, parent)} WHERE id = NEW.{column} FOR KEY SHARE;
        IF NOT FOUND THEN{_missing_parent(child, column, parent, f"NEW.{column}")}
        END IF;
    END IF;""")
    changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)
    return [
        f"""CREATE FUNCTION {child}_update_references() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN{"".join(checks)}
    RETURN NULL;
END
$body$""",
        f"""CREATE TRIGGER {child}_update_references AFTER UPDATE OF {", ".join(columns)} ON {child}
    FOR EACH ROW WHEN ({changed})
    EXECUTE FUNCTION {child}_update_references()""",
    ]


def _still_referenced(schema: str, parent: str, rows: str) -> str:
    """PL/pgSQL raising PostgreSQL's error if a child row references an id in `rows`."""
    checks = []
    for child, column, table in REFERENCES:
        if table != parent:
            continue
        name = _constraint(child, column, parent)
        checks.append(f"""
    SELECT o.id INTO referenced FROM {rows} AS o
    WHERE EXISTS (SELECT 1 FROM {_quoted(schema, child)} AS c WHERE c.{column} = o.id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "{parent}" violates foreign key constraint "{name}" on table "{child}"'
            USING ERRCODE = 'foreign_key_violation', TABLE = '{child}', CONSTRAINT = '{name}',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "{child}".', referenced);
    END IF;""")  # noqa: S608 (fixed names)
    return "".join(checks)


def _parent_checks(schema: str, parent: str) -> list[str]:
    """Triggers keeping a referenced parent row from being deleted or getting another id."""
    return [
        f"""CREATE FUNCTION {parent}_delete_references() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    referenced bigint;
BEGIN{_still_referenced(schema, parent, "old_rows")}
    RETURN NULL;
END
$body$""",
        f"""CREATE TRIGGER {parent}_delete_references AFTER DELETE ON {parent}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION {parent}_delete_references()""",
        f"""CREATE FUNCTION {parent}_rekey_references() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    referenced bigint;
BEGIN{_still_referenced(schema, parent, "(SELECT OLD.id AS id)")}
    RETURN NULL;
END
$body$""",
        f"""CREATE TRIGGER {parent}_rekey_references AFTER UPDATE OF id ON {parent}
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION {parent}_rekey_references()""",
    ]


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for child, column, parent in REFERENCES:
        op.drop_constraint(_constraint(child, column, parent), child, type_="foreignkey")
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    statements = [statement for child in _tables(0) for statement in _insert_check(schema, child)]
    statements += [statement for child in _tables(0) for statement in _update_check(schema, child)]
    statements += [
        statement for parent in _tables(2) for statement in _parent_checks(schema, parent)
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for child in _tables(0):
        for kind in ("insert", "update"):
            op.execute(f"DROP TRIGGER {child}_{kind}_references ON {child}")
            op.execute(f"DROP FUNCTION {child}_{kind}_references()")
    for parent in _tables(2):
        for kind in ("delete", "rekey"):
            op.execute(f"DROP TRIGGER {parent}_{kind}_references ON {parent}")
            op.execute(f"DROP FUNCTION {parent}_{kind}_references()")
    for child, column, parent in REFERENCES:
        op.create_foreign_key(_constraint(child, column, parent), child, parent, [column], ["id"])
