"""The reviewed calendar file: days off and working days `holidays` lacks, with their acts.

Why a file, and why here. The Government (or the Minister of Labour) transfers days off
every year, often after the pinned `holidays` release; the law decides terms by those
days, so each must be written down with the act that set it, reviewed like code, and
never typed into a deployment's settings and forgotten. The file lives in `workflow/`,
beside the calendar that reads it, and not in `states/` with the lifecycle: a lifecycle
is versioned and a case keeps the version it started with, while a decree applies to
every case whose term crosses the day, whatever its version. So the file is not part of
a definition; it is the engine's knowledge of the calendar, as `holidays` is.

`load` checks the whole file before anything counts a day by it, and refuses it with
`InvalidCalendar` naming the entry at fault: an unknown key, a date outside its year or
not a date, a day listed both off and working or twice, a day off on a weekend, an
entry without its reason, act or source, a year without its review note.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from workflow.errors import InvalidCalendar

FILE = Path(__file__).with_name("calendar_kz.toml")
FORMAT = 1

_TOP = {"format", "holidays_version", "reviewed_on", "years"}
_YEAR = {"reviewed", "transfer_acts", "days_off", "working_days"}
_ENTRY = ("date", "reason", "act", "source")


@dataclass(frozen=True)
class Decreed:
    """One day the file makes a day off or a working day, and the act that did."""

    day: date
    reason: str
    act: str
    source: str


@dataclass(frozen=True)
class YearReview:
    """What the file says of one year: its review note, its known acts, its days."""

    year: int
    reviewed: str
    transfer_acts: tuple[str, ...]
    days_off: tuple[Decreed, ...]
    working_days: tuple[Decreed, ...]


@dataclass(frozen=True)
class CalendarData:
    """The whole file, checked."""

    holidays_version: str
    reviewed_on: date
    years: Mapping[int, YearReview]

    def day_off(self, day: date) -> Decreed | None:
        review = self.years.get(day.year)
        return _find(review.days_off, day) if review else None

    def working_day(self, day: date) -> Decreed | None:
        review = self.years.get(day.year)
        return _find(review.working_days, day) if review else None


def _find(entries: tuple[Decreed, ...], day: date) -> Decreed | None:
    return next((e for e in entries if e.day == day), None)


@functools.cache
def shipped() -> CalendarData:
    """The file shipped with the engine, read once per process."""
    return load(FILE)


def load(path: Path) -> CalendarData:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidCalendar(path.name, "file", str(exc)) from None
    return parse(doc, path.name)


def parse(doc: Mapping[str, Any], source: str) -> CalendarData:
    """The checked content of a parsed file; `source` names it in errors."""
    check = _Checker(source)
    check.keys(doc, _TOP, "top level", required=_TOP)
    if doc["format"] != FORMAT:
        check.fail("format", f"is {doc['format']!r}; this engine reads format {FORMAT}")
    reviewed_on = check.day(doc["reviewed_on"], "reviewed_on")
    version = check.text(doc["holidays_version"], "holidays_version")
    years = check.table(doc["years"], "years")
    return CalendarData(
        holidays_version=version,
        reviewed_on=reviewed_on,
        years={review.year: review for review in (check.year(k, v) for k, v in years.items())},
    )


class _Checker:
    """Checks of one file, each failure an `InvalidCalendar` naming where."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> NoReturn:
        raise InvalidCalendar(self.source, where, reason)

    def keys(
        self, table: Mapping[str, Any], allowed: set[str], where: str, required: set[str]
    ) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        missing = sorted(required - set(table))
        if missing:
            self.fail(where, f"missing {missing[0]!r}")

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a table")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty string")
        return str(value)

    def day(self, value: Any, where: str) -> date:
        # A TOML local date; a date-time (a subclass of date) is not one.
        if not isinstance(value, date) or isinstance(value, datetime):
            self.fail(where, f"{value!r} is not a date (write YYYY-MM-DD, unquoted)")
        return value

    def year(self, key: str, value: Any) -> YearReview:
        where = f"years.{key}"
        if not (key.isdigit() and len(key) == 4):
            self.fail(where, "a year is four digits")
        body = self.table(value, where)
        self.keys(body, _YEAR, where, required={"reviewed", "transfer_acts"})
        acts = body["transfer_acts"]
        if not isinstance(acts, list):
            self.fail(f"{where}.transfer_acts", "must be a list (empty when none is known)")
        review = YearReview(
            year=int(key),
            reviewed=self.text(body["reviewed"], f"{where}.reviewed"),
            transfer_acts=tuple(
                self.text(a, f"{where}.transfer_acts[{i}]") for i, a in enumerate(acts)
            ),
            days_off=self.entries(body.get("days_off", []), int(key), f"{where}.days_off"),
            working_days=self.entries(
                body.get("working_days", []), int(key), f"{where}.working_days"
            ),
        )
        self.apart(review, where)
        return review

    def entries(self, value: Any, year: int, where: str) -> tuple[Decreed, ...]:
        if not isinstance(value, list):
            self.fail(where, "must be a list of entries ([[…]] tables)")
        found: list[Decreed] = []
        for i, raw in enumerate(value):
            entry = self.entry(raw, year, f"{where}[{i}]")
            if any(e.day == entry.day for e in found):
                self.fail(f"{where}[{i}] ({entry.day})", "is listed twice")
            found.append(entry)
        return tuple(found)

    def entry(self, raw: Any, year: int, where: str) -> Decreed:
        body = self.table(raw, where)
        named = f"{where} ({body['date']})" if "date" in body else where
        self.keys(body, set(_ENTRY), named, required=set(_ENTRY))
        day = self.day(body["date"], named)
        if day.year != year:
            self.fail(named, f"is not in {year}")
        return Decreed(
            day=day,
            reason=self.text(body["reason"], f"{named}.reason"),
            act=self.text(body["act"], f"{named}.act"),
            source=self.text(body["source"], f"{named}.source"),
        )

    def apart(self, review: YearReview, where: str) -> None:
        """A day is off or working, not both; a weekend day is off without a decree."""
        for i, entry in enumerate(review.days_off):
            named = f"{where}.days_off[{i}] ({entry.day})"
            if any(w.day == entry.day for w in review.working_days):
                self.fail(named, "is listed both as a day off and as a working day")
            if entry.day.weekday() >= 5:
                self.fail(named, f"is a {entry.day:%A}, a day off already")
