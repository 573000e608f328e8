"""Withdrawal, re-assignment, bad input that writes nothing, idempotency, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import states
from workflow import identifiers
from workflow.commands import FireEvent, PartyInput
from workflow.errors import (
    CaseSuspended,
    DuplicateCase,
    EventNotAllowed,
    GuardFailed,
    IdempotencyKeyReused,
    InvalidField,
    InvalidIdentifier,
    NotFound,
    RoleNotAllowed,
    StaleVersion,
    TatulasuError,
    UnknownEvent,
)

OPEN_STATES = states.current().open_states()


# ---------------------------------------------------------------------------- withdrawal


@pytest.mark.parametrize("state", OPEN_STATES)
def test_a_case_can_be_withdrawn_from_every_open_state(desk: Any, state: str) -> None:
    case_id = desk.to_state(state)
    assert desk.case(case_id).state == state
    done = desk.fire(
        case_id, "withdraw", "coordinator", reason="claim_withdrawn", reason_text="paid"
    )
    assert (done.from_state, done.to_state) == (state, "withdrawn")
    case = desk.case(case_id)
    assert case.closed_at is not None
    assert desk.timers(case_id, open_only=True) == []
    payload = desk.history(case_id)[-1].payload
    assert '"reason":"claim_withdrawn"' in payload and '"reason_text":"paid"' in payload


def test_withdrawal_needs_a_withdrawal_reason(desk: Any) -> None:
    case_id = desk.refer().case_id
    with pytest.raises(InvalidField, match=r"payload\.reason"):
        desk.fire(case_id, "withdraw", "party")
    with pytest.raises(InvalidField, match="'term_expired' is not one of"):
        desk.fire(case_id, "withdraw", "party", reason="term_expired")


# ---------------------------------------------------------------------------- re-assignment


def test_the_mediator_is_reassigned_with_a_coded_reason(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")
    done = desk.fire(
        case_id, "reassign_mediator", "coordinator", mediator=desk.register("med-2"),
        reason="conflict_of_interest",
    )  # fmt: skip
    assert done.to_state == "in_mediation"
    assert desk.case(case_id).mediator == "med-2"
    record = desk.history(case_id)[-1]
    assert '"reason":"conflict_of_interest"' in record.payload
    assert {m.recipient for m in desk.outbox(case_id) if m.seq == done.seq} >= {"mediator:med-2"}


def test_reassigning_a_mediator_needs_a_reassignment_reason_and_a_current_mediator(
    desk: Any,
) -> None:
    case_id = desk.to_state("pre_trial")
    with pytest.raises(GuardFailed, match="has_mediator"):
        desk.fire(case_id, "reassign_mediator", "coordinator", mediator="m", reason="other")
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("m"))
    with pytest.raises(InvalidField, match=r"payload\.reason"):
        desk.fire(case_id, "reassign_mediator", "coordinator", mediator="m2")
    with pytest.raises(InvalidField, match="'illness' is not one of"):
        desk.fire(case_id, "reassign_mediator", "coordinator", mediator="m2", reason="illness")


def test_the_chamber_reassigns_the_bailiff_with_a_reason(desk: Any) -> None:
    case_id = desk.refer_enforcement().case_id
    bailiff = desk.register("bailiff-9", role="bailiff", centre=None)
    done = desk.fire_filled(
        case_id, "reassign_bailiff", "chamber", bailiff=bailiff, reason="breach_found"
    )
    assert done.to_state == "enforcement_reconciliation"
    assert desk.case(case_id).bailiff == "bailiff-9"
    assert {m.recipient for m in desk.outbox(case_id) if m.seq == done.seq} >= {"bailiff:bailiff-9"}
    with pytest.raises(RoleNotAllowed):
        desk.fire(case_id, "reassign_bailiff", "bailiff", bailiff="b", reason="other")


def test_only_enforcement_cases_have_their_bailiff_reassigned(desk: Any) -> None:
    case_id = desk.to_state("agreement")  # a court case
    with pytest.raises(GuardFailed, match="from_enforcement"):
        desk.fire_filled(case_id, "reassign_bailiff", "chamber", bailiff="b", reason="breach_found")


def test_reassignment_is_allowed_while_the_case_is_suspended(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")
    desk.fire(case_id, "suspend", "court", reason="court_stay")
    mediator = desk.register("m3")
    desk.fire(case_id, "reassign_mediator", "coordinator", mediator=mediator, reason="other")
    assert desk.case(case_id).mediator == "m3"
    with pytest.raises(CaseSuspended):
        desk.fire(case_id, "record_session", "mediator")


# ---------------------------------------------------------------------------- bad input


def _party(**overrides: Any) -> tuple[PartyInput, ...]:
    base = {"role": "claimant", "name": "A", "iin_bin": "061211600012"}
    return (PartyInput(**(base | overrides)), PartyInput("respondent", "B", "940140000385"))


FIRE_REJECTIONS: dict[str, tuple[type[TatulasuError], Callable[[Any, int], Any]]] = {
    "unknown event": (UnknownEvent, lambda d, c: d.fire(c, "teleport", "coordinator")),
    "event not allowed in this state": (
        EventNotAllowed,
        lambda d, c: d.fire(c, "approve", "court", ruling_ref="R"),
    ),
    "wrong role": (
        RoleNotAllowed,
        lambda d, c: d.fire(c, "reach_agreement", "party", agreement_ref="A"),
    ),
    "guard fails": (GuardFailed, lambda d, c: d.fire_filled(c, "extend", "mediator")),
    "stale version": (
        StaleVersion,
        lambda d, c: d.fire(c, "record_session", "mediator", expected_version=4),
    ),
    "unknown payload field": (
        InvalidField,
        lambda d, c: d.fire(c, "record_session", "mediator", notes="what was said"),
    ),
    "missing payload field": (
        InvalidField,
        lambda d, c: d.fire(c, "reach_agreement", "mediator"),
    ),
    "future date": (
        InvalidField,
        lambda d, c: d.fire(c, "record_session", "mediator", held_on="2031-01-01"),
    ),
    "bad reason code": (
        InvalidField,
        lambda d, c: d.fire(c, "fail", "mediator", reason="bored"),
    ),
    "no such case": (NotFound, lambda d, c: d.fire(c + 1000, "extend", "mediator")),
}


@pytest.mark.parametrize("what", list(FIRE_REJECTIONS))
def test_a_rejected_event_leaves_the_database_unchanged(desk: Any, what: str) -> None:
    case_id = desk.to_state("in_mediation")
    desk.fire_filled(case_id, "extend", "mediator")  # the one extension is used up
    expected_error, attempt = FIRE_REJECTIONS[what]
    before = desk.snapshot()
    with pytest.raises(expected_error):
        attempt(desk, case_id)
    assert desk.snapshot() == before


def test_stale_version_is_rejected_and_nothing_is_written(desk: Any) -> None:
    case_id = desk.refer().case_id
    desk.fire(case_id, "accept", "coordinator", expected_version=1)
    desk.register("m")
    before = desk.snapshot()
    with pytest.raises(StaleVersion) as caught:
        desk.fire(case_id, "assign_mediator", "coordinator", mediator="m", expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert desk.snapshot() == before
    assert desk.fire(case_id, "assign_mediator", "coordinator", mediator="m", expected_version=2)


OPEN_REJECTIONS: dict[str, tuple[type[TatulasuError], str, dict[str, Any]]] = {
    "bad IIN check digit": (
        InvalidIdentifier,
        "parties[0].iin_bin",
        {"parties": _party(iin_bin="061211600013")},
    ),
    "IIN not 12 digits": (
        InvalidIdentifier,
        "parties[0].iin_bin",
        {"parties": _party(iin_bin="06121160001")},
    ),
    "bad region": (InvalidField, "region", {"region": "MOON"}),
    "not an opening event": (InvalidField, "event", {"event": "accept"}),
    "wrong role to open": (RoleNotAllowed, "", {"role": "mediator"}),
    "unknown language": (InvalidField, "language", {"language": "de"}),
    "unknown procedure": (InvalidField, "procedure", {"procedure": "duel"}),
    "no parties": (InvalidField, "parties", {"parties": ()}),
    "same party twice": (
        InvalidField,
        "parties[1].iin_bin",
        {"parties": (PartyInput("claimant", "A", "061211600012"),) * 2},
    ),
    "bad e-mail": (InvalidField, "parties[0].email", {"parties": _party(email="not-an-address")}),
    "bad phone": (InvalidField, "parties[0].phone", {"parties": _party(phone="8-701-123")}),
    "bad party role": (InvalidField, "parties[0].role", {"parties": _party(role="witness")}),
    "empty centre": (InvalidField, "centre", {"centre": "  "}),
    "subject too long": (InvalidField, "subject", {"subject": "x" * 201}),
}


@pytest.mark.parametrize("what", list(OPEN_REJECTIONS))
def test_a_rejected_opening_leaves_the_database_unchanged(desk: Any, what: str) -> None:
    desk.refer()  # something to compare
    expected_error, field, overrides = OPEN_REJECTIONS[what]
    before = desk.snapshot()
    with pytest.raises(expected_error) as caught:
        desk.refer(**overrides)
    if field:
        assert caught.value.field == field  # type: ignore[attr-defined]
    assert desk.snapshot() == before


def test_an_enforcement_referral_needs_a_proceeding_a_debtor_and_a_creditor(desk: Any) -> None:
    before = desk.snapshot()
    with pytest.raises(InvalidField, match="enforcement_proceeding"):
        desk.refer_enforcement(proceeding=None)
    with pytest.raises(InvalidField, match="debtor and a creditor"):
        desk.refer_enforcement(parties=_party())
    assert desk.snapshot() == before


# ---------------------------------------------------------------------------- idempotency


def test_a_repeated_command_with_the_same_key_returns_the_first_result_and_writes_nothing(
    desk: Any,
) -> None:
    case_id = desk.refer().case_id
    first = desk.fire(case_id, "accept", "coordinator", idempotency_key="k-accept-1")
    after_first = desk.snapshot()
    desk.advance(hours=3)
    again = desk.fire(case_id, "accept", "coordinator", idempotency_key="k-accept-1")
    assert again == first
    assert desk.snapshot() == after_first
    assert desk.case(case_id).version == 2


def test_a_repeated_opening_with_the_same_key_opens_one_case(desk: Any) -> None:
    first = desk.refer(idempotency_key="open-1")
    after_first = desk.snapshot()
    assert desk.refer(idempotency_key="open-1") == first
    assert desk.snapshot() == after_first
    assert len(after_first["cases"]) == 1


def test_the_same_key_with_a_different_command_is_refused(desk: Any) -> None:
    case_id = desk.refer().case_id
    desk.fire(case_id, "accept", "coordinator", idempotency_key="k-1")
    before = desk.snapshot()
    with pytest.raises(IdempotencyKeyReused) as caught:
        desk.fire(case_id, "assign_mediator", "coordinator", mediator="m", idempotency_key="k-1")
    assert caught.value.key == "k-1"
    with pytest.raises(IdempotencyKeyReused):
        desk.fire(case_id, "accept", "coordinator", actor="someone-else", idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        desk.refer(idempotency_key="k-1")
    assert desk.snapshot() == before


def test_a_refused_command_does_not_use_up_its_key(desk: Any) -> None:
    case_id = desk.refer().case_id
    with pytest.raises(RoleNotAllowed):
        desk.engine.fire(FireEvent(case_id, "accept", "p", "party", idempotency_key="k-retry"))
    done = desk.fire(case_id, "accept", "coordinator", idempotency_key="k-retry")
    assert done.to_state == "pre_trial"


@pytest.mark.parametrize("key", ["", "   ", "k" * 201])
def test_a_blank_or_overlong_key_is_refused(desk: Any, key: str) -> None:
    case_id = desk.refer().case_id
    before = desk.snapshot()
    with pytest.raises(InvalidField, match="idempotency_key"):
        desk.fire(case_id, "accept", "coordinator", idempotency_key=key)
    assert desk.snapshot() == before


# ---------------------------------------------------------------------------- duplicates


def test_a_second_open_case_for_the_same_enforcement_proceeding_is_refused(desk: Any) -> None:
    first = desk.refer_enforcement("EP-77").case_id
    before = desk.snapshot()
    with pytest.raises(DuplicateCase) as caught:
        desk.refer_enforcement("EP-77")
    assert (caught.value.field, caught.value.value, caught.value.case_id) == (
        "enforcement_proceeding",
        "EP-77",
        first,
    )
    assert desk.snapshot() == before
    assert desk.refer_enforcement("EP-78").case_id != first


def test_a_proceeding_can_be_referred_again_once_its_case_is_closed(desk: Any) -> None:
    first = desk.refer_enforcement("EP-80").case_id
    desk.fire(first, "fail", "mediator", reason="no_agreement")
    second = desk.refer_enforcement("EP-80").case_id
    assert second != first


def test_generated_identifiers_open_cases(desk: Any) -> None:
    debtor = identifiers.make("7805054" + "0123")
    assert debtor is not None
    parties = (
        PartyInput("debtor", "D", debtor, phone="+77001112233"),
        PartyInput("creditor", "C", "990140004654", language="ru"),
    )
    opened = desk.refer_enforcement("EP-81", parties=parties)
    assert opened.to_state == "enforcement_reconciliation"


def test_a_repeated_enforcement_referral_with_its_key_is_not_a_duplicate(desk: Any) -> None:
    first = desk.refer_enforcement("EP-90", idempotency_key="bailiff-batch-1:row-3")
    assert desk.refer_enforcement("EP-90", idempotency_key="bailiff-batch-1:row-3") == first
    with pytest.raises(DuplicateCase):
        desk.refer_enforcement("EP-90", idempotency_key="bailiff-batch-2:row-1")


def test_an_official_id_longer_than_its_column_is_refused_and_nothing_is_written(
    desk: Any,
) -> None:
    case_id = desk.to_state("pre_trial")
    before = desk.snapshot()
    with pytest.raises(InvalidField) as caught:
        desk.fire(case_id, "assign_mediator", "coordinator", mediator="m" * 81)
    assert caught.value.field == "payload.mediator"
    assert desk.snapshot() == before
