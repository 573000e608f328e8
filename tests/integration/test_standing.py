"""The engine looks at people: the mediator it is given, the party who withdraws."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BIN_A, IIN, Desk, make_iin
from workflow import users
from workflow.errors import InvalidField, PartyRoleNotAllowed


def test_an_unregistered_mediator_is_refused_and_nothing_is_written(desk: Desk) -> None:
    case_id = desk.to_state("pre_trial")
    before = desk.snapshot()
    with pytest.raises(InvalidField, match="is not a registered user") as caught:
        desk.fire(case_id, "assign_mediator", "coordinator", mediator="<script>x</script>")
    assert caught.value.field == "payload.mediator"
    assert desk.snapshot() == before


@pytest.mark.parametrize(
    ("bailiff", "role", "region", "refusal"),
    [
        ("<script>x</script>", None, None, "is not a registered user"),
        ("med-1", "mediator", "VKO", "is a mediator, not a bailiff"),
        ("bailiff-far", "bailiff", "ALA", "is a bailiff of ALA, not of VKO"),
    ],
)
def test_the_chamber_puts_only_a_registered_bailiff_of_the_region_on_a_case(
    desk: Desk, bailiff: str, role: str | None, region: str | None, refusal: str
) -> None:
    case_id = desk.refer_enforcement().case_id
    if role is not None:
        desk.register(bailiff, role=role, region=region)
    before = desk.snapshot()
    with pytest.raises(InvalidField, match=refusal) as caught:
        desk.fire_filled(
            case_id, "reassign_bailiff", "chamber", bailiff=bailiff, reason="breach_found"
        )
    assert caught.value.field == "payload.bailiff"
    assert desk.snapshot() == before


def test_a_deactivated_bailiff_is_not_put_on_a_case(desk: Desk) -> None:
    case_id = desk.refer_enforcement().case_id
    desk.register("bailiff-gone", role="bailiff", centre=None)
    with desk.store.transaction() as conn:
        users.deactivate(conn, "bailiff-gone")
    with pytest.raises(InvalidField, match="'bailiff-gone' is deactivated"):
        desk.fire_filled(
            case_id, "reassign_bailiff", "chamber", bailiff="bailiff-gone", reason="breach_found"
        )


def test_a_creditor_withdraws_an_enforcement_case_and_enforcement_resumes(desk: Desk) -> None:
    case_id = desk.refer_enforcement().case_id
    creditor = desk.register("altai", role="party", iin_bin=BIN_A)
    debtor = desk.register("dana", role="party", iin_bin=make_iin(2))
    with pytest.raises(PartyRoleNotAllowed, match="'dana' is debtor"):
        desk.fire(case_id, "withdraw", "party", debtor, reason="debt_paid")
    done = desk.fire(case_id, "withdraw", "party", creditor, reason="debt_paid")
    assert desk.case(case_id).enforcement_suspended is False
    told = {m.recipient: json.loads(m.context) for m in desk.outbox(case_id) if m.seq == done.seq}
    assert told["bailiff:bailiff-7"]["enforcement"] == "resumed"


def test_a_withdrawal_outside_enforcement_says_nothing_of_enforcement(desk: Desk) -> None:
    case_id = desk.refer().case_id
    claimant = desk.register("aigerim", role="party", iin_bin=IIN)
    done = desk.fire(case_id, "withdraw", "party", claimant, reason="claim_withdrawn")
    told = [json.loads(m.context) for m in desk.outbox(case_id) if m.seq == done.seq]
    assert told and not any("enforcement" in c for c in told)
    assert not any(m.recipient.startswith("bailiff:") for m in desk.outbox(case_id))
