"""Dates and instants as people in Kazakhstan write them, and one way of saying when a term ends.

Instants are stored in UTC and shown in the centre's time zone as `07.12.2026 14:05`,
days as `07.12.2026` (the form of Kazakh and Russian official papers alike). A term runs
out at the end of its last day, stored as the next day's midnight; "08.12.2026 00:00"
reads as if the 8th were still free, and "07.12.2026 24:00" is not a time, so a term
that ends with a day is said as that day, inclusive: "until 07.12.2026 inclusive". The
CLI, the API (`term_ends_on`) and the pages all say it through `term_end` and `until`.

No third-party import: the CLI's read commands use this and start small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = "%d.%m.%Y"
TIME = "%H:%M"
NONE = "—"


def _english(message: str) -> str:
    return message


def day(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """`07.12.2026`; an instant is first taken to `tz`."""
    if value is None:
        return NONE
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return value.strftime(DAY)


def instant(moment: datetime | None, tz: ZoneInfo) -> str:
    """`07.12.2026 14:05` in `tz`."""
    if moment is None:
        return NONE
    return moment.astimezone(tz).strftime(f"{DAY} {TIME}")


@dataclass(frozen=True)
class TermEnd:
    """When a term ends, as a person counts it: through `last_day`, or at `at` on it."""

    last_day: date
    at: time | None  # None: to the end of `last_day`


def term_end(moment: datetime, tz: ZoneInfo) -> TermEnd:
    """The local day a term ending at `moment` ends with (midnight closes the day before)."""
    local = moment.astimezone(tz)
    if local.time() == time(0, 0):
        return TermEnd(local.date() - timedelta(days=1), None)
    return TermEnd(local.date(), local.time().replace(second=0, microsecond=0))


def until(moment: datetime | None, tz: ZoneInfo, gettext: Callable[[str], str] = _english) -> str:
    """ "until 07.12.2026 inclusive" (or "until 07.12.2026 14:00"), in `gettext`'s language."""
    if moment is None:
        return NONE
    end = term_end(moment, tz)
    if end.at is None:
        return gettext("until %(day)s inclusive") % {"day": day(end.last_day)}
    return gettext("until %(day)s %(time)s") % {
        "day": day(end.last_day),
        "time": end.at.strftime(TIME),
    }
