"""Business calendar: when a term in calendar or working days runs out.

Working days skip Saturdays, Sundays and Kazakhstan's public holidays as the `holidays`
package knows them (country KZ, with the government's yearly transfers). Decrees
published after the package's release are added as overrides: extra days off and extra
working days. A term of N days ends at the end of the N-th day (midnight, local time of
the centre); every instant is stored in UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

DEFAULT_TZ = "Asia/Almaty"


class BusinessCalendar:
    def __init__(
        self,
        tz: str = DEFAULT_TZ,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self._days_off = frozenset(extra_days_off)
        self._working = frozenset(extra_working_days)
        self.is_working_day = functools.lru_cache(maxsize=8192)(self._is_working_day)

    @functools.cached_property
    def _holidays(self) -> HolidayBase:
        """Kazakhstan's holidays, loaded on the first working-day count (a read needs none)."""
        import holidays

        return holidays.country_holidays("KZ")

    def _is_working_day(self, day: date) -> bool:
        if day in self._working:
            return True
        if day in self._days_off:
            return False
        return bool(self._holidays.is_working_day(day))

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
