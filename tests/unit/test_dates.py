"""Dates as Kazakhstan writes them, and one way of saying when a term ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tatulasu import render
from tatulasu.web import i18n
from workflow import dates

ALMATY = ZoneInfo("Asia/Almaty")
# The end of 07.12.2026 in Almaty (UTC+5): the next day's local midnight.
END_OF_7_DEC = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


def test_days_and_instants_are_written_dd_mm_yyyy_in_local_time() -> None:
    assert dates.day(date(2026, 3, 9)) == "09.03.2026"
    assert dates.instant(datetime(2026, 3, 9, 4, 5, tzinfo=UTC), ALMATY) == "09.03.2026 09:05"
    assert dates.instant(None, ALMATY) == "—"


def test_a_term_ending_at_midnight_ends_with_the_day_before() -> None:
    assert dates.term_end(END_OF_7_DEC, ALMATY) == dates.TermEnd(date(2026, 12, 7), None)
    at_nine = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    assert dates.term_end(at_nine, ALMATY) == dates.TermEnd(date(2026, 12, 7), time(9, 0))


def test_the_end_of_a_term_is_said_as_its_last_day_inclusive_in_each_language() -> None:
    said = {
        lang: dates.until(END_OF_7_DEC, ALMATY, i18n.translations(lang).gettext)
        for lang in i18n.LANGUAGES
    }
    assert said == {
        "en": "until 07.12.2026 inclusive",
        "ru": "до 07.12.2026 включительно",
        "kk": "07.12.2026 дейін (қоса алғанда)",
    }
    assert dates.until(END_OF_7_DEC, ALMATY) == said["en"]


def test_the_cli_says_it_as_the_pages_do_never_24_00_nor_00_00() -> None:
    assert render.until(END_OF_7_DEC, ALMATY) == "until 07.12.2026 inclusive"
    assert render.until_iso("2026-12-07T19:00:00Z", ALMATY) == "until 07.12.2026 inclusive"
    assert "24:00" not in render.until(END_OF_7_DEC, ALMATY)
    assert render.local(END_OF_7_DEC, ALMATY) == "08.12.2026 00:00"  # an instant, not a term
