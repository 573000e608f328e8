"""history is append-only

Triggers refuse UPDATE and DELETE on the history (and TRUNCATE on PostgreSQL), so that
even a bug or a stray SQL session of the application cannot rewrite it. Someone with DDL
rights can still drop them; that is what the hash chains and the signed exported heads
catch (DESIGN.md rule 4). On PostgreSQL the application's own role should have no
UPDATE/DELETE rights on these tables at all: `tatulasu db grant-app-role`.

SQLite: a later migration that rebuilds a history table in batch mode (copy and rename)
loses these triggers and must create them again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from workflow.migrations import append_only

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The history tables as of this revision (frozen here: later tables get their own).
HISTORY = ("audit_events",)


def upgrade() -> None:
    append_only.create_function()
    for table in HISTORY:
        append_only.protect(table)


def downgrade() -> None:
    for table in HISTORY:
        append_only.unprotect(table)
    append_only.drop_function()
