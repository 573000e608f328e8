"""The lifecycle end to end, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import states
from workflow import audit, timers
from workflow.errors import EventNotAllowed, GuardFailed
from workflow.store import utc

pytestmark = pytest.mark.lifecycle(1)  # version 1: its cases live on (v2: test_lifecycle_v2.py)


def states_of(desk: Any, case_id: int) -> list[tuple[str, str, str]]:
    return [(r.event, r.from_state, r.to_state) for r in desk.history(case_id)]


def assert_chain_ok(desk: Any) -> None:
    with desk.store.reading() as conn:
        report = audit.verify(conn)
    assert report.ok, report.breaks


def test_party_referral_is_accepted_mediated_and_settled(desk: Any) -> None:
    opened = desk.refer()
    case_id = opened.case_id
    assert (opened.seq, opened.from_state, opened.to_state) == (1, "new", "referred")
    desk.fire(case_id, "accept", "coordinator")
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("med-ainur"))
    desk.fire(case_id, "start_mediation", "mediator", contract_signed_on=desk.today())
    done = desk.fire(case_id, "reach_agreement", "mediator", agreement_ref="MA-2024-17")

    assert (done.seq, done.to_state, done.term_due_at) == (5, "settled", None)
    case = desk.case(case_id)
    assert (case.state, case.version, case.mediator) == ("settled", 5, "med-ainur")
    assert case.closed_at is not None
    assert case.term_name is None and case.term_due_at is None
    assert desk.timers(case_id, open_only=True) == []
    assert states_of(desk, case_id) == [
        ("refer", "new", "referred"),
        ("accept", "referred", "pre_trial"),
        ("assign_mediator", "pre_trial", "pre_trial"),
        ("start_mediation", "pre_trial", "in_mediation"),
        ("reach_agreement", "in_mediation", "settled"),
    ]
    assert case.audit_head == done.hash == desk.history(case_id)[-1].hash
    assert_chain_ok(desk)


def test_the_history_records_who_fired_each_event_in_which_role(desk: Any) -> None:
    case_id = desk.refer().case_id
    desk.fire(case_id, "accept", "coordinator", actor="coord-dana")
    rows = desk.history(case_id)
    assert [(r.actor, r.role) for r in rows] == [
        ("aigerim", "party"),
        ("coord-dana", "coordinator"),
    ]
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].prev_hash == rows[0].hash


def test_court_referral_reaches_agreement_and_is_approved(desk: Any) -> None:
    opened = desk.court_refer()
    case_id = opened.case_id
    assert opened.to_state == "court_conciliation"
    case = desk.case(case_id)
    assert (case.origin, case.procedure, case.court) == ("court", "court_conciliation", "judge-1")
    mediator = desk.register("med-kar", region="KAR", centre="Saryarka mediation room")
    desk.fire(case_id, "assign_mediator", "court", mediator=mediator)  # of the region
    desk.fire(case_id, "reach_agreement", "mediator", agreement_ref="MA-1")
    assert desk.case(case_id).term_name == "approval"
    done = desk.fire(case_id, "approve", "court", ruling_ref="R-2024-5")
    assert done.to_state == "settled"
    assert desk.case(case_id).state == "settled"
    assert_chain_ok(desk)


def test_court_rejection_returns_a_court_case_to_court_conciliation(desk: Any) -> None:
    case_id = desk.to_state("agreement")
    back = desk.fire(case_id, "reject", "court", reason="terms_unlawful")
    assert (back.from_state, back.to_state) == ("agreement", "court_conciliation")
    case = desk.case(case_id)
    assert case.term_name == "court_adjournment"
    assert {t.term for t in desk.timers(case_id, open_only=True)} == {"court_adjournment"}


def test_court_rejection_returns_a_bailiff_case_to_enforcement_reconciliation(desk: Any) -> None:
    case_id = desk.refer_enforcement().case_id
    desk.fire(case_id, "reach_agreement", "mediator", agreement_ref="MA-9")
    assert desk.case(case_id).state == "agreement"
    back = desk.fire(case_id, "reject", "court", reason="rights_of_others")
    assert back.to_state == "enforcement_reconciliation"
    case = desk.case(case_id)
    assert case.enforcement_suspended is True
    assert case.term_name == "enforcement_reconciliation"


def test_failed_enforcement_reconciliation_returns_the_case_and_resumes_enforcement(
    desk: Any,
) -> None:
    opened = desk.refer_enforcement()
    case_id = opened.case_id
    case = desk.case(case_id)
    assert (case.state, case.origin, case.bailiff) == (
        "enforcement_reconciliation",
        "bailiff",
        "bailiff-7",
    )
    assert case.enforcement_suspended is True
    failed = desk.fire(case_id, "fail", "mediator", reason="party_not_contactable")
    assert failed.to_state == "returned_to_bailiff"
    case = desk.case(case_id)
    assert case.enforcement_suspended is False
    assert case.closed_at is not None
    assert desk.timers(case_id, open_only=True) == []
    recipients = {m.recipient for m in desk.outbox(case_id) if m.seq == 2}
    assert "bailiff:bailiff-7" in recipients


def test_pre_trial_term_running_out_sends_the_case_to_court(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    due = desk.case(case_id).term_due_at
    # 10 calendar days from Monday 22 April: ends at local midnight after 2 May.
    assert utc(due) == datetime(2024, 5, 2, 19, 0, tzinfo=UTC)

    desk.clock.set(datetime(2024, 5, 2, 18, 59, tzinfo=UTC))
    timers.sweep(desk.engine)
    assert desk.case(case_id).state == "pre_trial"  # reminders only

    desk.clock.set(datetime(2024, 5, 2, 19, 0, tzinfo=UTC))
    result = timers.sweep(desk.engine)
    assert result.fired == 1 and result.refused == []
    case = desk.case(case_id)
    assert case.state == "court"
    last = desk.history(case_id)[-1]
    assert (last.event, last.actor, last.role) == ("no_consent", "system", "system")
    assert '"reason":"no_reply"' in last.payload
    assert_chain_ok(desk)


def test_the_court_may_send_a_failed_case_back_to_mediation_and_then_decide(desk: Any) -> None:
    case_id = desk.to_state("court")
    desk.fire(case_id, "refer_to_mediation", "court", procedure="participatory")
    case = desk.case(case_id)
    assert (case.state, case.procedure) == ("court_conciliation", "participatory")
    desk.fire(case_id, "fail", "court", reason="no_agreement")
    done = desk.fire(case_id, "judge", "court", ruling_ref="J-1")
    assert done.to_state == "judgment"


def test_the_centre_may_decline_a_referral_with_a_reason(desk: Any) -> None:
    case_id = desk.refer().case_id
    done = desk.fire(case_id, "decline", "coordinator", reason="not_competent")
    assert done.to_state == "closed_no_agreement"
    assert '"reason":"not_competent"' in desk.history(case_id)[-1].payload


def test_mediation_term_running_out_fails_the_mediation(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")
    desk.advance(31)
    timers.sweep(desk.engine)
    case = desk.case(case_id)
    assert case.state == "court"
    events = [r.event for r in desk.history(case_id) if r.role == "system"]
    assert events == ["remind", "remind", "fail"]


def test_the_mediation_term_counts_from_the_signed_contract(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("m"))
    desk.fire(case_id, "start_mediation", "mediator", contract_signed_on="2024-04-15")
    case = desk.case(case_id)
    # 30 calendar days from 15 April: the end of 15 May, local time.
    assert utc(case.term_due_at) == datetime(2024, 5, 15, 19, 0, tzinfo=UTC)


def test_mediation_cannot_start_without_a_mediator(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    with pytest.raises(GuardFailed, match="has_mediator"):
        desk.fire(case_id, "start_mediation", "mediator", contract_signed_on=desk.today())


def test_a_closed_case_refuses_every_event_that_would_move_it(desk: Any) -> None:
    case_id = desk.refer().case_id
    desk.fire(case_id, "withdraw", "coordinator", reason="debt_paid")
    lc = states.get(1)
    for event in lc.events:
        if event == "record_delivery":
            continue
        with pytest.raises(EventNotAllowed):
            desk.fire(case_id, event, next(iter(lc.events[event].roles)))


def test_delivery_receipts_are_recorded_in_the_history_of_a_closed_case(desk: Any) -> None:
    case_id = desk.refer().case_id
    desk.fire(case_id, "withdraw", "coordinator", reason="debt_paid")
    receipt = {"key": f"{case_id}:2:x", "channel": "sms", "status": "delivered", "reference": "g"}
    done = desk.fire(case_id, "record_delivery", "system", deliveries=[receipt])
    assert (done.from_state, done.to_state) == ("withdrawn", "withdrawn")
    assert '"status":"delivered"' in desk.history(case_id)[-1].payload
    assert_chain_ok(desk)


def test_each_event_writes_outbox_messages_to_the_declared_recipients(desk: Any) -> None:
    case_id = desk.refer().case_id
    messages = desk.outbox(case_id)
    # refer notifies the coordinator (the centre, none assigned) and both parties.
    assert sorted((m.recipient.split(":")[0], m.channel) for m in messages) == [
        ("coordinator", "user"),
        ("party", "email"),
        ("party", "sms"),
    ]
    assert {m.status for m in messages} == {"pending"}
    assert len({m.key for m in messages}) == len(messages)
    assert all(m.seq == 1 and m.template == "refer" for m in messages)
