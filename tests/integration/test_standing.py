"""The engine looks at people: the mediator it is given, the party who withdraws."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BIN_A, IIN, Desk, make_iin
from workflow.errors import InvalidField, PartyRoleNotAllowed


def test_an_unregistered_mediator_is_refused_and_nothing_is_written(desk: Desk) -> None:
    case_id = desk.to_state("pre_trial")
    before = desk.snapshot()
    with pytest.raises(InvalidField, match="is not a registered user") as caught:
        desk.fire(case_id, "assign_mediator", "coordinator", mediator="<script>x</script>")
    assert caught.value.field == "payload.mediator"
    assert desk.snapshot() == before


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
