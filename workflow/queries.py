"""The read side: a case with its parties and open terms, its history, lists of cases.

Reads never go through the engine's write path: they are plain SQLAlchemy Core selects
on a `Connection` the caller owns (`Store.reading()`), so a screen or a report never
takes the write lock. What may be done next is still decided by the engine's rules for
the case's own lifecycle version, so a screen never offers an event the engine refuses.
The statistics live in `workflow.summary`; the masking of personal data in
`workflow.privacy` (both re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow.engine import Engine
from workflow.errors import NotFound
from workflow.privacy import mask_contact, mask_iin, mask_name, mask_payload, scrub_text
from workflow.rules import facts_of
from workflow.schema import audit_events, cases, parties, timers
from workflow.store import utc
from workflow.summary import Summary, summary

__all__ = [
    "CaseView",
    "HistoryRecord",
    "OpenTerm",
    "PartyView",
    "Summary",
    "allowed_events",
    "get_case",
    "history",
    "mask_contact",
    "mask_iin",
    "mask_name",
    "mask_payload",
    "party_names",
    "scrub_text",
    "summary",
]

MAX_PAGE = 1000


@dataclass(frozen=True)
class PartyView:
    id: int
    role: str
    name: str
    kind: str
    iin_bin: str
    phone: str | None
    email: str | None
    language: str

    def masked(self) -> PartyView:
        """The same party as someone without a need to know sees it."""
        return PartyView(
            id=self.id,
            role=self.role,
            name=mask_name(self.name),
            kind=self.kind,
            iin_bin=mask_iin(self.iin_bin),
            phone=mask_contact(self.phone),
            email=mask_contact(self.email),
            language=self.language,
        )


@dataclass(frozen=True)
class OpenTerm:
    """A timer not yet fired: a reminder before a term runs out, or a step after."""

    kind: str
    term: str
    event: str
    due_at: datetime


@dataclass(frozen=True)
class CaseView:
    """One case as stored, with its parties and open terms. Frozen: a snapshot, not a handle."""

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
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    term_name: str | None
    term_due_at: datetime | None
    term_days_left: int | None
    suspended_at: datetime | None
    extensions_used: int
    audit_head: str
    # The running tallies the report sums (workflow/tallies.py).
    consultations: int
    sessions: int
    reminders: int
    escalations: int
    terms_missed: int
    agreed_at: datetime | None
    parties: tuple[PartyView, ...]
    open_terms: tuple[OpenTerm, ...]

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    def masked(self, keep: str | None = None) -> CaseView:
        """Every party masked (but the one whose IIN/BIN is `keep`), the subject scrubbed."""
        others = [p for p in self.parties if p.iin_bin != keep]
        return replace(
            self,
            subject=scrub_text(self.subject, [p.name for p in others]),
            parties=tuple(p if p.iin_bin == keep else p.masked() for p in self.parties),
        )


@dataclass(frozen=True)
class HistoryRecord:
    """One stored event of a case, as the audit chain holds it."""

    id: int
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

    def masked(self, names: Iterable[str] = ()) -> HistoryRecord:
        """Personal data masked, free text scrubbed, the case's party `names` initialled."""
        return replace(self, payload=mask_payload(self.payload, names))


_INSTANTS = ("opened_at", "updated_at", "closed_at", "term_due_at", "suspended_at", "agreed_at")
# The history's receipts of notices (events of kind "delivery_receipt" in any version):
# recorded, but not a step the case took.
RECEIPTS = states.events_of_kind("delivery_receipt")


