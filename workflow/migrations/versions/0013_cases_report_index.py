"""the statistics page read from one covering index; a region's cases in term order

- `ix_cases_report` on `cases (region, opened_at, centre, state, origin, agreed_at,
  agreement_days` and the five tallies`)`: every read of the report and its trends (the
  groups by state, origin and centre; the referrals and agreements per day; the ranked
  days to agreement) is a range of this index for a region's period, with no lookup of
  the table's rows. Those lookups were most of the statistics page's time on SQLite:
  a region's 30,000 cases read through `ix_cases_scope_state` cost 58 ms a pass, the
  same rows from this index 3 ms (docs/performance.md, section 9).
- `ix_cases_region_due` on `cases (region, term_due_at)`: a region's case list sorted by
  term end reads its cases with a running term in index order, then those without one
  by id (`workflow.search`), and stops at the page: `ix_cases_scope_due` gives that
  order within a centre only, so a region's 6,700 open cases were sorted (26 -> 2 ms).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = [
    "region", "opened_at", "centre", "state", "origin", "agreed_at", "agreement_days",
    "consultations", "sessions", "reminders", "escalations", "terms_missed",
]  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_cases_report", "cases", COLUMNS)
    op.create_index("ix_cases_region_due", "cases", ["region", "term_due_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_region_due", table_name="cases")
    op.drop_index("ix_cases_report", table_name="cases")
