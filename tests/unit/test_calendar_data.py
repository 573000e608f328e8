"""The calendar file's loader refuses a broken file by name, and its days beat `holidays`."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from states.errors import InvalidDefinition
from tatulasu.exits import BROKEN, exit_code
from workflow import calendar_data
from workflow.calendar import LOCAL_OVERRIDE, BusinessCalendar
from workflow.errors import InvalidCalendar

GOOD = """
format = 1
holidays_version = "0.109"
reviewed_on = 2026-12-07

[years.2028]
reviewed = "test year"
transfer_acts = ["Government resolution No. 1 of 01.01.2028 (test)"]

[[years.2028.days_off]]
date = 2028-05-08
reason = "day off transferred from Saturday 6 May 2028"
act = "Government resolution No. 1 of 01.01.2028 (test)"
source = "https://example.kz/1"

[[years.2028.working_days]]
date = 2028-05-06
reason = "working Saturday, its day off moved to 8 May"
act = "Government resolution No. 1 of 01.01.2028 (test)"
source = "https://example.kz/1"
"""


def doc(text: str = GOOD) -> dict[str, Any]:
    return tomllib.loads(text)


def refusal(document: dict[str, Any]) -> InvalidCalendar:
    with pytest.raises(InvalidCalendar) as caught:
        calendar_data.parse(document, "test.toml")
    return caught.value


def test_a_good_file_loads_with_its_days_and_acts() -> None:
    data = calendar_data.parse(doc(), "test.toml")
    review = data.years[2028]
    assert [e.day for e in review.days_off] == [date(2028, 5, 8)]
    assert [e.day for e in review.working_days] == [date(2028, 5, 6)]
    assert data.day_off(date(2028, 5, 8)) == review.days_off[0]
    assert data.day_off(date(2029, 5, 8)) is None


def test_the_shipped_file_loads() -> None:
    data = calendar_data.load(calendar_data.FILE)
    assert data.reviewed_on == date(2026, 12, 7)


def test_a_day_both_off_and_working_is_refused_naming_it() -> None:
    d = doc()
    d["years"]["2028"]["working_days"][0]["date"] = date(2028, 5, 8)
    error = refusal(d)
    assert error.where == "years.2028.days_off[0] (2028-05-08)"
    assert "both as a day off and as a working day" in error.reason


def test_a_date_outside_its_year_is_refused() -> None:
    d = doc()
    d["years"]["2028"]["days_off"][0]["date"] = date(2029, 5, 8)
    error = refusal(d)
    assert error.where == "years.2028.days_off[0] (2029-05-08)"
    assert error.reason == "is not in 2028"


@pytest.mark.parametrize("field", ["source", "act", "reason"])
def test_an_entry_without_its_source_act_or_reason_is_refused(field: str) -> None:
    d = doc()
    del d["years"]["2028"]["working_days"][0][field]
    error = refusal(d)
    assert error.where == "years.2028.working_days[0] (2028-05-06)"
    assert error.reason == f"missing {field!r}"


def test_an_empty_source_is_refused_too() -> None:
    d = doc()
    d["years"]["2028"]["days_off"][0]["source"] = " "
    assert refusal(d).where == "years.2028.days_off[0] (2028-05-08).source"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ((), "top level"),
        (("years", "2028"), "years.2028"),
        (("years", "2028", "days_off", 0), "years.2028.days_off[0] (2028-05-08)"),
    ],
)
def test_an_unknown_key_is_refused_where_it_is(where: tuple[Any, ...], expected: str) -> None:
    d = doc()
    table: Any = d
    for step in where:
        table = table[step]
    table["decree"] = "No. 5"
    error = refusal(d)
    assert (error.where, error.reason.split(" (")[0]) == (expected, "unknown key 'decree'")


def test_a_date_written_as_text_or_with_a_time_is_refused() -> None:
    quoted = doc(GOOD.replace("date = 2028-05-08", 'date = "2028-05-08"'))
    assert "is not a date" in refusal(quoted).reason
    timed = doc(GOOD.replace("date = 2028-05-08", "date = 2028-05-08T00:00:00"))
    assert "is not a date" in refusal(timed).reason


def test_a_day_listed_twice_is_refused() -> None:
    d = doc()
    d["years"]["2028"]["days_off"].append(dict(d["years"]["2028"]["days_off"][0]))
    error = refusal(d)
    assert (error.where, error.reason) == ("years.2028.days_off[1] (2028-05-08)", "is listed twice")


def test_a_day_off_on_a_weekend_is_refused_as_meaningless() -> None:
    d = doc()
    d["years"]["2028"]["days_off"][0]["date"] = date(2028, 5, 7)  # a Sunday
    assert refusal(d).reason == "is a Sunday, a day off already"


def test_a_year_without_its_review_note_or_acts_list_is_refused() -> None:
    d = doc()
    del d["years"]["2028"]["transfer_acts"]
    assert refusal(d).reason == "missing 'transfer_acts'"
    d = doc()
    del d["years"]["2028"]["reviewed"]
    assert refusal(d).reason == "missing 'reviewed'"


def test_a_year_that_is_not_four_digits_and_another_format_are_refused() -> None:
    d = doc()
    d["years"]["28"] = d["years"].pop("2028")
    assert refusal(d).where == "years.28"
    d = doc()
    d["format"] = 2
    assert refusal(d).where == "format"


def test_an_unreadable_file_is_a_calendar_error_too(tmp_path: Path) -> None:
    broken = tmp_path / "calendar.toml"
    broken.write_text("format = = 1\n", encoding="utf-8")
    with pytest.raises(InvalidCalendar) as caught:
        calendar_data.load(broken)
    assert caught.value.source == "calendar.toml"


def test_the_refusal_is_a_definition_error_and_the_cli_says_broken() -> None:
    error = refusal({"format": 1})
    assert isinstance(error, InvalidDefinition)
    assert str(error) == "test.toml: top level: missing 'holidays_version'"
    assert exit_code(error) == BROKEN


def test_the_files_days_beat_the_package_and_the_settings_beat_the_file() -> None:
    data = calendar_data.parse(doc(), "test.toml")
    cal = BusinessCalendar(decrees=data)
    assert not cal.is_working_day(date(2028, 5, 8))  # a Monday made a day off
    assert cal.is_working_day(date(2028, 5, 6))  # a Saturday made a working day
    verdict = cal.explain(date(2028, 5, 8))
    assert (verdict.what, verdict.source) == (
        "day off transferred from Saturday 6 May 2028",
        "Government resolution No. 1 of 01.01.2028 (test)",
    )
    local = BusinessCalendar(extra_working_days=[date(2028, 5, 8)], decrees=data)
    assert local.is_working_day(date(2028, 5, 8))
    assert local.explain(date(2028, 5, 8)).source == LOCAL_OVERRIDE
