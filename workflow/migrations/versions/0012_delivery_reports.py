"""delivery reports of the SMS gateway

- `delivery_reports`: each report a gateway sent about a message (delivered to the
  handset, or undeliverable), keyed by the gateway's report id so that a report sent
  twice is recorded once; `body_sha256` tells a replay from a different report that
  reuses the id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_reports",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_reports_outbox_id", "delivery_reports", ["outbox_id"])


def downgrade() -> None:
    op.drop_table("delivery_reports")
