"""Business calendar: when a term in calendar or working days runs out.

Working days skip Saturdays, Sundays and Kazakhstan's public holidays as the pinned
`holidays` package knows them (country KZ, with the transfers it has), corrected by the
reviewed file `calendar_kz.toml` (`workflow.calendar_data`: the days the package lacks
or gets wrong, each with its act), and last by a deployment's own overrides (settings:
extra days off and extra working days, for a decree not yet in the file). A term of N
days ends at the end of the N-th day (midnight, local time of the centre); every instant
is stored in UTC.

Neither the package nor the file is read until a day is first asked about: a command
that only reads cases starts without them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from workflow import calendar_data

if TYPE_CHECKING:
    from holidays import HolidayBase

T = TypeVar("T")
DEFAULT_TZ = "Asia/Almaty"
LOCAL_OVERRIDE = "local override (settings)"
WEEKEND = "weekend"
WORKING_WEEK = "working week"


class Memo:
    """Answers computed from one calendar (a term's end, its timers), remembered with it.

    They hold as long as the calendar does, and no longer: a calendar built with other
    settings has its own. Bounded: cleared when full.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._found: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        try:
            return self._found[key]  # type: ignore[no-any-return]
        except KeyError:
            return self.put(key, compute())

    def put(self, key: Hashable, value: T) -> T:
        if len(self._found) >= self._size:
            self._found.clear()
        self._found[key] = value
        return value


@dataclass(frozen=True)
class DayVerdict:
    """Whether a day is a working day, what it is, and who says so.

    `source` is the `holidays` package and its version, the act of the calendar file,
    `LOCAL_OVERRIDE`, or for an ordinary day `WEEKEND` / `WORKING_WEEK`.
    """

    day: date
    working: bool
    what: str
    source: str


class BusinessCalendar:
    def __init__(
        self,
        tz: str = DEFAULT_TZ,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        decrees: calendar_data.CalendarData | None = None,
    ) -> None:
        """`decrees`: the checked calendar file; by default the one shipped, read lazily."""
        self.tz = ZoneInfo(tz)
        self._days_off = frozenset(extra_days_off)
        self._working = frozenset(extra_working_days)
        self._given_decrees = decrees
        self.is_working_day = functools.lru_cache(maxsize=8192)(self._is_working_day)
        self.memo = Memo()

    @functools.cached_property
    def _holidays(self) -> HolidayBase:
        """Kazakhstan's holidays, loaded on the first working-day count (a read needs none)."""
        import holidays

        return holidays.country_holidays("KZ", language="en_US")

    @functools.cached_property
    def package(self) -> str:
        """The `holidays` package and version the days come from, e.g. "holidays 0.109"."""
        from importlib.metadata import version

        return f"holidays {version('holidays')}"

    @functools.cached_property
    def decrees(self) -> calendar_data.CalendarData:
        given = self._given_decrees
        return given if given is not None else calendar_data.shipped()

    def _is_working_day(self, day: date) -> bool:
        return self.explain(day).working

    def explain(self, day: date) -> DayVerdict:
        """The day's verdict: the local overrides first, then the file, then `holidays`."""
        if day in self._working:
            return DayVerdict(day, True, "working day", LOCAL_OVERRIDE)
        if day in self._days_off:
            return DayVerdict(day, False, "day off", LOCAL_OVERRIDE)
        decreed = self.decrees.working_day(day)
        if decreed is not None:
            return DayVerdict(day, True, decreed.reason, decreed.act)
        decreed = self.decrees.day_off(day)
        if decreed is not None:
            return DayVerdict(day, False, decreed.reason, decreed.act)
        return self._package_verdict(day)

    def _package_verdict(self, day: date) -> DayVerdict:
        working = bool(self._holidays.is_working_day(day))
        name = self._holidays.get(day)
        weekend = day.weekday() >= 5
        if name is not None and not working:
            return DayVerdict(day, False, str(name), self.package)
        if weekend and working:
            return DayVerdict(day, True, "working day (transferred)", self.package)
        if weekend:
            return DayVerdict(day, False, f"{day:%A}", WEEKEND)
        return DayVerdict(day, working, "", WORKING_WEEK)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """The instant the local day ends (the next local midnight), in UTC."""
        return datetime.combine(day + timedelta(days=1), time(), self.tz).astimezone(UTC)

    def add_days(self, start: date, days: int, counted_in: str) -> date:
        """The day `days` calendar or working days after `start` (negative: before)."""
        if counted_in == "calendar":
            return start + timedelta(days=days)
        step = 1 if days >= 0 else -1
        day, left = start, abs(days)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def term_end(self, start: datetime, days: int, counted_in: str) -> datetime:
        """When a term of `days` that starts at `start` runs out.

        A working-day term whose last day would be a day off moves to the next working day.
        """
        last = self.add_days(self.local_date(start), days, counted_in)
        return self.end_of_day(last)

    def days_left(self, now: datetime, due: datetime, counted_in: str) -> int:
        """Whole days (calendar or working) after today until `due`'s last day."""
        today = self.local_date(now)
        last = self.local_date(due - timedelta(microseconds=1))
        if counted_in == "calendar":
            return max((last - today).days, 0)
        count, day = 0, today
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
