"""A case's history as sentences: when, who (his registered name and role), what happened.

"17.02.2025 10:16 — Mediator Askar Zhaksylykov: a consultation was held". The record's
fields a person reads (a reason, a date, the mediator assigned) follow in words; the
record as the chain holds it (payload, hashes) stays one click away on the page. The
records are the ones `disclosure.history_for` gives the reader, so what is masked for
his role stays masked; a party who fired an event is named as masked as the parties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tatulasu.web.i18n import N_
from workflow import dates
from workflow.privacy import mask_name
from workflow.queries import HistoryRecord
from workflow.schema import users

# The payload fields people read, by name: how each is called and what kind of value it
# holds (a title to look up, a date, an instant, a person, text). Others stay in the raw
# record (the opening's parties, delivery receipts).
FIELDS: Mapping[str, tuple[str, str]] = {
    "mediator": (N_("Mediator"), "person"),
    "bailiff": (N_("Bailiff"), "person"),
    "court": (N_("Court"), "person"),
    "contract_signed_on": (N_("Mediation contract signed on"), "date"),
    "held_on": (N_("Held on"), "date"),
    "procedure": (N_("Procedure"), "procedure"),
    "agreement_ref": (N_("Agreement number"), "text"),
    "ruling_ref": (N_("Ruling number"), "text"),
    "ruling_prepared_on": (N_("Ruling prepared in final form on"), "date"),
    "offer_sent_on": (N_("Offer sent on"), "date"),
    "offer_received_on": (N_("Offer received on"), "date"),
    "consent_of": (N_("Consent given by"), "text"),
    "consented_on": (N_("Consent given on"), "date"),
    "consent_ref": (N_("Consent document"), "text"),
    "finding_ref": (N_("Act finding the breach"), "text"),
    "finding_final_on": (N_("Finding final on"), "date"),
    "reason": (N_("Reason"), "reason"),
    "reason_text": (N_("Explanation"), "text"),
    "term": (N_("Term"), "term"),
    "due_at": (N_("Due"), "instant"),
}


@dataclass(frozen=True)
class Detail:
    label: str  # a msgid, translated by the template
    value: str
    kind: str  # reason | procedure | term: a code the template titles; else words


@dataclass(frozen=True)
class Line:
    record: HistoryRecord
    actor: str  # the actor's registered name, as the reader may see it
    details: tuple[Detail, ...]


def names_of(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The registered names of these users (people who are not registered are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(users.c.id, users.c.name).where(users.c.id.in_(wanted)))
    return {r.id: r.name for r in rows}


def lines(
    records: Iterable[HistoryRecord], names: Mapping[str, str], in_full: bool, tz: ZoneInfo
) -> list[Line]:
    """The records as sentences; `in_full`: whether the reader sees personal data in full."""
    found = []
    for r in records:
        actor = "" if r.role == "system" else names.get(r.actor, r.actor)
        if r.role == "party" and not in_full:
            actor = mask_name(actor)
        found.append(Line(r, actor, tuple(_details(r.payload, names, tz))))
    return found


def _details(payload: Mapping[str, object], names: Mapping[str, str], tz: ZoneInfo) -> list[Detail]:
    found = []
    for key, (label, kind) in FIELDS.items():
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            continue
        found.append(Detail(label, _shown(value, kind, names, tz), kind))
    return found


def _shown(value: str, kind: str, names: Mapping[str, str], tz: ZoneInfo) -> str:
    try:
        if kind == "date":
            return dates.day(date.fromisoformat(value))
        if kind == "instant":
            return dates.instant(datetime.fromisoformat(value), tz)
    except ValueError:
        return value
    if kind == "person":
        return names.get(value, value)
    return value


def people_in(records: Iterable[HistoryRecord]) -> set[str]:
    """Whose names a timeline needs: the actors and the people the events assigned."""
    found = set()
    for r in records:
        found.add(r.actor)
        for key, (_, kind) in FIELDS.items():
            value = r.payload.get(key)
            if kind == "person" and isinstance(value, str):
                found.add(value)
    return found
