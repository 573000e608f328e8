"""Settings: the only knobs of a deployment, read from the environment (`TATULASU_*`).

The same code runs embedded (one SQLite file, in-process sweep) and scaled out
(PostgreSQL, Redis, Celery); which one is chosen here and nowhere else.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workflow.calendar import DEFAULT_TZ
from workflow.store import DEFAULT_URL

DateList = Annotated[list[date], NoDecode]


class Settings(BaseSettings):
    """Deployment settings; every field can be set as `TATULASU_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="TATULASU_", extra="ignore")

    database_url: str = DEFAULT_URL
    broker_url: str | None = None
    timezone: str = DEFAULT_TZ
    # Government decrees moving days off, published after the `holidays` release we ship.
    extra_days_off: DateList = []
    extra_working_days: DateList = []
    sweep_interval_seconds: float = 5.0

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

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @field_validator("sweep_interval_seconds")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value
