"""running totals for /metrics, kept by triggers

- `metric_counts` (metric, label, n): cases by state, history records by event, outbox
  messages by status, terms missed; filled from the rows already stored.
- `metric_deltas`: PostgreSQL's triggers append changes here (no row that every writer
  must lock); `workflow.counters.fold` adds them to `metric_counts`.
- the triggers themselves: `workflow/migrations/counters.py`.

A scrape of `/metrics` used to count the history, the outbox and the cases each time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow.migrations import counters

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_counts",
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "label"),
    )
    op.create_table(
        "metric_deltas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    counters.create()


def downgrade() -> None:
    counters.drop()
    op.drop_table("metric_deltas")
    op.drop_table("metric_counts")
