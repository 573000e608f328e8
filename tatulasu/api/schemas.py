"""The shapes of requests and answers, as the OpenAPI document shows them.

Requests are checked here only for shape (types, lengths); what a value means — an IIN's
check digit, a region code, a reason allowed for an event — is the engine's to decide,
so the rules live in one place and the API answers with the engine's own field names.
Instants are UTC, ISO 8601.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflow.errors import InvalidField

# Case ids are 32-bit integers in the database; a larger number is a client's mistake
# (422), not a database error (503).
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _nul_at(value: Any, where: str) -> str | None:
    """Where a NUL character hides in a value: PostgreSQL refuses to store text with one."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nul_at(str(key), where) or _nul_at(item, f"{where}.{key}".lstrip("."))
        if found:
            return found
    return None


async def reject_nul_in_query(request: Request) -> None:
    """A NUL in a query parameter is a client's mistake (422), not a database error (503)."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidField(name.replace("\x00", ""), "must not contain a NUL character")


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(Model):
    """A request body: besides its shape, free of NUL characters anywhere inside."""

    @model_validator(mode="after")
    def _no_nul(self) -> Input:
        found = _nul_at(dict(self), "")
        if found:
            raise ValueError(f"{found} must not contain a NUL character")
        return self


class PartyIn(Input):
    role: Literal["claimant", "respondent", "debtor", "creditor"]
    name: str = Field(min_length=1, max_length=200)
    iin_bin: str = Field(min_length=12, max_length=12, description="IIN or BIN (12 digits)")
    phone: str | None = Field(default=None, max_length=20, examples=["+77011234567"])
    email: str | None = Field(default=None, max_length=200)
    language: Literal["kk", "ru", "en"] = "kk"


class ReferralIn(Input):
    """A new case. `event` (one of the lifecycle's opening events) defaults to the one by
    which the caller's role opens a case (lifecycle v1: refer_enforcement for a bailiff,
    court_refer for a court, refer for the others)."""

    event: str | None = Field(default=None, min_length=1, max_length=40, examples=["refer"])
    region: str = Field(min_length=1, max_length=40, examples=["VKO"])
    centre: str = Field(min_length=1, max_length=80)
    parties: list[PartyIn] = Field(min_length=1, max_length=20)
    subject: str = Field(default="", max_length=200)
    language: Literal["kk", "ru", "en"] = "kk"
    procedure: str | None = Field(default=None, max_length=40)
    enforcement_proceeding: str | None = Field(default=None, max_length=40)
    proposed_mediator: str | None = Field(
        default=None,
        max_length=80,
        description="A mediator the referrer would like: recorded in the history, not"
        " assigned (the centre's coordinator assigns a registered mediator).",
    )
    mediator: str | None = Field(
        default=None,
        max_length=80,
        description="Refused (422): a referral only proposes a mediator (`proposed_mediator`).",
    )


class EventIn(Input):
    event: str = Field(min_length=1, max_length=40, examples=["accept"])
    payload: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _officials_fit(self) -> EventIn:
        """A mediator, bailiff or court is stored in an 80-character column."""
        for name in ("mediator", "bailiff", "court"):
            value = self.payload.get(name)
            if isinstance(value, str) and len(value.strip()) > 80:
                raise ValueError(f"payload.{name} is longer than 80 characters")
        return self


class EventOut(Model):
    case_id: int
    seq: int
    version: int
    event: str
    from_state: str
    to_state: str
    at: str
    hash: str
    term_due_at: str | None


class PartyOut(Model):
    id: int
    role: str
    name: str
    kind: str
    iin_bin: str
    phone: str | None
    email: str | None
    language: str


class OpenTermOut(Model):
    kind: str
    term: str
    event: str
    due_at: datetime


class CaseOut(Model):
    id: int
    definition_version: int
    state: str
    version: int
    origin: str
    procedure: str
    region: str
    centre: str
    language: str
    subject: str
    mediator: str | None
    bailiff: str | None
    court: str | None
    coordinator: str | None
    enforcement_proceeding: str | None
    enforcement_suspended: bool
    suspended: bool
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    term_name: str | None
    term_due_at: datetime | None
    term_days_left: int | None
    extensions_used: int
    audit_head: str
    consultations: int
    sessions: int
    reminders: int = Field(description="Reminders sent about this case's terms")
    escalations: int
    terms_missed: int = Field(description="Terms that ran out (each counted once)")
    agreed_at: datetime | None = Field(description="When the first agreement was reached")
    parties: list[PartyOut]
    open_terms: list[OpenTermOut]
    allowed_events: list[str] = Field(description="What the caller may fire next")
    masked: bool = Field(description="Whether personal data was masked for the caller")


class CaseLine(Model):
    id: int
    version: int
    state: str
    closed: bool
    origin: str
    procedure: str
    region: str
    centre: str
    subject: str
    enforcement_proceeding: str | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    term_name: str | None
    term_due_at: datetime | None
    suspended: bool


class CasePage(Model):
    total: int
    limit: int
    offset: int
    items: list[CaseLine]


class RecordOut(Model):
    seq: int
    event: str
    actor: str
    role: str
    at: datetime
    from_state: str
    to_state: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class Timeline(Model):
    case_id: int
    version: int
    head: str
    masked: bool
    records: list[RecordOut]