def last_step_at(case_id: sa.ColumnElement[int]) -> sa.ScalarSelect[datetime]:
    """When the case last took a step: its last history record that is not a receipt.

    Recording a delivery appends to the history, which bumps the row's version and
    `updated_at` like any record (the audit replay expects so); the "last change" shown
    to people is the last legal step, so a receipt arriving after the closing does not
    make a closed case look changed.
    """
    return (
        sa.select(audit_events.c.at)
        .where(audit_events.c.case_id == case_id, audit_events.c.event.not_in(RECEIPTS))
        .order_by(audit_events.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def get_case(conn: Connection, case_id: int) -> CaseView:
    """The case with its parties and open terms; `NotFound` if there is none.

    Its `updated_at` is its last legal step (`last_step_at`), not its last receipt.
    """
    row = conn.execute(
        sa.select(cases, last_step_at(cases.c.id).label("last_step_at")).where(
            cases.c.id == case_id
        )
    ).first()
    if row is None:
        raise NotFound("case", case_id)
    found_parties = tuple(
        PartyView(
            id=p.id,
            role=p.role,
            name=p.name,
            kind=p.kind,
            iin_bin=p.iin_bin,
            phone=p.phone,
            email=p.email,
            language=p.language,
        )
        for p in conn.execute(
            sa.select(parties).where(parties.c.case_id == case_id).order_by(parties.c.id)
        )
    )
    terms = tuple(
        OpenTerm(kind=t.kind, term=t.term, event=t.event, due_at=utc(t.due_at))
        for t in conn.execute(
            sa.select(timers.c.kind, timers.c.term, timers.c.event, timers.c.due_at)
            .where(timers.c.case_id == case_id, timers.c.fired_at.is_(None))
            .order_by(timers.c.due_at, timers.c.id)
        )
    )
    values = row._asdict()
    # Bookkeeping of the tallies, not facts of the case (agreed_at is shown).
    del values["escalated_due_at"], values["agreement_days"]
    values["updated_at"] = values.pop("last_step_at") or values["updated_at"]
    for name in _INSTANTS:
        if values[name] is not None:
            values[name] = utc(values[name])
    values["enforcement_suspended"] = bool(values["enforcement_suspended"])
    return CaseView(**values, parties=found_parties, open_terms=terms)


def allowed_events(
    engine: Engine, case: CaseView, role: str | None = None, as_party: str | None = None
) -> list[str]:
    """Events that may fire next, by the rules of the case's own lifecycle version.

    Without a role, the system's own events (reminders, escalations) are left out: no
    user chooses them, and listing them on every case would only hide the real choices.
    `as_party` (an IIN/BIN) keeps, of the events limited to some parties, those that the
    party with this IIN/BIN may fire (the claimant withdraws, the respondent refuses).
    """
    rules = engine.rules(case.definition_version)
    found = rules.allowed_events(facts_of(case, rules.lifecycle), role)
    events = rules.lifecycle.events
    if role is None:
        found = [e for e in found if events[e].roles != frozenset({"system"})]
    if as_party is not None:
        his = {p.role for p in case.parties if p.iin_bin == as_party}
        found = [e for e in found if not events[e].parties or events[e].parties & his]
    return found


def history(conn: Connection, case_id: int) -> list[HistoryRecord]:
    """The case's audit records in sequence order; `NotFound` for an unknown case."""
    if conn.execute(sa.select(cases.c.id).where(cases.c.id == case_id)).first() is None:
        raise NotFound("case", case_id)
    rows = conn.execute(
        sa.select(audit_events)
        .where(audit_events.c.case_id == case_id)
        .order_by(audit_events.c.seq)
    )
    return [
        HistoryRecord(
            id=r.id,
            seq=r.seq,
            event=r.event,
            actor=r.actor,
            role=r.role,
            at=utc(r.at),
            from_state=r.from_state,
            to_state=r.to_state,
            payload=json.loads(r.payload),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows
    ]


def party_names(conn: Connection, case_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Each case's parties as (IIN/BIN, name), to scrub the names from the case's free text."""
    ids = sorted(set(case_ids))
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    for start in range(0, len(ids), MAX_PAGE):
        rows = conn.execute(
            sa.select(parties.c.case_id, parties.c.iin_bin, parties.c.name)
            .where(parties.c.case_id.in_(ids[start : start + MAX_PAGE]))
            .order_by(parties.c.id)
        )
        for row in rows:
            found[row.case_id].append((row.iin_bin, row.name))
    return found
