"""a bailiff's referral file waiting for his confirmation on the pages

- `upload_previews`: the file a bailiff uploaded on the pages, checked and shown to him,
  kept until he confirms it (it then becomes an import job) or for 30 minutes; keyed by
  the sha256 of the random token in the preview page's address, and tied to its user.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_previews",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_upload_previews_user_id", "upload_previews", ["user_id"])
    op.create_index("ix_upload_previews_expires_at", "upload_previews", ["expires_at"])


def downgrade() -> None:
    op.drop_table("upload_previews")
