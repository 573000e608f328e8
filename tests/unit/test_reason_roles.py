"""Reasons, like events, say who may give them (`[reason_roles]` of a lifecycle file).

A person may not record that a term ran out while it still runs: "term_expired" and
"no_reply" are the clock's to say. Lifecycle version 1 has no such table (its histories
replay as they were recorded); a later version declares it, and the engine, the replay
and the pages' forms all read it.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

import states
from states.definition import parse
from states.errors import InvalidDefinition
from tatulasu.web.event_forms import coded_choices
from workflow.errors import InvalidField
from workflow.rules import check_reason_giver

SHIPPED = Path(states.__file__).parent / "lifecycle_v1.toml"
RAW: dict[str, Any] = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def with_reason_roles(table: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    raw["reason_roles"] = table
    return raw


CLOCKS = with_reason_roles({"term_expired": ["system"], "no_reply": ["system"]})


def test_version_1_lets_whoever_fires_the_event_give_any_of_its_reasons() -> None:
    lc = states.get(1)
    assert lc.reason_roles == {}
    check_reason_giver(lc, {"reason": "term_expired"}, "mediator")  # as v1 histories hold


def test_a_reason_the_clock_gives_is_refused_to_a_person_naming_the_field() -> None:
    lc = parse(CLOCKS)
    with pytest.raises(InvalidField, match="'term_expired' is given only by: system") as caught:
        check_reason_giver(lc, {"reason": "term_expired"}, "mediator")
    assert caught.value.field == "payload.reason"
    check_reason_giver(lc, {"reason": "term_expired"}, "system")
    check_reason_giver(lc, {"reason": "no_agreement"}, "mediator")  # not listed: anyone's


def test_the_form_offers_a_person_only_the_reasons_he_may_give() -> None:
    lc = parse(CLOCKS)
    offered = {c.value for c in coded_choices(lc, "reason", lc.events["fail"], "mediator")}
    assert "term_expired" not in offered and "no_reply" not in offered
    assert "no_agreement" in offered and "party_not_contactable" in offered


@pytest.mark.parametrize(
    ("table", "refusal"),
    [
        ({"term_ran_out": ["system"]}, "is not a reason code of any list"),
        ({"term_expired": ["clock"]}, "unknown roles"),
        ({"term_expired": []}, "must name at least one role"),
        ({"term_expired": "system"}, "must be a list of words"),
        # The clock fires `fail` with "term_expired" when a term runs out: it must may.
        ({"term_expired": ["mediator"]}, "is not one the system may give"),
    ],
)
def test_a_wrong_reason_roles_table_is_refused_at_load(table: Any, refusal: str) -> None:
    with pytest.raises(InvalidDefinition, match=refusal):
        parse(with_reason_roles(table))
