"""Notifications written in the event's transaction: one outbox row per recipient.

Each party is reached by e-mail or SMS at the contact stored with the case; officials are
named by their user id (or, for a centre's coordinator and a region's supervisor, by the
centre or region) and resolved to contacts by the dispatcher at send time. The row's key
`case:seq:recipient` is what a sink uses to deliver it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.audit import canonical_json, format_instant
from workflow.schema import outbox, parties

_SELECT_PARTIES = sa.select(parties).where(parties.c.case_id == sa.bindparam("case_id"))
_INSERT_OUTBOX = outbox.insert()
# Payload fields a message's template may show (never free text of a session), and
# "enforcement": "resumed" the engine adds when an event ends a suspension of enforcement.
_CONTEXT_FIELDS = ("reason", "term", "due_at", "enforcement")


def write_outbox(
    conn: Connection,
    case: Mapping[str, Any],
    seq: int,
    event: str,
    from_state: str,
    payload: Mapping[str, Any],
    recipients: Iterable[str],
    now: datetime,
) -> None:
    """One pending row per person behind each kind of recipient of an event."""
    rows = outbox_rows(
        case,
        seq,
        event,
        from_state,
        payload,
        recipients,
        now,
        lambda kind: addresses(conn, case, kind),
    )
    if rows:
        conn.execute(_INSERT_OUTBOX, rows)


Addresses = Callable[[str], list[tuple[str, str, str | None, str]]]


def outbox_rows(
    case: Mapping[str, Any],
    seq: int,
    event: str,
    from_state: str,
    payload: Mapping[str, Any],
    recipients: Iterable[str],
    now: datetime,
    addresses_of: Addresses,
) -> list[dict[str, Any]]:
    """The outbox rows of an event, without I/O: `addresses_of(kind)` names the people."""
    wanted = list(dict.fromkeys(recipients))
    if not wanted:
        return []
    context = canonical_json(
        {
            "case_id": case["id"],
            "centre": case["centre"],
            "event": event,
            "from": from_state,
            "to": case["state"],
            "at": format_instant(now),
            **{k: v for k, v in payload.items() if k in _CONTEXT_FIELDS},
        }
    )
    return [
        {
            "key": f"{case['id']}:{seq}:{recipient}",
            "case_id": case["id"],
            "seq": seq,
            "event": event,
            "recipient": recipient,
            "channel": channel,
            "address": address,
            "language": language,
            "template": event,
            "context": context,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for kind in wanted
        for recipient, channel, address, language in addresses_of(kind)
    ]


def addresses(
    conn: Connection, case: Mapping[str, Any], kind: str
) -> list[tuple[str, str, str | None, str]]:
    """(recipient, channel, address, language) for one kind of recipient."""
    if kind == "party":
        return party_addresses(conn.execute(_SELECT_PARTIES, {"case_id": case["id"]}))
    return official_addresses(case, kind)


def party_addresses(rows: Iterable[Any]) -> list[tuple[str, str, str | None, str]]:
    """Each party with an e-mail (else a phone) as a recipient; rows need id and contacts."""
    found: list[tuple[str, str, str | None, str]] = []
    for p in rows:
        if p.email:
            found.append((f"party:{p.id}", "email", p.email, p.language))
        elif p.phone:
            found.append((f"party:{p.id}", "sms", p.phone, p.language))
    return found


def official_addresses(
    case: Mapping[str, Any], kind: str
) -> list[tuple[str, str, str | None, str]]:
    """An official recipient, resolved to people by the dispatcher at send time."""
    if kind == "supervisor":
        return [(f"supervisor:{case['region']}", "user", None, case["language"])]
    who = case.get(kind)
    if kind == "coordinator" and not who:
        return [(f"coordinator:{case['centre']}", "user", None, case["language"])]
    return [(f"{kind}:{who}", "user", None, case["language"])] if who else []
