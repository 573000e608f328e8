"""Settings: the only knobs of a deployment, read from the environment (`TATULASU_*`).

The same code runs embedded (one SQLite file, in-process sweep) and scaled out
(PostgreSQL, Redis, Celery); which one is chosen here and nowhere else.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workflow.calendar import DEFAULT_TZ
from workflow.store import DEFAULT_URL

DateList = Annotated[list[date], NoDecode]


class Settings(BaseSettings):
    """Deployment settings; every field can be set as `TATULASU_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="TATULASU_", extra="ignore")

    database_url: str = DEFAULT_URL
    # The lifecycle version new cases open under (default: the newest). A deployment may
    # hold back a new version until the day it moves its open cases to it.
    lifecycle_version: int | None = None
    broker_url: str | None = None
    timezone: str = DEFAULT_TZ
    # Government decrees moving days off, published after the `holidays` release we ship.
    extra_days_off: DateList = []
    extra_working_days: DateList = []
    sweep_interval_seconds: float = 5.0
    # The API answers about one request in N with `Connection: close`, so that clients'
    # keep-alive connections spread over `serve --workers` processes (0: never).
    http_keepalive_requests: int = Field(default=100, ge=0)
    # The largest request body the API reads: JSON (and the pages' forms), and a CSV
    # upload (`POST /referrals/import`). Larger ones are refused with 413 unread.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1)
    max_csv_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    # A referral file up to this size is imported while the upload waits (the answer
    # lists every row); a larger one becomes an import job (202, `GET /imports/{id}`).
    import_inline_max_bytes: int = Field(default=512 * 1024, ge=0)
    # When set, `GET /metrics` needs `Authorization: Bearer <this token>`; unset, it is open.
    metrics_token: str | None = None
    # The Celery queue: deployments (or test runs) sharing one Redis keep apart by name.
    queue: str = "tatulasu"
    sweep_batch: int = 200
    # Notifications: an SMTP server for e-mail, an HTTP gateway for SMS.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "tatulasu@localhost"
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    # The secret the SMS gateway signs its delivery reports with (`POST /delivery-reports`,
    # HMAC-SHA256); unset, the route does not exist.
    sms_report_secret: str | None = None
    templates_dir: Path | None = None
    dispatch_max_attempts: int = 6
    dispatch_backoff_seconds: float = 30.0
    dispatch_lease_seconds: float = 60.0
    # Signed heads (DESIGN.md rule 4), PEM files never kept in the database: the Ed25519
    # private key that signs exported heads (scheduled export, the API's JSONL export) and
    # the public key `POST /audit/verify` checks heads with.
    audit_signing_key_file: Path | None = None
    audit_public_key_file: Path | None = None
    # Signed heads written to this directory every N minutes by beat or the embedded
    # clock; off unless both are set.
    heads_export_dir: Path | None = None
    heads_export_every_minutes: float | None = Field(default=None, gt=0)
    # Sign-in to the pages: a session ends after this long without a request, and at
    # this long after sign-in whatever the activity.
    session_idle_minutes: float = Field(default=30, gt=0)
    session_absolute_hours: float = Field(default=12, gt=0)
    # Failed sign-ins counted within the window, per account name and per client address.
    sign_in_window_minutes: float = Field(default=15, gt=0)
    sign_in_failures_per_account: int = Field(default=5, ge=1)
    sign_in_failures_per_address: int = Field(default=20, ge=1)
    # `tatulasu serve` behind a reverse proxy: the proxies' addresses (comma-separated, or
    # `*`) whose X-Forwarded-Proto and X-Forwarded-For are believed; unset, none are.
    forwarded_allow_ips: str | None = None

    @field_validator("extra_days_off", "extra_working_days", mode="before")
    @classmethod
    def _dates_from_text(cls, value: Any) -> Any:
        """Accept `2025-05-02,2025-05-09` as well as a JSON list from the environment."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]

    @field_validator("lifecycle_version")
    @classmethod
    def _known_version(cls, value: int | None) -> int | None:
        import states

        if value is not None and value not in states.versions():
            known = ", ".join(map(str, states.versions()))
            raise ValueError(f"there is no lifecycle version {value} (have {known})")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator(
        "sweep_interval_seconds",
        "dispatch_backoff_seconds",
        "dispatch_lease_seconds",
    )
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @field_validator("sweep_batch", "dispatch_max_attempts", "smtp_port")
    @classmethod
    def _positive_count(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @property
    def effective_broker_url(self) -> str:
        """The broker workers and beat use: the configured one, or Redis on this machine."""
        return self.broker_url or "redis://127.0.0.1:6379/0"
