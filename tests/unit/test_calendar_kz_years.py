"""Every day off of 2024–2027, pinned: what `holidays` 0.109 and the reviewed file say.

Each year's list is the whole set of days that are off besides ordinary Saturdays and
Sundays (holidays, also those on a weekend, and the days off moved from them), with the
weekend days made working days; every other day of the year is a working day from
Monday to Friday. A package upgrade or an edit of `workflow/calendar_kz.toml` that moves
one day fails here, naming it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo

import pytest

import states
from workflow import calendar_data
from workflow.calendar import BusinessCalendar
from workflow.calendar_year import describe
from workflow.terms import term_due

ALMATY = ZoneInfo("Asia/Almaty")
CAL = BusinessCalendar()

DAYS_OFF = {
    2024: {
        date(2024, 1, 1),  # New Year (Monday)
        date(2024, 1, 2),  # New Year, second day
        date(2024, 1, 7),  # Orthodox Christmas, a Sunday: not moved
        date(2024, 3, 8),  # International Women's Day
        date(2024, 3, 21),  # Nauryz
        date(2024, 3, 22),  # Nauryz
        date(2024, 3, 23),  # Nauryz, a Saturday...
        date(2024, 3, 25),  # ...so Monday is off
        date(2024, 5, 1),  # Unity Day
        date(2024, 5, 7),  # Defender of the Fatherland Day
        date(2024, 5, 8),  # day off transferred from Saturday 4 May
        date(2024, 5, 9),  # Victory Day
        date(2024, 6, 16),  # Kurban Ait, a Sunday: not moved (17 June stayed a working day)
        date(2024, 7, 6),  # Capital Day, a Saturday...
        date(2024, 7, 8),  # ...so Monday is off
        date(2024, 8, 30),  # Constitution Day (30 August until 2025)
        date(2024, 10, 25),  # Republic Day
        date(2024, 12, 16),  # Independence Day
    },
    2025: {
        date(2025, 1, 1),  # New Year
        date(2025, 1, 2),  # New Year, second day
        date(2025, 1, 3),  # day off transferred from Sunday 5 January
        date(2025, 1, 7),  # Orthodox Christmas
        date(2025, 3, 8),  # International Women's Day, a Saturday...
        date(2025, 3, 10),  # ...so Monday is off
        date(2025, 3, 21),  # Nauryz
        date(2025, 3, 22),  # Nauryz, a Saturday...
        date(2025, 3, 23),  # Nauryz, a Sunday...
        date(2025, 3, 24),  # ...so Monday...
        date(2025, 3, 25),  # ...and Tuesday are off
        date(2025, 5, 1),  # Unity Day
        date(2025, 5, 7),  # Defender of the Fatherland Day
        date(2025, 5, 9),  # Victory Day
        date(2025, 6, 6),  # Kurban Ait
        date(2025, 7, 6),  # Capital Day, a Sunday...
        date(2025, 7, 7),  # ...so Monday is off
        date(2025, 8, 30),  # Constitution Day, a Saturday...
        date(2025, 9, 1),  # ...so Monday is off
        date(2025, 10, 25),  # Republic Day, a Saturday...
        date(2025, 10, 27),  # ...so Monday is off
        date(2025, 12, 16),  # Independence Day
    },
    2026: {
        date(2026, 1, 1),  # New Year
        date(2026, 1, 2),  # New Year, second day
        date(2026, 1, 7),  # Orthodox Christmas
        date(2026, 3, 8),  # International Women's Day, a Sunday...
        date(2026, 3, 9),  # ...so Monday is off
        date(2026, 3, 21),  # Nauryz, a Saturday
        date(2026, 3, 22),  # Nauryz, a Sunday
        date(2026, 3, 23),  # Nauryz
        date(2026, 3, 24),  # moved from 21 March
        date(2026, 3, 25),  # moved from 22 March
        date(2026, 5, 1),  # Unity Day
        date(2026, 5, 7),  # Defender of the Fatherland Day
        date(2026, 5, 9),  # Victory Day, a Saturday...
        date(2026, 5, 11),  # ...so Monday is off
        date(2026, 5, 27),  # Kurban Ait (the Spiritual Administration's date)
        date(2026, 7, 6),  # Capital Day
        # No Constitution Day: 30 August no longer is one, 15 March is one from 2027.
        date(2026, 10, 25),  # Republic Day, a Sunday...
        date(2026, 10, 26),  # ...so Monday is off
        date(2026, 12, 16),  # Independence Day
    },
    2027: {
        date(2027, 1, 1),  # New Year
        date(2027, 1, 2),  # New Year, second day, a Saturday...
        date(2027, 1, 4),  # ...so Monday is off
        date(2027, 1, 7),  # Orthodox Christmas
        date(2027, 3, 8),  # International Women's Day
        date(2027, 3, 15),  # Constitution Day, the new Constitution's referendum day
        date(2027, 3, 21),  # Nauryz, a Sunday...
        date(2027, 3, 22),  # Nauryz
        date(2027, 3, 23),  # Nauryz
        date(2027, 3, 24),  # ...moved to Wednesday
        date(2027, 5, 1),  # Unity Day, a Saturday...
        date(2027, 5, 3),  # ...so Monday is off
        date(2027, 5, 7),  # Defender of the Fatherland Day
        date(2027, 5, 9),  # Victory Day, a Sunday...
        date(2027, 5, 10),  # ...so Monday is off
        date(2027, 5, 16),  # Kurban Ait (the package's estimate), a Sunday: not moved
        date(2027, 7, 6),  # Capital Day
        date(2027, 10, 25),  # Republic Day
        date(2027, 12, 16),  # Independence Day
    },
}

WORKING_WEEKEND_DAYS = {
    2024: {date(2024, 5, 4)},  # Saturday, its day off transferred to Wednesday 8 May
    2025: {date(2025, 1, 5)},  # Sunday, its day off transferred to Friday 3 January
    2026: set(),  # no act transferring days found (calendar file, reviewed 2026-12-07)
    2027: set(),  # no act transferring days found (calendar file, reviewed 2026-12-07)
}

# The official production calendars count 246 working days in 2025, and 246 in 2026 before
# 30 August stopped being Constitution Day (Monday 31 August, its moved day off, went too).
WORKING_DAYS_IN_THE_YEAR = {2024: 249, 2025: 246, 2026: 247, 2027: 247}


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", sorted(DAYS_OFF))
def test_every_day_of_the_year_is_off_or_working_as_pinned(year: int) -> None:
    wrong = [
        (day, CAL.is_working_day(day))
        for day in days_of(year)
        if CAL.is_working_day(day)
        != (day not in DAYS_OFF[year] and (day.weekday() < 5 or day in WORKING_WEEKEND_DAYS[year]))
    ]
    assert wrong == []


@pytest.mark.parametrize("year", sorted(DAYS_OFF))
def test_the_years_listing_names_exactly_the_pinned_days(year: int) -> None:
    listed = describe(CAL, year).days
    assert {v.day for v in listed if not v.working} == DAYS_OFF[year]
    assert {v.day for v in listed if v.working} == WORKING_WEEKEND_DAYS[year]
    assert describe(CAL, year).working_days == WORKING_DAYS_IN_THE_YEAR[year]


def test_saturday_4_may_2024_is_a_working_day_and_wednesday_8_may_a_day_off() -> None:
    assert CAL.is_working_day(date(2024, 5, 4))
    assert not CAL.is_working_day(date(2024, 5, 8))


def test_2026_has_no_constitution_day_neither_on_30_august_nor_on_15_march() -> None:
    for day in (date(2026, 8, 30), date(2026, 3, 15)):
        assert "Constitution" not in CAL.explain(day).what
    assert CAL.is_working_day(date(2026, 8, 31))  # no day off moved from Sunday 30 August
    assert CAL.is_working_day(date(2026, 3, 16))  # nor from Sunday 15 March


def test_15_march_2027_is_constitution_day_and_a_day_off() -> None:
    verdict = CAL.explain(date(2027, 3, 15))
    assert (verdict.working, verdict.what) == (False, "Constitution Day")
    assert CAL.is_working_day(date(2027, 8, 30))


@pytest.mark.parametrize(
    ("religious", "next_monday"),
    [
        (date(2024, 1, 7), date(2024, 1, 8)),  # Orthodox Christmas on a Sunday
        (date(2024, 6, 16), date(2024, 6, 17)),  # Kurban Ait on a Sunday
        (date(2027, 5, 16), date(2027, 5, 17)),  # Kurban Ait (estimated) on a Sunday
    ],
)
def test_religious_days_off_on_a_weekend_are_not_moved(religious: date, next_monday: date) -> None:
    assert religious.weekday() == 6
    assert not CAL.is_working_day(religious)
    assert CAL.is_working_day(next_monday)


def test_holidays_on_a_weekend_move_their_day_off_to_the_next_working_day() -> None:
    assert not CAL.is_working_day(date(2027, 1, 4))  # New Year's 2 January, a Saturday
    assert not CAL.is_working_day(date(2026, 5, 11))  # Victory Day, a Saturday


def test_a_10_working_day_term_over_new_year_2027_ends_on_14_january() -> None:
    term = states.current().states["court_conciliation"].term
    assert term is not None and (term.days, term.counted_in) == (10, "working")
    # Opened Monday 28 December 2026: 29, 30, 31 December count; 1 January (holiday),
    # 2–3 (weekend), 4 (New Year's 2nd moved from Saturday) are off; 5, 6 count; 7 is
    # Christmas; 8, 11, 12, 13, 14 January count.
    opened = datetime(2026, 12, 28, 10, 0, tzinfo=ALMATY)
    due = term_due(term, opened, CAL)
    assert due == datetime(2027, 1, 14, 19, 0, tzinfo=UTC)  # end of 14 January, local
    assert CAL.local_date(due - timedelta(microseconds=1)) == date(2027, 1, 14)


def test_the_calendar_file_was_reviewed_against_the_installed_holidays() -> None:
    # An upgrade of `holidays` is a reviewed change: review calendar_kz.toml, then the pin.
    assert calendar_data.shipped().holidays_version == version("holidays")


def test_the_calendar_file_holds_only_what_the_package_lacks() -> None:
    import holidays

    package = holidays.country_holidays("KZ")
    for review in calendar_data.shipped().years.values():
        for entry in review.days_off:
            assert package.is_working_day(entry.day), f"{entry.day} is already off in holidays"
        for entry in review.working_days:
            assert not package.is_working_day(entry.day), f"{entry.day} already works"


def test_2026_and_2027_say_that_no_act_on_transfers_was_found() -> None:
    years = calendar_data.shipped().years
    assert sorted(years) == [2024, 2025, 2026, 2027]
    for year in (2026, 2027):
        assert years[year].transfer_acts == ()
        assert "was found as of 2026-12-07" in years[year].reviewed.replace("\n", " ")
    assert years[2024].transfer_acts and years[2025].transfer_acts
