"""Commands (orders to the engine) and what comes back, as plain dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

LANGUAGES = frozenset({"kk", "ru", "en"})


@dataclass(frozen=True)
class PartyInput:
    role: str
    name: str
    iin_bin: str
    phone: str | None = None
    email: str | None = None
    language: str = "kk"


@dataclass(frozen=True)
class OpenCase:
    """Open a case with one of the lifecycle's opening events (refer, court_refer, …)."""

    event: str
    actor: str
    role: str
    region: str
    centre: str
    parties: tuple[PartyInput, ...]
    subject: str = ""
    language: str = "kk"
    procedure: str | None = None
    enforcement_proceeding: str | None = None
    court: str | None = None
    bailiff: str | None = None
    # Only a wish, recorded in the opening's history: the coordinator (or the court)
    # assigns a registered mediator with `assign_mediator`.
    proposed_mediator: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class FireEvent:
    """Apply one event to one case."""

    case_id: int
    event: str
    actor: str
    role: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    expected_version: int | None = None
    idempotency_key: str | None = None
    # Set by the timer sweep: who else hears of a reminder or an escalation.
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventApplied:
    """The stored result of one event; returned again for a repeated idempotent command."""

    case_id: int
    seq: int
    event: str
    from_state: str
    to_state: str
    at: str
    hash: str
    term_due_at: str | None = None

    @property
    def version(self) -> int:
        return self.seq

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
