"""access log of unmasked reads

Every read of personal data in full (an API read or export with `unmasked=true`, "Show
it in full" on the pages, `--unmasked` in the CLI) is appended here with who, role,
when, which case or export scope, and the reason the reader gave. Append-only by
convention: nothing updates or deletes its rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_case_id", "access_log", ["case_id"])
    op.create_index("ix_access_log_region_at", "access_log", ["region", "at"])


def downgrade() -> None:
    op.drop_index("ix_access_log_region_at", table_name="access_log")
    op.drop_index("ix_access_log_case_id", table_name="access_log")
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_table("access_log")
