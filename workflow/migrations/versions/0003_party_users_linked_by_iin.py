"""party users linked by IIN

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 20:28:25.655186
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("iin_bin", sa.String(length=12), nullable=True))
        batch_op.create_index("ix_users_iin_bin", ["iin_bin"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_iin_bin")
        batch_op.drop_column("iin_bin")
