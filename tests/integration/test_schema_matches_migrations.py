"""The tables the migrations build are the tables `workflow/schema.py` declares.

The code reads through `schema.py`; a database is built by the migrations. An index
declared in one and not the other (or a column) would pass every other test on a fresh
store and still differ in production, so Alembic's own comparison must find nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow.schema import metadata
from workflow.store import Store


def test_the_migrated_schema_is_the_declared_one(store: Store) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def _case_indexes(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {str(ix["name"]) for ix in sa.inspect(conn).get_indexes("cases")}


def test_migration_0010_down_and_up_removes_and_restores_the_term_due_index(
    store: Store,
) -> None:
    assert "ix_cases_scope_due" in _case_indexes(store)
    store.downgrade("0009")
    assert "ix_cases_scope_due" not in _case_indexes(store)
    store.migrate()
    assert "ix_cases_scope_due" in _case_indexes(store)
