"""`tatulasu calendar YEAR`: the year an operator compares with the official calendar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tatulasu.cli import app
from tests.e2e.conftest import Run, as_json
from workflow import calendar_data
from workflow.calendar import LOCAL_OVERRIDE


def day(listing: dict[str, Any], iso: str) -> dict[str, Any]:
    return next(d for d in listing["days"] if d["date"] == iso)


def test_the_year_lists_its_days_off_with_their_sources_and_needs_no_database(
    run: Run, db_url: str
) -> None:
    done = run("calendar", "2027")
    assert done.exit_code == 0, done.stderr
    assert "15.03.2027" in done.stdout and "Constitution Day" in done.stdout
    assert "holidays 0.109" in done.stdout
    assert "January" in done.stdout and "247" in done.stdout  # the year's working days
    assert not Path(db_url.removeprefix("sqlite:///")).exists()


def test_a_year_without_a_known_transfer_act_says_to_check_it_by_hand(run: Run) -> None:
    done = run("calendar", "2027")
    assert "no act transferring days off in 2027 was found as of 07.12.2026" in done.stderr
    listing = as_json(run("calendar", "2027", "--json"))
    assert listing["transfer_acts"] == []
    assert listing["gap"] == "no act transferring days off in 2027 was found as of 07.12.2026"


def test_json_has_each_day_its_source_and_the_working_days_per_month(run: Run) -> None:
    listing = as_json(run("calendar", "2024", "--json"))
    assert day(listing, "2024-05-04") == {
        "date": "2024-05-04",
        "weekday": "Saturday",
        "working": True,
        "what": "working day (transferred)",
        "source": "holidays 0.109",
    }
    assert day(listing, "2024-05-08")["working"] is False
    assert listing["gap"] is None and listing["transfer_acts"]
    may = listing["months"][4]
    assert (may["month"], may["days"], may["working_days"], may["days_off"]) == (5, 31, 20, 11)
    assert listing["working_days"] == 249


def test_january_2026_has_the_19_working_days_of_the_published_calendar(run: Run) -> None:
    listing = as_json(run("calendar", "2026", "--json"))
    assert listing["months"][0]["working_days"] == 19
    assert "2026-08-31" not in {d["date"] for d in listing["days"]}  # no Constitution Day


def test_a_year_the_file_does_not_cover_says_so(run: Run) -> None:
    listing = as_json(run("calendar", "2031", "--json"))
    assert listing["reviewed"] is None
    assert "2031 is not in the reviewed calendar file" in listing["gap"]


def test_a_local_override_is_listed_as_such(db_url: str) -> None:
    env = {"TATULASU_DATABASE_URL": db_url, "TATULASU_EXTRA_DAYS_OFF": "2027-06-01"}
    done = CliRunner().invoke(app, ["calendar", "2027", "--json"], env=env)
    listing = as_json(done)
    assert day(listing, "2027-06-01")["source"] == LOCAL_OVERRIDE
    assert listing["months"][5]["working_days"] == 21


def test_a_year_out_of_range_is_input_to_fix(run: Run) -> None:
    assert run("calendar", "1990").exit_code == 2


@pytest.fixture
def broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "calendar_kz.toml"
    text = calendar_data.FILE.read_text(encoding="utf-8")
    path.write_text(text.replace("[years.2027]", "[years.2027]\nrate = 1"), encoding="utf-8")
    monkeypatch.setattr(calendar_data, "FILE", path)
    calendar_data.shipped.cache_clear()
    yield path
    calendar_data.shipped.cache_clear()


def test_a_broken_calendar_file_is_named_and_exits_5(run: Run, broken_file: Path) -> None:
    done = run("calendar", "2027")
    assert done.exit_code == 5
    assert "calendar_kz.toml: years.2027: unknown key 'rate'" in done.stderr
