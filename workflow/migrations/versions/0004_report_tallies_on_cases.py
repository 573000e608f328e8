"""report tallies on cases

Running counts for the supervisor report (workflow/tallies.py), filled for the cases
already stored by counting their history the way the report used to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COUNTED = {
    "consultations": "record_consultation",
    "sessions": "record_session",
    "reminders": "remind",
    "escalations": "escalate",
}
# The events a term's expiry fires that move the case, in every lifecycle version so far.
EXPIRY_MOVES = ("fail", "no_consent")
# Events that give the running term a new due date without moving the case.
REPLANS = ("extend", "resume")
BY_SYSTEM = "role = 'system' AND actor = 'system'"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in (*COUNTED, "terms_missed"):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("escalated_due_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("agreement_days", sa.Float(), nullable=True))
    # One pass over the history, grouped by case (not a subquery per case and column).
    counts = ",\n".join(
        f"sum(CASE WHEN event = '{event}' THEN 1 ELSE 0 END) AS {column}"
        for column, event in COUNTED.items()
    )
    moves = ", ".join(f"'{event}'" for event in EXPIRY_MOVES)
    replans = ", ".join(f"'{event}'" for event in REPLANS)
    op.execute(
        f"""
        UPDATE cases SET
            {", ".join(f"{column} = t.{column}" for column in COUNTED)},
            agreed_at = t.agreed_at,
            terms_missed = t.moved + t.escalated_terms,
            escalated_due_at = CASE WHEN t.last_escalation > t.last_replan
                                    THEN cases.term_due_at END
        FROM (
            SELECT case_id,
                {counts},
                min(CASE WHEN event = 'reach_agreement' THEN at END) AS agreed_at,
                sum(CASE WHEN event IN ({moves}) AND {BY_SYSTEM} THEN 1 ELSE 0 END) AS moved,
                count(DISTINCT CASE WHEN event = 'escalate' AND {BY_SYSTEM}
                                    THEN payload END) AS escalated_terms,
                max(CASE WHEN event = 'escalate' AND {BY_SYSTEM} THEN seq END)
                    AS last_escalation,
                max(CASE WHEN from_state <> to_state OR event IN ({replans}) THEN seq END)
                    AS last_replan
            FROM audit_events GROUP BY case_id
        ) AS t
        WHERE cases.id = t.case_id
        """
    )
    if op.get_context().dialect.name == "postgresql":
        days = "EXTRACT(epoch FROM agreed_at - opened_at) / 86400"
    else:
        days = "julianday(agreed_at) - julianday(opened_at)"
    op.execute(f"UPDATE cases SET agreement_days = {days} WHERE agreed_at IS NOT NULL")
    op.create_index(
        "ix_cases_agreement",
        "cases",
        ["region", "centre", "opened_at"],
        postgresql_include=["agreement_days"],
        postgresql_where=sa.text("agreement_days IS NOT NULL"),
        sqlite_where=sa.text("agreement_days IS NOT NULL"),
    )


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch copy of `cases` would
    # have to drop the table that parties, timers and the history refer to.
    op.drop_index("ix_cases_agreement", table_name="cases")
    columns = ("agreement_days", "escalated_due_at", "agreed_at", "terms_missed")
    for column in (*columns, *reversed(COUNTED)):
        op.drop_column("cases", column)
