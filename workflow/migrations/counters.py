"""Triggers that keep the running totals `/metrics` reads (`workflow/counters.py`).

A scrape must not count a table that grows for years (the history, the outbox, the
cases), so the database keeps the totals as rows change. Nothing can change a counted
row without its trigger: the engine, a bailiff's file stored by COPY, the dispatcher, a
stray SQL session alike; a rolled-back transaction rolls its counts back with it.

- SQLite (one writer at a time): row triggers add each change straight into
  `metric_counts` (an UPSERT).
- PostgreSQL (many writers): the same change is appended to `metric_deltas`, since a
  total's row that every event updated would be locked by each writer to its commit, and
  all events of a kind would queue behind one another. `counters.fold` moves the deltas
  into the totals. Inserts are counted per statement (`REFERENCING NEW TABLE`), so a
  COPY of 200,000 openings adds a few rows, not 200,000; updates and deletes per row,
  and only when a counted column changed (the trigger's `WHEN`), so an event that
  leaves the state as it was costs nothing.

SQLite: a later migration that rebuilds a counted table in batch mode (copy and rename)
loses these triggers and must create them again. Names are part of the stored schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op


@dataclass(frozen=True)
class Counted:
    """A table whose rows add to totals: each part is (metric, label, amount) of a row."""

    table: str
    parts: tuple[tuple[str, str, str], ...]
    watched: tuple[str, ...]  # columns whose change changes the totals; () = insert only


# As of revision 0011 (frozen here: a later change of what is counted is a new revision).
COUNTED = (
    Counted(
        "cases",
        (("cases", "state", "1"), ("terms_missed", "''", "terms_missed")),
        ("state", "terms_missed"),
    ),
    Counted("audit_events", (("events", "event", "1"),), ()),
    Counted("outbox", (("outbox", "status", "1"),), ("status",)),
)


def _rows(spec: Counted, row: str, sign: str, table: str = "") -> str:
    """The parts of `row` (NEW or OLD; or `r`, each row of the transition `table`)."""
    source = f" FROM {table} AS {row}" if table else ""
    return " UNION ALL ".join(
        f"SELECT '{metric}' AS metric, {_col(row, label)} AS label,"
        f" {sign}{_col(row, amount)} AS n{source}"
        for metric, label, amount in spec.parts
    )


def _col(row: str, expression: str) -> str:
    return expression if not expression.isidentifier() else f"{row}.{expression}"


def _grouped(selects: str) -> str:
    return (
        f"SELECT metric, label, sum(n) FROM ({selects}) AS d WHERE true"
        " GROUP BY metric, label HAVING sum(n) <> 0"
    )


def _changed(spec: Counted, differs: str) -> str:
    return " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in spec.watched)


def create() -> None:
    """The triggers of every counted table, and the totals of the rows already there."""
    for spec in COUNTED:
        if op.get_context().dialect.name == "postgresql":
            _create_postgresql(spec)
        else:
            _create_sqlite(spec)
        for metric, label, amount in spec.parts:
            group = f" GROUP BY {label}" if label.isidentifier() else ""
            op.execute(
                f"INSERT INTO metric_counts (metric, label, n) SELECT metric, label, n FROM"
                f" (SELECT '{metric}' AS metric, {label} AS label, sum({amount}) AS n"
                f" FROM {spec.table}{group}) AS t WHERE n <> 0"
            )


def _create_postgresql(spec: Counted) -> None:
    table, into = spec.table, "INSERT INTO metric_deltas (metric, label, n) "
    op.execute(
        f"CREATE OR REPLACE FUNCTION tatulasu_count_{table}_inserted() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN {into}{_grouped(_rows(spec, 'r', '', 'new_rows'))};"
        " RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_counted_insert AFTER INSERT ON {table}"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        f" EXECUTE FUNCTION tatulasu_count_{table}_inserted()"
    )
    if not spec.watched:
        return
    both = f"{_rows(spec, 'OLD', '-')} UNION ALL {_rows(spec, 'NEW', '')}"
    op.execute(
        f"CREATE OR REPLACE FUNCTION tatulasu_count_{table}_changed() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' THEN"
        f" {into}{_grouped(both)}; ELSE {into}{_grouped(_rows(spec, 'OLD', '-'))};"
        " END IF; RETURN NULL; END $$"
    )
    changed = _changed(spec, "IS DISTINCT FROM")
    op.execute(
        f"CREATE TRIGGER {table}_counted_update AFTER UPDATE ON {table} FOR EACH ROW"
        f" WHEN ({changed}) EXECUTE FUNCTION tatulasu_count_{table}_changed()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_counted_delete AFTER DELETE ON {table} FOR EACH ROW"
        f" EXECUTE FUNCTION tatulasu_count_{table}_changed()"
    )


def _create_sqlite(spec: Counted) -> None:
    table = spec.table
    upsert = (
        "INSERT INTO metric_counts (metric, label, n) {} ON CONFLICT (metric, label)"
        " DO UPDATE SET n = n + excluded.n; "
    )
    both = f"{_rows(spec, 'OLD', '-')} UNION ALL {_rows(spec, 'NEW', '')}"
    triggers = [("insert", "INSERT", "", _rows(spec, "NEW", ""))]
    if spec.watched:
        triggers += [
            ("update", "UPDATE", f" WHEN {_changed(spec, 'IS NOT')}", both),
            ("delete", "DELETE", "", _rows(spec, "OLD", "-")),
        ]
    for name, action, when, selects in triggers:
        op.execute(
            f"CREATE TRIGGER {table}_counted_{name} AFTER {action} ON {table}{when}"
            f" BEGIN {upsert.format(_grouped(selects))}END"
        )


def drop() -> None:
    for statement in drop_statements(op.get_context().dialect.name):
        op.execute(statement)


def drop_statements(dialect: str) -> list[str]:
    """What removes the triggers (the downgrade; `bench/counters.py` measures their cost)."""
    postgresql = dialect == "postgresql"
    statements = []
    for spec in COUNTED:
        on = f" ON {spec.table}" if postgresql else ""
        statements += [
            f"DROP TRIGGER IF EXISTS {spec.table}_counted_{name}{on}"
            for name in ("insert", "update", "delete")
        ]
        if postgresql:
            statements += [
                f"DROP FUNCTION IF EXISTS tatulasu_count_{spec.table}_{kind}()"
                for kind in ("inserted", "changed")
            ]
    return statements
