"""The business calendar: Kazakhstan's holidays, the 2024 transfers, local midnight in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import states
from workflow.calendar import BusinessCalendar
from workflow.terms import extended_due, plan, resumed_due, term_due

ALMATY = ZoneInfo("Asia/Almaty")
CAL = BusinessCalendar()


def lc_term(state: str) -> states.Term:
    term = states.get(1).states[state].term  # the terms of version 1: cases live on it
    assert term is not None
    return term


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 1, 1),  # New Year
        date(2024, 3, 8),  # International Women's Day
        date(2024, 3, 21),  # Nauryz
        date(2024, 5, 1),  # Unity Day
        date(2024, 5, 7),  # Defender of the Fatherland Day
        date(2024, 5, 8),  # day off transferred from Saturday 4 May
        date(2024, 5, 9),  # Victory Day
        date(2024, 7, 8),  # Capital Day (6 July, a Saturday) observed
        date(2024, 12, 16),  # Independence Day
        date(2024, 5, 11),  # an ordinary Saturday
        date(2024, 5, 12),  # an ordinary Sunday
    ],
)
def test_holidays_weekends_and_transferred_days_off_are_not_working_days(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 5, 4),  # Saturday made a working day in exchange for 8 May
        date(2024, 5, 3),
        date(2024, 5, 6),
        date(2024, 5, 10),
    ],
)
def test_ordinary_weekdays_and_the_transferred_saturday_are_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_working_days_skip_the_may_2024_holidays_and_count_saturday_4_may() -> None:
    # Thursday 2 May + 1 working day = Friday 3 May; + 2 = Saturday 4 May (working).
    assert CAL.add_days(date(2024, 5, 2), 1, "working") == date(2024, 5, 3)
    assert CAL.add_days(date(2024, 5, 2), 2, "working") == date(2024, 5, 4)
    # Monday 6 May + 1 working day: 7, 8 and 9 May are off, so Friday 10 May.
    assert CAL.add_days(date(2024, 5, 6), 1, "working") == date(2024, 5, 10)
    assert CAL.add_days(date(2024, 5, 6), 3, "working") == date(2024, 5, 14)


def test_working_days_count_backwards_too() -> None:
    assert CAL.add_days(date(2024, 5, 10), -1, "working") == date(2024, 5, 6)
    assert CAL.add_days(date(2024, 5, 6), -1, "working") == date(2024, 5, 4)


def test_calendar_days_do_not_skip_anything() -> None:
    assert CAL.add_days(date(2024, 5, 6), 3, "calendar") == date(2024, 5, 9)
    assert CAL.add_days(date(2024, 5, 6), -10, "calendar") == date(2024, 4, 26)


def test_extra_days_off_override_the_package() -> None:
    decree = BusinessCalendar(extra_days_off=[date(2024, 5, 10)])
    assert not decree.is_working_day(date(2024, 5, 10))
    assert decree.add_days(date(2024, 5, 6), 1, "working") == date(2024, 5, 13)


def test_extra_working_days_override_the_package_and_weekends() -> None:
    decree = BusinessCalendar(extra_working_days=[date(2024, 5, 8), date(2024, 5, 11)])
    assert decree.is_working_day(date(2024, 5, 8))
    assert decree.is_working_day(date(2024, 5, 11))
    assert decree.add_days(date(2024, 5, 6), 1, "working") == date(2024, 5, 8)
    assert decree.add_days(date(2024, 5, 10), 1, "working") == date(2024, 5, 11)


def test_a_day_both_off_and_working_by_override_counts_as_working() -> None:
    day = date(2024, 5, 6)
    both = BusinessCalendar(extra_days_off=[day], extra_working_days=[day])
    assert both.is_working_day(day)


def test_end_of_day_is_the_next_local_midnight_in_utc() -> None:
    # Kazakhstan moved to a single zone, UTC+5, on 1 March 2024.
    assert CAL.end_of_day(date(2024, 5, 14)) == datetime(2024, 5, 14, 19, 0, tzinfo=UTC)
    assert CAL.end_of_day(date(2024, 1, 15)) == datetime(2024, 1, 15, 18, 0, tzinfo=UTC)
    end = CAL.end_of_day(date(2024, 5, 14))
    assert end.tzinfo == UTC
    assert end.astimezone(ALMATY) == datetime(2024, 5, 15, 0, 0, tzinfo=ALMATY)


def test_local_date_uses_the_centre_time_zone_not_utc() -> None:
    # 20:00 UTC on 14 May is already 01:00 on 15 May in Almaty.
    assert CAL.local_date(datetime(2024, 5, 14, 20, 0, tzinfo=UTC)) == date(2024, 5, 15)
    assert CAL.local_date(datetime(2024, 5, 14, 18, 59, tzinfo=UTC)) == date(2024, 5, 14)


def test_other_time_zones_can_be_configured() -> None:
    aqtau = BusinessCalendar(tz="Asia/Aqtau")
    assert aqtau.end_of_day(date(2024, 1, 15)) == datetime(2024, 1, 15, 19, 0, tzinfo=UTC)


def test_a_working_day_term_skips_the_may_holidays_and_ends_at_local_midnight() -> None:
    # Referred on Monday 6 May 2024 at 10:00 local: 3 working days are 10, 13 and 14 May.
    opened = datetime(2024, 5, 6, 10, 0, tzinfo=ALMATY)
    due = term_due(lc_term("referred"), opened, CAL)
    assert due == datetime(2024, 5, 14, 19, 0, tzinfo=UTC)


def test_a_calendar_day_term_runs_from_the_contract_day() -> None:
    due = term_due(lc_term("in_mediation"), date(2024, 4, 22), CAL)
    assert due == datetime(2024, 5, 22, 19, 0, tzinfo=UTC)  # end of 22 May local


def test_a_term_opened_late_in_the_evening_utc_counts_from_the_local_date() -> None:
    # 21:00 UTC on 21 April is 02:00 on 22 April in Almaty: the term counts from the 22nd.
    due = term_due(lc_term("pre_trial"), datetime(2024, 4, 21, 21, 0, tzinfo=UTC), CAL)
    assert due == CAL.end_of_day(date(2024, 5, 2))


def test_an_extension_moves_the_due_instant_by_exactly_its_days() -> None:
    term = lc_term("in_mediation")
    due = term_due(term, date(2024, 4, 22), CAL)
    assert extended_due(term, due, 30, CAL) - due == timedelta(days=30)


def test_a_resumed_term_has_the_days_that_were_left() -> None:
    term = lc_term("pre_trial")
    now = datetime(2024, 6, 3, 5, 0, tzinfo=UTC)
    due = resumed_due(term, now, 4, CAL)
    assert CAL.local_date(due - timedelta(microseconds=1)) == date(2024, 6, 7)
    assert CAL.days_left(now, due, "calendar") == 4


def test_days_left_counts_working_days_after_today_until_the_last_day() -> None:
    now = datetime(2024, 5, 6, 10, 0, tzinfo=ALMATY)
    due = CAL.end_of_day(date(2024, 5, 14))
    assert CAL.days_left(now, due, "working") == 3
    assert CAL.days_left(now, due, "calendar") == 8
    assert CAL.days_left(datetime(2024, 6, 1, tzinfo=UTC), due, "calendar") == 0


def test_reminders_fall_at_nine_local_on_the_days_before_the_last_day() -> None:
    term = lc_term("pre_trial")  # 10 calendar days, reminders 3 and 1 days before
    now = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)
    due = term_due(term, now, CAL)
    timers = plan(term, due, now, CAL)
    reminders = [t.due_at for t in timers if t.kind == "reminder"]
    assert reminders == [
        datetime(2024, 4, 29, 9, 0, tzinfo=ALMATY),
        datetime(2024, 5, 1, 9, 0, tzinfo=ALMATY),
    ]
    expiry = [t for t in timers if t.kind == "expiry"]
    assert [(t.event, t.due_at) for t in expiry] == [("no_consent", due)]


def test_planned_timers_are_utc_instants_because_sqlite_drops_offsets() -> None:
    term = lc_term("pre_trial")
    now = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)
    timers = plan(term, term_due(term, now, CAL), now, CAL)
    assert [t.due_at.tzinfo for t in timers] == [UTC, UTC, UTC]
    assert timers[0].due_at == datetime(2024, 4, 29, 4, 0, tzinfo=UTC)


def test_reminders_already_past_are_not_planned() -> None:
    term = lc_term("pre_trial")
    start = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)
    due = term_due(term, start, CAL)
    late = datetime(2024, 4, 30, 4, 0, tzinfo=UTC)
    kinds = [t.kind for t in plan(term, due, late, CAL)]
    assert kinds == ["reminder", "expiry"]


def test_later_expiry_steps_are_counted_in_the_terms_own_days() -> None:
    term = lc_term("referred")  # escalate at the end, then 2 working days later
    opened = datetime(2024, 5, 2, 10, 0, tzinfo=ALMATY)
    due = term_due(term, opened, CAL)
    assert due == CAL.end_of_day(date(2024, 5, 6))  # 3, 4 (Saturday, working) and 6 May
    steps = [t.due_at for t in plan(term, due, opened, CAL) if t.kind == "expiry"]
    assert steps == [due, CAL.end_of_day(date(2024, 5, 13))]  # 7, 8, 9 May are off
