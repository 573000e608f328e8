"""A term whose last day falls on a day off may end on the next working day instead.

The option is the term's (`ends_on_working_day = true` in the lifecycle file): a
10-calendar-day offer made on 11 March 2026 would end on Saturday 21 March, the first of
Nauryz's days off (21–25 March 2026), and ends on Thursday 26 March. Lifecycle version 1
does not use it, so its cases keep the ends they were planned with.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import states
from states import Term
from states.definition import parse
from states.errors import InvalidDefinition
from workflow.calendar import BusinessCalendar
from workflow.terms import extended_due, plan, resumed_due, term_due

CAL = BusinessCalendar()
OFFER = Term("reply_to_offer", 10, "calendar", "Law No. 401-IV, art. 20", on_expiry=())
MOVING = replace(OFFER, ends_on_working_day=True)


def last_day(due: Any) -> date:
    return CAL.local_date(due - timedelta(microseconds=1))


def test_a_last_day_on_a_day_off_moves_to_the_next_working_day() -> None:
    assert last_day(term_due(OFFER, date(2026, 3, 11), CAL)) == date(2026, 3, 21)  # Saturday
    assert last_day(term_due(MOVING, date(2026, 3, 11), CAL)) == date(2026, 3, 26)  # Thursday


def test_a_last_day_on_a_working_day_stays() -> None:
    assert last_day(term_due(MOVING, date(2026, 3, 2), CAL)) == date(2026, 3, 12)


def test_an_extension_and_a_resumption_move_past_days_off_too() -> None:
    due = term_due(MOVING, date(2026, 3, 2), CAL)  # ends Thursday 12 March
    assert last_day(extended_due(MOVING, due, 9, CAL)) == date(2026, 3, 26)  # 21 Mar, moved
    resumed = resumed_due(MOVING, CAL.end_of_day(date(2026, 3, 11)) - timedelta(hours=1), 10, CAL)
    assert last_day(resumed) == date(2026, 3, 26)
    assert last_day(extended_due(OFFER, due, 9, CAL)) == date(2026, 3, 21)


def test_the_planned_expiry_is_at_the_moved_end() -> None:
    due = term_due(MOVING, date(2026, 3, 11), CAL)
    term = replace(MOVING, on_expiry=states.get(1).states["pre_trial"].term.on_expiry)  # type: ignore[union-attr]
    expiry = [
        t for t in plan(term, due, CAL.end_of_day(date(2026, 3, 11)), CAL) if t.kind == "expiry"
    ]
    assert [t.due_at for t in expiry] == [due]


def test_version_1_keeps_its_terms_ends_as_planned() -> None:
    terms = [s.term for s in states.get(1).states.values() if s.term is not None]
    assert terms and not any(t.ends_on_working_day for t in terms)


def test_the_option_must_be_true_or_false() -> None:
    raw = copy.deepcopy(
        tomllib.loads((Path(states.__file__).parent / "lifecycle_v1.toml").read_text("utf-8"))
    )
    raw["states"]["pre_trial"]["term"]["ends_on_working_day"] = "yes"
    with pytest.raises(InvalidDefinition, match="ends_on_working_day must be true or false"):
        parse(raw)
    raw["states"]["pre_trial"]["term"]["ends_on_working_day"] = True
    assert parse(raw).states["pre_trial"].term.ends_on_working_day  # type: ignore[union-attr]
