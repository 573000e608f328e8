"""import jobs; one open case per proceeding by a unique index; access log append-only

- `import_jobs`: a bailiff's referral file waits here until a runner (the clock's import
  lane) checks and opens it in the background; progress and the report are read back.
- `ux_cases_open_proceeding`: a partial unique index replaces the advisory lock per
  proceeding, so an import of 200,000 rows holds no lock per row (PostgreSQL's shared
  lock table) and two racing referrals of one proceeding still cannot both open.
- The access log gets the history's triggers: nothing updates or deletes its rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow.migrations import append_only

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = "closed_at IS NULL AND enforcement_proceeding IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("centre", sa.String(length=80), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_jobs_status", "import_jobs", ["status", "lease_until"])
    op.create_index(
        "ux_cases_open_proceeding",
        "cases",
        ["enforcement_proceeding"],
        unique=True,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    append_only.create_function()
    append_only.protect("access_log")


def downgrade() -> None:
    append_only.unprotect("access_log")
    op.drop_index("ux_cases_open_proceeding", table_name="cases")
    op.drop_index("ix_import_jobs_status", table_name="import_jobs")
    op.drop_table("import_jobs")
