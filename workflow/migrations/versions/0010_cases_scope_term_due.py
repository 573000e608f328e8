"""the sort by term end within a scope read from an index

- `ix_cases_scope_due` on `cases (region, centre, term_due_at)`: the case list sorted by
  the nearest term end and the coordinator's work queue read a centre's cases in the
  order of their running term (the row id, the tie-break, ends every index entry), not
  by sorting every case of the scope (docs/performance.md, section 9).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-18 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_scope_due", "cases", ["region", "centre", "term_due_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_scope_due", table_name="cases")
