"""A year of the business calendar as an operator checks it against the official one.

The official production calendar lists the year's days off and transferred working
days and counts the working days of each month; this is the same year as the engine
counts it, with each day's source beside it, and the file's review note, so a year whose
transfers nobody has checked says so instead of looking complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from workflow.calendar import WEEKEND, WORKING_WEEK, BusinessCalendar, DayVerdict
from workflow.calendar_data import YearReview


@dataclass(frozen=True)
class MonthCount:
    month: int
    days: int
    working_days: int

    @property
    def days_off(self) -> int:
        return self.days - self.working_days


@dataclass(frozen=True)
class YearCalendar:
    year: int
    package: str
    reviewed_against: str
    reviewed_on: date
    review: YearReview | None  # None: the file has no section for the year
    days: tuple[DayVerdict, ...]  # every day that is not an ordinary weekday or weekend day
    months: tuple[MonthCount, ...]

    @property
    def working_days(self) -> int:
        return sum(m.working_days for m in self.months)


def describe(cal: BusinessCalendar, year: int) -> YearCalendar:
    verdicts = [cal.explain(day) for day in _days_of(year)]
    months = tuple(
        MonthCount(
            month=month,
            days=len(of_month := [v for v in verdicts if v.day.month == month]),
            working_days=sum(v.working for v in of_month),
        )
        for month in range(1, 13)
    )
    return YearCalendar(
        year=year,
        package=cal.package,
        reviewed_against=f"holidays {cal.decrees.holidays_version}",
        reviewed_on=cal.decrees.reviewed_on,
        review=cal.decrees.years.get(year),
        days=tuple(v for v in verdicts if v.source not in (WEEKEND, WORKING_WEEK)),
        months=months,
    )


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
