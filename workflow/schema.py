"""The stored shape of cases, parties, the history, timers, the outbox and idempotency keys.

SQLModel declares the tables (Alembic migrations are generated from them); the hot path
uses the same tables through SQLAlchemy Core (`Case.__table__` etc.), not ORM sessions.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

UtcDateTime = sa.DateTime(timezone=True)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_scope_state", "region", "centre", "state"),
        # The sort by term end and the work queue of a centre (migration 0010).
        sa.Index("ix_cases_scope_due", "region", "centre", "term_due_at"),
        # ... and within a region, for its case list sorted by term end (0013).
        sa.Index("ix_cases_region_due", "region", "term_due_at"),
        sa.Index("ix_cases_enforcement", "enforcement_proceeding"),
        # The statistics page: a region's period read from the index alone (0013).
        sa.Index(
            "ix_cases_report",
            *("region", "opened_at", "centre", "state", "origin", "agreed_at"),
            *("agreement_days", "consultations", "sessions", "reminders", "escalations"),
            "terms_missed",
        ),
        # One open case per enforcement proceeding, kept by the database itself: two
        # referrals of one proceeding racing each other cannot both commit (no locks).
        sa.Index(
            "ux_cases_open_proceeding",
            "enforcement_proceeding",
            unique=True,
            postgresql_where=sa.text("closed_at IS NULL AND enforcement_proceeding IS NOT NULL"),
            sqlite_where=sa.text("closed_at IS NULL AND enforcement_proceeding IS NOT NULL"),
        ),
        # The report's days to agreement: an index-only scan per scope, no table read.
        sa.Index(
            "ix_cases_agreement",
            "region",
            "centre",
            "opened_at",
            postgresql_include=["agreement_days"],
            postgresql_where=sa.text("agreement_days IS NOT NULL"),
            sqlite_where=sa.text("agreement_days IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition_version: int
    state: str = Field(max_length=40, index=True)
    version: int
    origin: str = Field(max_length=20)
    procedure: str = Field(max_length=40)
    region: str = Field(max_length=40)
    centre: str = Field(max_length=80)
    language: str = Field(default="kk", max_length=2)
    subject: str = Field(default="", max_length=200)
    mediator: str | None = Field(default=None, max_length=80)
    bailiff: str | None = Field(default=None, max_length=80)
    court: str | None = Field(default=None, max_length=80)
    coordinator: str | None = Field(default=None, max_length=80)
    enforcement_proceeding: str | None = Field(default=None, max_length=40)
    enforcement_suspended: bool = False
    opened_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The running term of the current state, kept on the case so a suspension can save
    # the time that was left and a resume can plan the rest.
    term_name: str | None = Field(default=None, max_length=40)
    term_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    term_days_left: int | None = None
    suspended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    extensions_used: int = 0
    audit_head: str = Field(max_length=64)
    # Running counts for the supervisor report, kept by the event's own transaction
    # (workflow/tallies.py); the history remains the source they are checked against.
    consultations: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sessions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminders: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    escalations: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    terms_missed: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    agreed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    agreement_days: float | None = None  # from opening to agreed_at, in days
    escalated_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Party(SQLModel, table=True):
    __tablename__ = "parties"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    role: str = Field(max_length=20)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=3)
    iin_bin: str = Field(max_length=12, index=True)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=200)
    language: str = Field(default="kk", max_length=2)


class AuditEvent(SQLModel, table=True):
    """One step of a case's history; never updated, never deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id")
    seq: int
    event: str = Field(max_length=40, index=True)
    actor: str = Field(max_length=80)
    role: str = Field(max_length=20)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    from_state: str = Field(max_length=40)
    to_state: str = Field(max_length=40)
    payload: str = Field(sa_type=sa.Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Timer(SQLModel, table=True):
    """A moment at which the system must act on a case: a reminder or an expiry step."""

    __tablename__ = "timers"
    __table_args__ = (
        sa.Index(
            "ix_timers_open_due",
            "due_at",
            sqlite_where=sa.text("fired_at IS NULL"),
            postgresql_where=sa.text("fired_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=10)
    term: str = Field(max_length=40)
    event: str = Field(max_length=40)
    payload: str = Field(sa_type=sa.Text)
    notify: str = Field(default="", max_length=200)
    due_at: datetime = Field(sa_type=UtcDateTime)
    fired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutboxMessage(SQLModel, table=True):
    """A notification written in the event's transaction and sent later."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    seq: int
    event: str = Field(max_length=40)
    recipient: str = Field(max_length=120)
    channel: str = Field(max_length=10)
    address: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=2)
    template: str = Field(max_length=60)
    context: str = Field(sa_type=sa.Text)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    created_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    receipt: str | None = Field(default=None, sa_type=sa.Text)
    last_error: str | None = Field(default=None, sa_type=sa.Text)


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=200)
    case_id: int | None = None
    request_hash: str = Field(max_length=64)
    result: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UtcDateTime)


class User(SQLModel, table=True):
    """An official (coordinator, mediator, court, bailiff, supervisor …) and how to reach them."""

    __tablename__ = "users"
    __table_args__ = (sa.Index("ix_users_role_scope", "role", "region", "centre"),)

    id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    region: str | None = Field(default=None, max_length=40)
    centre: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    language: str = Field(default="kk", max_length=2)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    # A party's IIN/BIN: the cases a party user may read are those that list it.
    iin_bin: str | None = Field(default=None, max_length=12, index=True)
    active: bool = True
    created_at: datetime = Field(sa_type=UtcDateTime)
    # Argon2id (PHC string) of the password a person signs in to the pages with; NULL:
    # no password, so no page sign-in (machines use the bearer token).
    password_hash: str | None = Field(default=None, max_length=200)


class AccessLogEntry(SQLModel, table=True):
    """One read of personal data in full: who, in which role, when, what and why.

    Appended by every unmasked read (API, web pages, CLI) and never updated or deleted
    (triggers refuse it, migration 0007); supervisors export their region's, admins all.
    """

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_region_at", "region", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    actor: str = Field(max_length=80)
    role: str = Field(max_length=20)
    channel: str = Field(max_length=10)  # api, web, cli
    action: str = Field(max_length=40)  # case, timeline, audit_export, show, history
    case_id: int | None = Field(default=None, index=True)
    # The case's region, or the region an export covered; NULL: every region (admins).
    region: str | None = Field(default=None, max_length=40)
    scope: str = Field(max_length=200)
    reason: str = Field(max_length=500)


class ImportJob(SQLModel, table=True):
    """A bailiff's referral file, checked and opened in the background with progress.

    The file waits in `data` until a runner claims the job (a lease, like the outbox's);
    it is cleared when the job ends. `errors` holds the first bad rows as JSON, `report`
    the full line-by-line outcome as CSV for download.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (sa.Index("ix_import_jobs_status", "status", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=80)
    role: str = Field(max_length=20)
    region: str | None = Field(default=None, max_length=40)
    centre: str | None = Field(default=None, max_length=80)
    partial: bool = False
    filename: str = Field(default="", max_length=200)
    size: int = 0
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # queued, checking, opening, done (all or the good rows opened), refused (bad rows,
    # nothing opened), failed (the file itself could not be read, or the job broke)
    status: str = Field(default="queued", max_length=10)
    rows: int = 0
    checked: int = 0
    opened: int = 0
    imported: int = 0
    rejected: int = 0
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    detail: str = Field(default="", sa_type=sa.Text)
    errors: str = Field(default="[]", sa_type=sa.Text)
    report: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebSession(SQLModel, table=True):
    """A person signed in to the pages: the cookie holds a random token, this row its sha256.

    It ends when idle too long, at its absolute end, at sign-out, or when the user is
    deactivated or his password reset (the rows are deleted). `csrf` is the synchronizer
    token every form of the session carries.
    """

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=80, foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    last_seen_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
    csrf: str = Field(max_length=64)
    address: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=200)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in: counted per account name typed and per client address.

    Kept in the database so that every process of a deployment counts the same failures;
    rows older than the counting window are deleted as new ones come.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        sa.Index("ix_sign_in_failures_account_at", "account", "at"),
        sa.Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    account: str = Field(max_length=80)
    address: str = Field(max_length=45)


class UploadPreview(SQLModel, table=True):
    """A bailiff's referral file, checked and shown to him, waiting for his "Confirm".

    The page's address holds a random token, this row its sha256 and the user it belongs
    to: another person, or a copy of the database, cannot confirm it. It lives 30 minutes;
    confirming moves the file into an import job and deletes the row.
    """

    __tablename__ = "upload_previews"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=80, foreign_key="users.id", index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
    filename: str = Field(default="", max_length=200)
    partial: bool = False
    data: bytes = Field(sa_type=sa.LargeBinary)
    # What the check found (counts, first bad rows, columns), as JSON: shown, not rerun.
    summary: str = Field(sa_type=sa.Text)


class MetricCount(SQLModel, table=True):
    """A running total the database keeps for `/metrics` (`workflow/counters.py`).

    Written by triggers (migration 0011), never by the application: cases by state,
    history records by event, outbox messages by status, terms missed.
    """

    __tablename__ = "metric_counts"

    metric: str = Field(primary_key=True, max_length=20)
    label: str = Field(primary_key=True, max_length=40)
    n: int = Field(sa_type=sa.BigInteger)


class MetricDelta(SQLModel, table=True):
    """A change to a running total not yet added to it (PostgreSQL: no row every writer
    must lock); `workflow.counters.fold` moves them into `metric_counts`."""

    __tablename__ = "metric_deltas"

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=20)
    label: str = Field(max_length=40)
    n: int = Field(sa_type=sa.BigInteger)


class DeliveryReport(SQLModel, table=True):
    """A gateway's report that a message reached (or never reached) its recipient.

    The gateway's own id is the key: a report sent twice is recorded once, and the same id
    with another content is refused (`body_sha256` remembers what it said the first time).
    """

    __tablename__ = "delivery_reports"

    id: str = Field(primary_key=True, max_length=120)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    status: str = Field(max_length=20)
    reported_at: datetime = Field(sa_type=UtcDateTime)
    received_at: datetime = Field(sa_type=UtcDateTime)
    body_sha256: str = Field(max_length=64)


metadata = SQLModel.metadata
cases = Case.__table__  # type: ignore[attr-defined]
parties = Party.__table__  # type: ignore[attr-defined]
audit_events = AuditEvent.__table__  # type: ignore[attr-defined]
timers = Timer.__table__  # type: ignore[attr-defined]
outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
idempotency_keys = IdempotencyKey.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
access_log = AccessLogEntry.__table__  # type: ignore[attr-defined]
import_jobs = ImportJob.__table__  # type: ignore[attr-defined]
web_sessions = WebSession.__table__  # type: ignore[attr-defined]
sign_in_failures = SignInFailure.__table__  # type: ignore[attr-defined]
upload_previews = UploadPreview.__table__  # type: ignore[attr-defined]
metric_counts = MetricCount.__table__  # type: ignore[attr-defined]
metric_deltas = MetricDelta.__table__  # type: ignore[attr-defined]
delivery_reports = DeliveryReport.__table__  # type: ignore[attr-defined]

# Append-only tables: triggers refuse UPDATE and DELETE (migration 0005), and the
# application's database role gets no such rights on them (`tatulasu db grant-app-role`).
HISTORY_TABLES: tuple[str, ...] = ("audit_events", "access_log")
