"""Deciding whether an event may fire, and checking its payload, without a database."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest

import states
from workflow.errors import (
    CaseSuspended,
    EventNotAllowed,
    GuardFailed,
    InvalidField,
    InvalidInput,
    RoleNotAllowed,
    UnknownEvent,
)
from workflow.rules import GUARDS, MAX_TEXT, Facts, Rules, validate_payload

LC = states.get(1)  # version 1: its cases live on, by its rules (v2: test_lifecycle_v2.py)
RULES = Rules(LC)
TODAY = date(2024, 4, 22)


def facts(state: str, **changes: object) -> Facts:
    base = Facts(
        state=state,
        origin="party",
        mediator=None,
        bailiff=None,
        extensions_used=0,
        extensions_allowed=1 if state == "in_mediation" else 0,
        suspended=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def payload(event: str, values: dict[str, object]) -> dict[str, object]:
    return validate_payload(LC.events[event], LC.reasons, values, TODAY)


# ---------------------------------------------------------------------------- decide


def test_an_allowed_event_moves_to_its_target() -> None:
    decision = RULES.decide(facts("referred"), "accept", "coordinator")
    assert (decision.from_state, decision.to_state, decision.moves) == (
        "referred",
        "pre_trial",
        True,
    )


def test_an_event_without_a_target_stays_and_keeps_its_effects() -> None:
    decision = RULES.decide(facts("pre_trial"), "assign_mediator", "coordinator")
    assert decision.to_state == "pre_trial"
    assert not decision.moves
    assert decision.effects == ("set_mediator",)


def test_an_event_not_allowed_in_the_state_names_only_those_the_role_may_fire() -> None:
    with pytest.raises(EventNotAllowed) as caught:
        RULES.decide(facts("referred"), "approve", "court")
    exc = caught.value
    assert (exc.event, exc.state) == ("approve", "referred")
    assert exc.allowed == ["suspend", "withdraw"]  # the court assigns in court conciliation
    assert str(exc).endswith("allowed: suspend, withdraw")
    with pytest.raises(EventNotAllowed) as as_coordinator:
        RULES.decide(facts("referred"), "approve", "coordinator")
    assert {"accept", "decline"} <= set(as_coordinator.value.allowed)
    assert not {"remind", "escalate", "record_delivery"} & set(as_coordinator.value.allowed)


def test_an_unknown_event_is_bad_input_that_suggests_the_closest_names() -> None:
    with pytest.raises(UnknownEvent) as caught:
        RULES.decide(facts("referred"), "acept", "coordinator")
    exc = caught.value
    assert isinstance(exc, InvalidField) and exc.field == "event"
    assert exc.suggestions == ["accept"]
    assert str(exc) == "event: 'acept' is not an event of the lifecycle; did you mean accept?"


def test_an_unknown_event_without_a_close_name_lists_what_the_role_may_fire() -> None:
    with pytest.raises(UnknownEvent) as caught:
        RULES.decide(facts("pre_trial"), "teleport", "party")
    assert caught.value.suggestions == []
    assert str(caught.value).endswith("allowed here: refuse, withdraw")


def test_a_failing_guard_is_explained_in_the_words_of_the_lifecycle_file() -> None:
    with pytest.raises(GuardFailed) as caught:
        RULES.decide(facts("pre_trial"), "start_mediation", "coordinator")
    assert str(caught.value) == (
        "start_mediation in state 'pre_trial' needs a mediator assigned first"
        " (guard has_mediator): fire assign_mediator"
    )
    assert caught.value.guards == ["has_mediator"]


def test_no_event_leaves_a_terminal_state_except_recording_ones() -> None:
    for terminal in ("settled", "withdrawn", "judgment"):
        for event in LC.events_from(terminal):
            assert all(r.target in (None, terminal) for r in LC.table[(terminal, event)])
    with pytest.raises(EventNotAllowed):
        RULES.decide(facts("settled"), "withdraw", "party")


def test_a_role_that_may_not_fire_the_event_is_refused_with_the_allowed_roles() -> None:
    with pytest.raises(RoleNotAllowed) as caught:
        RULES.decide(facts("referred"), "accept", "party")
    assert caught.value.role == "party"
    assert caught.value.roles == ["coordinator"]


def test_the_court_assigns_a_mediator_only_in_court_conciliation() -> None:
    with pytest.raises(RoleNotAllowed, match="in state 'pre_trial'") as caught:
        RULES.decide(facts("pre_trial"), "assign_mediator", "court")
    assert caught.value.roles == ["coordinator"]
    assert RULES.decide(facts("court_conciliation"), "assign_mediator", "court").effects == (
        "set_mediator",
    )
    assert "assign_mediator" not in RULES.allowed_events(facts("referred"), "court")
    assert "assign_mediator" in RULES.allowed_events(facts("court_conciliation"), "court")


def test_withdrawal_is_the_claimants_and_refusal_the_respondents() -> None:
    assert LC.events["withdraw"].parties == {"claimant", "creditor"}
    assert LC.events["refuse"].parties == {"respondent", "debtor"}
    refused = RULES.decide(facts("enforcement_reconciliation", origin="bailiff"), "refuse", "party")
    assert (refused.to_state, refused.effects) == ("returned_to_bailiff", ("resume_enforcement",))
    assert RULES.decide(facts("pre_trial"), "refuse", "party").to_state == "court"
    assert "resume_enforcement" in RULES.decide(facts("agreement"), "withdraw", "court").effects


def test_only_the_system_fires_reminders_and_escalations() -> None:
    for role in ("coordinator", "admin", "supervisor"):
        with pytest.raises(RoleNotAllowed):
            RULES.decide(facts("pre_trial"), "remind", role)
    assert RULES.decide(facts("pre_trial"), "remind", "system").to_state == "pre_trial"


def test_a_failing_guard_is_named() -> None:
    with pytest.raises(GuardFailed) as caught:
        RULES.decide(facts("pre_trial"), "start_mediation", "mediator")
    assert caught.value.guards == ["has_mediator"]
    decision = RULES.decide(facts("pre_trial", mediator="m"), "start_mediation", "mediator")
    assert decision.to_state == "in_mediation"


def test_the_extension_guard_allows_one_extension_only() -> None:
    assert RULES.decide(facts("in_mediation"), "extend", "mediator").effects == ("extend_term",)
    with pytest.raises(GuardFailed, match="extension_available"):
        RULES.decide(facts("in_mediation", extensions_used=1), "extend", "mediator")


def test_a_court_rejection_returns_by_origin() -> None:
    court = RULES.decide(facts("agreement", origin="court"), "reject", "court")
    bailiff = RULES.decide(facts("agreement", origin="bailiff"), "reject", "court")
    assert court.to_state == "court_conciliation"
    assert bailiff.to_state == "enforcement_reconciliation"


def test_failure_at_the_enforcement_stage_resumes_enforcement() -> None:
    decision = RULES.decide(facts("enforcement_reconciliation", origin="bailiff"), "fail", "system")
    assert decision.to_state == "returned_to_bailiff"
    assert decision.effects == ("resume_enforcement",)
    assert RULES.decide(facts("in_mediation"), "fail", "mediator").to_state == "court"


def test_reassigning_the_bailiff_needs_a_case_from_enforcement() -> None:
    with pytest.raises(GuardFailed, match="from_enforcement"):
        RULES.decide(facts("agreement", origin="court"), "reassign_bailiff", "chamber")
    decision = RULES.decide(facts("agreement", origin="bailiff"), "reassign_bailiff", "chamber")
    assert decision.effects == ("set_bailiff",)


def test_a_suspended_case_refuses_events_that_must_wait_and_names_the_allowed_ones() -> None:
    suspended = facts("in_mediation", suspended=True, mediator="m")
    with pytest.raises(CaseSuspended) as caught:
        RULES.decide(suspended, "reach_agreement", "mediator")
    assert "resume" in caught.value.allowed
    assert "withdraw" in caught.value.allowed
    assert "reach_agreement" not in caught.value.allowed
    assert RULES.decide(suspended, "resume", "coordinator").effects == ("resume_terms",)
    assert RULES.decide(suspended, "withdraw", "party").to_state == "withdrawn"


def test_resume_needs_a_suspended_case() -> None:
    with pytest.raises(GuardFailed, match="is_suspended"):
        RULES.decide(facts("in_mediation"), "resume", "coordinator")


def test_the_event_is_checked_before_the_role_and_the_role_before_suspension() -> None:
    suspended = facts("pre_trial", suspended=True)
    with pytest.raises(EventNotAllowed):
        RULES.decide(suspended, "approve", "party")
    with pytest.raises(RoleNotAllowed):
        RULES.decide(suspended, "no_consent", "party")


def test_allowed_events_respects_role_suspension_and_guards() -> None:
    assert "start_mediation" not in RULES.allowed_events(facts("pre_trial"))
    assert "start_mediation" in RULES.allowed_events(facts("pre_trial", mediator="m"))
    assert RULES.allowed_events(facts("referred"), "party") == ["withdraw", "refuse"]
    suspended = RULES.allowed_events(facts("pre_trial", suspended=True))
    assert all(LC.events[e].while_suspended for e in suspended)


def test_the_shared_machine_decides_correctly_from_many_threads() -> None:
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(200):
            origin = "bailiff" if i % 2 else "court"
            got = RULES.decide(facts("agreement", origin=origin), "reject", "court").to_state
            want = "enforcement_reconciliation" if i % 2 else "court_conciliation"
            if got != want:
                errors.append(f"{origin}: {got}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------------------- payloads


def test_a_valid_payload_is_cleaned_and_kept() -> None:
    cleaned = payload("start_mediation", {"contract_signed_on": " 2024-04-20 "})
    assert cleaned == {"contract_signed_on": "2024-04-20"}
    assert payload("fail", {"reason": "no_agreement", "reason_text": " the parties left "}) == {
        "reason": "no_agreement",
        "reason_text": "the parties left",
    }


def test_an_unknown_payload_field_is_refused_naming_the_accepted_ones() -> None:
    with pytest.raises(InvalidField) as caught:
        payload("record_session", {"held_on": "2024-04-20", "what_was_said": "secrets"})
    assert caught.value.field == "payload.what_was_said"
    assert "accepted: held_on" in caught.value.reason


def test_an_event_without_fields_accepts_none() -> None:
    with pytest.raises(InvalidField, match="accepted: none"):
        payload("accept", {"note": "x"})


@pytest.mark.parametrize(
    ("event", "values", "field"),
    [
        ("start_mediation", {}, "payload.contract_signed_on"),
        ("start_mediation", {"contract_signed_on": ""}, "payload.contract_signed_on"),
        ("assign_mediator", {}, "payload.mediator"),
        ("fail", {}, "payload.reason"),
        ("withdraw", {"reason_text": "changed my mind"}, "payload.reason"),
        ("approve", {"ruling_ref": None}, "payload.ruling_ref"),
    ],
)
def test_a_missing_required_field_is_named(
    event: str, values: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidField, match="is required") as caught:
        payload(event, values)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "bad", ["22.04.2024", "2024-13-01", "2024-02-30", "yesterday", "2024/04/20"]
)
def test_a_bad_date_is_refused(bad: str) -> None:
    with pytest.raises(InvalidField, match=r"is not a date \(YYYY-MM-DD\)") as caught:
        payload("start_mediation", {"contract_signed_on": bad})
    assert caught.value.field == "payload.contract_signed_on"


def test_a_future_date_is_refused() -> None:
    with pytest.raises(InvalidField, match="2024-04-23 is in the future"):
        payload("start_mediation", {"contract_signed_on": "2024-04-23"})
    assert payload("start_mediation", {"contract_signed_on": "2024-04-22"})


def test_a_date_more_than_a_year_ago_is_refused() -> None:
    with pytest.raises(InvalidField, match="more than a year ago"):
        payload("record_session", {"held_on": "2023-01-01"})


def test_a_reason_code_not_in_the_events_list_is_refused_naming_the_list() -> None:
    with pytest.raises(InvalidField) as caught:
        payload("withdraw", {"reason": "no_agreement"})  # a failure code, not a withdrawal one
    assert caught.value.field == "payload.reason"
    assert "'no_agreement' is not one of" in caught.value.reason
    for code in LC.reasons["withdrawal"]:
        assert code in caught.value.reason


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ruling_ref": 17}, "must be text, got int"),
        ({"ruling_ref": ["R-1"]}, "must be text, got list"),
        ({"ruling_ref": "   "}, "is required|must not be empty"),
        ({"ruling_ref": "x" * (MAX_TEXT + 1)}, "longer than"),
    ],
)
def test_text_fields_must_be_short_non_empty_text(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidField, match=message):
        payload("approve", values)


def test_a_procedure_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(InvalidField, match="'arbitration' is not one of"):
        payload("refer_to_mediation", {"procedure": "arbitration"})


def test_delivery_receipts_must_be_a_list_of_complete_receipts() -> None:
    good = {"key": "1:1:party:1", "channel": "sms", "status": "delivered", "reference": "gw-9"}
    assert payload("record_delivery", {"deliveries": [good]}) == {"deliveries": [good]}
    with pytest.raises(InvalidField, match="non-empty list"):
        payload("record_delivery", {"deliveries": []})
    with pytest.raises(InvalidField, match=r"deliveries\[0\]"):
        payload("record_delivery", {"deliveries": [{"key": "k"}]})


def test_payload_errors_are_invalid_input() -> None:
    assert issubclass(InvalidField, InvalidInput)


@pytest.mark.parametrize(
    ("origin", "from_court"),
    [("court", True), ("party", False), ("centre", False), ("bailiff", False)],
)
def test_the_court_guards_tell_a_case_a_court_opened_or_sent(origin: str, from_court: bool) -> None:
    case = facts("in_mediation", origin=origin)
    assert GUARDS["from_court"](case) is from_court
    assert GUARDS["not_from_court"](case) is not from_court
