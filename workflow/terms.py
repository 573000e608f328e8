"""Planning a state's term as timer rows: reminders before it runs out, steps after.

A term of N days ends at the end of its N-th day. A reminder "r days before" fires at
09:00 local time on the day r (calendar or working) days before the last day; expiry
steps fire when the term ends, or `after` days later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from states import Term
from workflow.audit import canonical_json, format_instant
from workflow.calendar import BusinessCalendar

REMINDER_HOUR = time(9, 0)


@dataclass(frozen=True, slots=True)
class PlannedTimer:
    kind: str
    term: str
    event: str
    payload: str
    notify: str
    due_at: datetime

    def row(self, case_id: int) -> dict[str, object]:
        return {
            "case_id": case_id,
            "kind": self.kind,
            "term": self.term,
            "event": self.event,
            "payload": self.payload,
            "notify": self.notify,
            "due_at": self.due_at,
            "fired_at": None,
        }


# Terms are planned again and again for the same few days: every case whose term starts
# (or ends) on a day gets the same due instant and timers, and `audit verify` plans every
# term of every history it replays. Both are remembered by the calendar they are computed
# with (`BusinessCalendar.memo`). A term is keyed by its id (hashing its titles and
# steps each time would cost more than the plan); the entry keeps the term, so a term
# collected and another made at its address is planned anew, not confused with it.


def term_due(term: Term, start: date | datetime, cal: BusinessCalendar) -> datetime:
    """When the term that starts on `start` runs out."""
    day = start if not isinstance(start, datetime) else cal.local_date(start)
    return cal.memo.get(
        ("due", day, term.days, term.counted_in, term.ends_on_working_day),
        lambda: term_end(term, cal.add_days(day, term.days, term.counted_in), cal),
    )


def extended_due(term: Term, due: datetime, days: int, cal: BusinessCalendar) -> datetime:
    last = cal.local_date(due - timedelta(microseconds=1))
    return term_end(term, cal.add_days(last, days, term.counted_in), cal)


def resumed_due(term: Term, now: datetime, days_left: int, cal: BusinessCalendar) -> datetime:
    return term_end(term, cal.add_days(cal.local_date(now), days_left, term.counted_in), cal)


def term_end(term: Term, last: date, cal: BusinessCalendar) -> datetime:
    """The end of the term's last day, moved past days off when the term says so."""
    while term.ends_on_working_day and not cal.is_working_day(last):
        last += timedelta(days=1)
    return cal.end_of_day(last)


def plan(term: Term, due: datetime, now: datetime, cal: BusinessCalendar) -> list[PlannedTimer]:
    """The timers of a term that ends at `due`; reminders already past are dropped."""
    # The time zone too: an expiry is due at `due` itself, and SQLite stores wall times.
    key = ("plan", id(term), due, due.tzinfo)
    found = cal.memo.get(key, lambda: (term, tuple(_every_timer(term, due, cal))))
    if found[0] is not term:
        found = cal.memo.put(key, (term, tuple(_every_timer(term, due, cal))))
    return [t for t in found[1] if t.kind != "reminder" or t.due_at > now]


def _every_timer(term: Term, due: datetime, cal: BusinessCalendar) -> list[PlannedTimer]:
    last = cal.local_date(due - timedelta(microseconds=1))
    info = canonical_json({"term": term.name, "due_at": format_instant(due)})
    timers: list[PlannedTimer] = []
    remind = ",".join(term.remind)
    for days_before in term.reminders:
        day = cal.add_days(last, -days_before, term.counted_in)
        # In UTC like every stored instant: SQLite keeps the wall time and drops the offset.
        at = datetime.combine(day, REMINDER_HOUR, cal.tz).astimezone(UTC)
        timers.append(PlannedTimer("reminder", term.name, term.reminder_event, info, remind, at))
    for step in term.on_expiry:
        at = (
            due
            if step.after == 0
            else cal.end_of_day(cal.add_days(last, step.after, term.counted_in))
        )
        payload = canonical_json(dict(step.payload)) if step.payload else info
        timers.append(
            PlannedTimer("expiry", term.name, step.event, payload, ",".join(step.notify), at)
        )
    return timers
