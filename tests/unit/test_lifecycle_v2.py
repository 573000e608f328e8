"""Lifecycle version 2: each rule the legal review corrected, decided without a database.

docs/legal-review-v2.md says what was wrong in version 1 and why; each test here is one
of its corrections, read from `states/lifecycle_v2.toml` through the engine's decisions.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import states
from states.definition import check_migration, parse
from states.errors import InvalidDefinition
from workflow.calendar import BusinessCalendar
from workflow.engine import Decider
from workflow.errors import GuardFailed, InvalidField, NoMoveRule, RoleNotAllowed
from workflow.projection import CASE_COLUMNS, CaseState
from workflow.rules import Facts, Rules, check_reason_giver, validate_payload
from workflow.tallies import tally

V2 = states.get(2)
RULES = Rules(V2)
CAL = BusinessCalendar()
TODAY = date(2026, 3, 11)
NOW = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 11:00 in Almaty
SOURCE = Path(states.__file__).parent / "lifecycle_v2.toml"


def facts(state: str, origin: str = "party", **changes: Any) -> Facts:
    base = Facts(state, origin, "med-1", None, 0, 1 if state == "in_mediation" else 0, False)
    return replace(base, **changes)


def case(state: str, origin: str = "party", version: int = 2, **values: Any) -> CaseState:
    """A case row as the engine reads one."""
    return CaseState(
        {
            **CASE_COLUMNS,
            "id": 7,
            "definition_version": version,
            "state": state,
            "origin": origin,
            "version": 3,
            "mediator": "med-1",
            "opened_at": NOW - timedelta(days=20),
            **values,
        }
    )


def test_new_cases_open_under_version_2_and_both_versions_load() -> None:
    assert states.current() is V2 and states.versions() == [1, 2]
    assert states.get(1).states["court"].title != ""  # version 1 lives on for its cases


@pytest.mark.parametrize(
    ("state", "event", "role"),
    [
        ("pre_trial", "no_consent", "coordinator"),
        ("offer_received", "no_consent", "system"),
        ("in_mediation", "fail", "mediator"),
        ("offer_sent", "refuse", "party"),
        ("in_mediation", "refuse", "party"),
    ],
)
def test_a_pre_trial_failure_closes_the_case_instead_of_leaving_it_before_a_court(
    state: str, event: str, role: str
) -> None:
    assert RULES.decide(facts(state), event, role).to_state == "closed_no_agreement"
    assert states.get(1).states["closed_no_agreement"].terminal


def test_only_a_case_a_court_opened_goes_back_to_the_court() -> None:
    assert RULES.decide(facts("court_conciliation", "court"), "fail", "court").to_state == "court"
    with pytest.raises(GuardFailed, match="from_court"):
        RULES.decide(facts("court_conciliation", "centre"), "fail", "court")
    into_court = {
        (src, event)
        for (src, event), routes in V2.table.items()
        for r in routes
        if r.target == "court"
    }
    for src, event in into_court:
        assert all("from_court" in r.guards for r in V2.table[(src, event)] if r.target == "court")


def test_the_offer_runs_ten_calendar_days_from_its_receipt_and_a_last_day_off_moves() -> None:
    decider = Decider(CAL)
    sent = case("pre_trial")
    step = decider.step(
        sent, "send_offer", "c-1", "coordinator", {"offer_sent_on": "2026-03-10"}, NOW
    )
    assert step.values["state"] == "offer_sent" and step.values["term_name"] == "offer_delivery"
    # Without a receipt the clock only escalates (5 working days from sending).
    assert {t.event for t in step.timers or []} == {V2.event_of_kind("escalation")}
    received = case("offer_sent")
    step = decider.step(
        received, "receive_offer", "system", "system", {"offer_received_on": "2026-03-11"}, NOW
    )
    # 11 March + 10 calendar days = Saturday 21 March, a day off (Nauryz to the 25th).
    assert step.values["term_due_at"] == CAL.end_of_day(date(2026, 3, 26))
    expiry = [t for t in step.timers or [] if t.kind == "expiry"]
    assert [(t.event, t.payload) for t in expiry] == [("no_consent", '{"reason":"no_reply"}')]


def test_the_receipt_of_the_offer_is_the_event_a_delivery_report_fires() -> None:
    assert V2.state_of_kind("awaiting_receipt") == "offer_sent"
    (received,) = V2.events_of_kind("notice_received")
    assert ("offer_sent", received) in V2.table and "system" in V2.events[received].roles
    assert any(r.target == "offer_sent" for r in V2.events["send_offer"].routes)


def test_an_approval_waits_ten_working_days_for_the_ruling_to_take_effect() -> None:
    decider = Decider(CAL)
    agreed = case("agreement", "court")
    payload = {"ruling_ref": "2-15/26", "ruling_prepared_on": "2026-03-10"}
    step = decider.step(agreed, "approve", "judge-1", "court", payload, NOW)
    assert step.values["state"] == "approved" and "closed_at" not in step.values
    assert step.values["term_due_at"] == CAL.end_of_day(
        CAL.add_days(date(2026, 3, 10), 10, "working")
    )
    assert [t.event for t in step.timers or []] == ["ruling_in_force"]
    approved = case("approved", "court", term_due_at=step.values["term_due_at"])
    done = decider.step(approved, "ruling_in_force", "system", "system", {}, NOW)
    assert done.values["state"] == "settled" and V2.states["settled"].kind == "reconciled"
    # A waiting period that ends is not a term missed.
    assert "terms_missed" not in tally(V2, approved, "ruling_in_force", "system", "system", NOW)
    assert "ruling_in_force" not in V2.expiry_moves and "fail" in V2.expiry_moves


def test_a_ruling_set_aside_returns_an_enforcement_case_to_the_bailiff() -> None:
    assert RULES.decide(facts("approved", "bailiff"), "ruling_set_aside", "court").to_state == (
        "returned_to_bailiff"
    )
    decision = RULES.decide(facts("approved", "court"), "ruling_set_aside", "court")
    assert decision.to_state == "court_conciliation"


def test_the_chamber_replaces_a_bailiff_only_on_a_final_finding_of_a_breach() -> None:
    spec = V2.events["reassign_bailiff"]
    assert V2.reasons[spec.reasons or ""] == frozenset({"breach_found"})
    with pytest.raises(InvalidField, match="'party_request' is not one of"):
        validate_payload(spec, V2.reasons, _replacement(reason="party_request"), TODAY)
    with pytest.raises(InvalidField, match=r"payload\.finding_ref"):
        validate_payload(spec, V2.reasons, _replacement(finding_ref=""), TODAY)
    with pytest.raises(InvalidField, match="in the future"):
        validate_payload(spec, V2.reasons, _replacement(finding_final_on="2026-04-01"), TODAY)
    assert validate_payload(spec, V2.reasons, _replacement(), TODAY)["reason"] == "breach_found"
    with pytest.raises(RoleNotAllowed):
        RULES.decide(facts("enforcement_reconciliation", "bailiff"), "reassign_bailiff", "court")


def _replacement(**changes: str) -> dict[str, str]:
    given = {
        "bailiff": "bailiff-2",
        "finding_ref": "Chamber decision 14/2026",
        "finding_final_on": "2026-03-02",
        "reason": "breach_found",
    }
    return {**given, **changes}


@pytest.mark.parametrize("state", ["agreement", "approved"])
def test_only_the_court_suspends_the_courts_own_terms(state: str) -> None:
    with pytest.raises(RoleNotAllowed, match="coordinator"):
        RULES.decide(facts(state, "court"), "suspend", "coordinator")
    assert RULES.decide(facts(state, "court"), "suspend", "court").effects == ("suspend_terms",)
    assert RULES.decide(facts("in_mediation"), "suspend", "coordinator").effects


@pytest.mark.parametrize(
    ("reason", "role", "allowed"),
    [
        ("term_expired", "mediator", False),
        ("term_expired", "system", True),
        ("no_reply", "coordinator", False),
        ("mediator_found_futile", "coordinator", False),
        ("mediator_found_futile", "mediator", True),
        ("no_agreement", "mediator", True),
    ],
)
def test_a_reason_is_given_only_by_who_knows_it(reason: str, role: str, allowed: bool) -> None:
    if allowed:
        check_reason_giver(V2, {"reason": reason}, role)
    else:
        with pytest.raises(InvalidField, match="is given only by"):
            check_reason_giver(V2, {"reason": reason}, role)


def test_an_extension_records_the_parties_written_consent_and_is_the_mediators() -> None:
    spec = V2.events["extend"]
    assert set(spec.payload) == {"consent_of", "consented_on", "consent_ref"}
    with pytest.raises(InvalidField, match=r"payload\.consent_ref"):
        validate_payload(
            spec, V2.reasons, {"consent_of": "both", "consented_on": "2026-03-10"}, TODAY
        )
    with pytest.raises(RoleNotAllowed):
        RULES.decide(facts("in_mediation"), "extend", "coordinator")


def test_every_term_says_its_source_and_the_file_is_titled_in_every_language() -> None:
    for spec in V2.states.values():
        if spec.term is not None:
            assert spec.term.source, spec.name
            assert (
                "verify" in spec.term.source
                or "Product setting" in spec.term.source
                or ("art." in spec.term.source)
            )
    assert V2.title_of("event", V2.migration_event, "kk")


def test_version_1_cases_move_by_the_rules_version_2_declares() -> None:
    decider = Decider(CAL)
    due = CAL.end_of_day(date(2026, 3, 21))  # a Saturday, a day off
    mediation = case("in_mediation", version=1, term_name="mediation", term_due_at=due)
    move = decider.move(mediation, V2, NOW)
    assert move.rule.terms == "replanned"
    assert move.values["term_due_at"] == CAL.end_of_day(date(2026, 3, 26))
    failed = decider.move(case("court", "centre", version=1), V2, NOW)
    assert (failed.rule.name, failed.values["state"]) == (
        "court.not_from_court",
        "closed_no_agreement",
    )
    assert failed.values["closed_at"] == NOW and failed.timers == []
    kept = decider.move(case("court", "court", version=1), V2, NOW)
    assert (kept.values["state"], kept.values["definition_version"]) == ("court", 2)
    with pytest.raises(NoMoveRule, match="'settled'"):
        decider.move(case("settled", version=1, closed_at=NOW), V2, NOW)


def _raw() -> dict[str, Any]:
    return tomllib.loads(SOURCE.read_text(encoding="utf-8"))


def test_a_migration_rule_that_keeps_a_term_the_new_version_changed_is_refused() -> None:
    raw = copy.deepcopy(_raw())
    for rule in raw["migration"]["from_1"]:
        if rule["from"] == "in_mediation":
            rule["terms"] = "kept"  # version 2's mediation moves a last day off: not kept
    with pytest.raises(InvalidDefinition, match="terms = kept"):
        check_migration(states.get(1), parse(raw, "broken.toml"))


def test_a_migration_rule_naming_an_unknown_state_or_term_move_is_refused() -> None:
    raw = copy.deepcopy(_raw())
    raw["migration"]["from_1"].append({"from": "court", "to": "limbo"})
    with pytest.raises(InvalidDefinition, match="to must name a state"):
        parse(raw, "broken.toml")
    raw = copy.deepcopy(_raw())
    raw["migration"]["from_1"][0]["terms"] = "stretched"
    with pytest.raises(InvalidDefinition, match="terms must be one of"):
        parse(raw, "broken.toml")
    raw = copy.deepcopy(_raw())
    raw["migration"]["from_1"].append({"from": "offer_sent", "to": "referred", "terms": "kept"})
    with pytest.raises(InvalidDefinition, match="not an open state of version 1"):
        check_migration(states.get(1), parse(raw, "broken.toml"))
