"""A gateway's reports of what became of a message: delivered to the handset, or not.

The law accepts an SMS notice where its delivery is recorded, and "sent" only says that
the gateway took the message. The gateway tells later, by a webhook whose signature the
interface checks (`tatulasu/api/delivery_reports.py`). Each report is recorded once, by
the gateway's own id, on the message (`delivery_reports`); for a notice to a party it is
also a record of the case's history (the lifecycle's delivery-receipt event), in the
same transaction. A report sent again changes nothing; the same id with another content
is refused (`ReportIdReused`); a report about a message that does not exist is `NotFound`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

import states
from workflow import names
from workflow.audit import canonical_json, format_instant
from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.errors import ConcurrentInsert, InvalidField, NotFound, ReportIdReused
from workflow.schema import delivery_reports, outbox

# What a gateway may report; an adapter maps its own words onto these.
STATUSES = ("delivered", "undeliverable")
MAX_ID = 120
# A report dated later than this past the server's clock is a wrong clock or a forgery.
CLOCK_SKEW = timedelta(minutes=5)
SYSTEM = "system"


@dataclass(frozen=True)
class Report:
    """One delivery report: the gateway's id for it, our message key, what and when."""

    id: str
    key: str
    status: str
    at: datetime

    def digest(self) -> str:
        """What the report says, hashed: tells a replay from another report with its id."""
        text = canonical_json(
            {"id": self.id, "key": self.key, "status": self.status, "at": format_instant(self.at)}
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    report_id: str
    message_id: int
    case_id: int
    duplicate: bool  # seen before: nothing was written
    in_history: bool  # a notice to a party: the case's history has it too


def parse(data: Any, now: datetime) -> Report:
    """The report in a webhook's JSON body; refused naming the field at fault."""
    if not isinstance(data, dict):
        raise InvalidField("body", "must be a JSON object: id, key, status, at")
    unknown = sorted(set(data) - {"id", "key", "status", "at"})
    if unknown:
        raise InvalidField(unknown[0], "is not a field of a delivery report")
    ident, key = _text(data, "id"), _text(data, "key")
    status = data.get("status")
    if status not in STATUSES:
        raise InvalidField("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    return Report(ident, key, str(status), _instant(data.get("at"), now))


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(field, "is required (a text)")
    if len(value) > MAX_ID:
        raise InvalidField(field, f"is longer than {MAX_ID} characters")
    names.check(field, value)
    return value


def _instant(value: object, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise InvalidField("at", "is required: when it happened, ISO 8601 with its offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField("at", f"{value!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise InvalidField("at", "must carry its offset (e.g. +05:00 or Z)")
    if moment > now + CLOCK_SKEW:
        raise InvalidField("at", f"{value} is in the future")
    return moment


def record(engine: Engine, report: Report) -> Recorded:
    """Record `report` once, in one transaction (a concurrent twin: the second is a replay)."""
    try:
        return _record(engine, report)
    except ConcurrentInsert:  # the same report, recorded meanwhile by another request
        return _record(engine, report)


def _record(engine: Engine, report: Report) -> Recorded:
    with engine.store.transaction() as conn:
        message = conn.execute(
            sa.select(
                outbox.c.id, outbox.c.case_id, outbox.c.recipient, outbox.c.channel,
                outbox.c.event,
            )
            .where(outbox.c.key == report.key)
        ).first()  # fmt: skip
        if message is None:
            raise NotFound("message", report.key)
        seen = conn.execute(
            sa.select(delivery_reports.c.body_sha256).where(delivery_reports.c.id == report.id)
        ).scalar()
        recorded = Recorded(report.id, message.id, message.case_id, seen is not None, False)
        if seen is not None:
            if seen != report.digest():
                raise ReportIdReused(report.id)
            return recorded
        conn.execute(
            delivery_reports.insert().values(
                id=report.id, outbox_id=message.id, status=report.status,
                reported_at=report.at, received_at=engine.clock.now(),
                body_sha256=report.digest(),
            )
        )  # fmt: skip
        if not message.recipient.startswith("party:"):
            return recorded  # an official's message: operational, not the case's history
        case = engine.lock(conn, message.case_id)
        if case is None:
            raise NotFound("case", message.case_id)
        receipt = {
            "key": report.key,
            "channel": message.channel,
            "status": f"reported_{report.status}",
            "reference": f"report {report.id} of {format_instant(report.at)}",
        }
        lc = states.get(case.definition_version)
        event = lc.event_of_kind("delivery_receipt")
        engine.apply(
            conn,
            FireEvent(case.id, event, SYSTEM, SYSTEM, payload={"deliveries": [receipt]}),
            locked=case,
        )
        if report.status == "delivered" and _awaited(lc, case.state, message.event):
            received = lc.events[lc.event_of_kind("notice_received")]
            (day_field,) = received.payload
            day = engine.calendar.local_date(min(report.at, engine.clock.now()))
            engine.apply(
                conn,
                FireEvent(
                    case.id, received.name, SYSTEM, SYSTEM, payload={day_field: day.isoformat()}
                ),
            )
        return Recorded(report.id, message.id, message.case_id, False, True)


def _awaited(lc: states.Lifecycle, state: str, event: str) -> bool:
    """Whether the case waits in `state` for the receipt of a notice of `event`: the state
    is of kind "awaiting_receipt" and `event` is what brought cases into it."""
    if lc.states[state].kind != "awaiting_receipt" or event not in lc.events:
        return False
    return any(route.target == state for route in lc.events[event].routes)
