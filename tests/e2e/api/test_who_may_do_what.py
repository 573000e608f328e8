"""Who may do what: where cases are opened, who names the mediator, who withdraws.

A bailiff's file stays in his region and centre, by the rule `POST /cases` applies; a
case sits only in a registered centre; a referral only proposes a mediator, and only a
registered mediator of the case's centre (of its region, for the court) is assigned;
the claimant withdraws and the respondent refuses; a withdrawal at the enforcement stage
resumes enforcement and tells the bailiff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from tatulasu.cli import app as cli
from tests.conftest import BIN_A
from tests.e2e.api.conftest import (
    DEBTOR_IIN,
    OSKEMEN,
    Api,
    Cases,
    add_people,
    enforcement_referral,
    party_referral,
)
from tests.e2e.api.test_csv_import import ENGLISH, row, upload
from workflow import users
from workflow.schema import outbox
from workflow.users import User

RIDDER = "Ridder akimat mediation office"


def register(api: Api, *people: User) -> None:
    api.tokens.update(add_people(api.wired, people))


def count_cases(api: Api) -> int:
    return int(api.get("root", "/cases").json()["total"])


def problem(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"urn:tatulasu:problem:{kind}", body
    return body


# ---------------------------------------------------------------------------- (4) the file


def test_a_bailiffs_csv_row_for_another_centre_is_refused_with_its_line(api: Api) -> None:
    register(
        api,
        User("bailiff-osk", "Bailiff of Oskemen", "bailiff", region="VKO", centre=OSKEMEN),
        User("coord-ridder", "Coordinator Ridder", "coordinator", region="VKO", centre=RIDDER),
    )
    elsewhere = row(1).replace(OSKEMEN, RIDDER)
    text = "\n".join([ENGLISH, row(0), elsewhere, row(2)]) + "\n"
    answer = upload(api, text, user="bailiff-osk")
    assert answer.status_code == 422, answer.text
    bad = [(e["line"], e["field"], e["reason"]) for e in answer.json()["errors"]]
    assert bad == [(3, "centre", f"{RIDDER!r} is not the bailiff's centre ({OSKEMEN})")]
    assert count_cases(api) == 0
    partial = upload(api, text, partial=True, user="bailiff-osk").json()
    assert (partial["imported"], partial["rejected"]) == (2, 1)
    # POST /cases refuses the same move, with the same words.
    refused = api.post("bailiff-osk", "/cases", json={**enforcement_referral("EP-9"),
                                                      "centre": RIDDER})  # fmt: skip
    assert problem(refused, 403, "forbidden")["detail"] == bad[0][2]


def test_a_row_in_a_centre_nobody_belongs_to_is_refused_with_its_line(api: Api) -> None:
    """bailiff-vko has no centre of his own: his rows may name any registered one."""
    nowhere = row(1).replace(OSKEMEN, "Semey Centre")
    answer = upload(api, "\n".join([ENGLISH, row(0), nowhere]) + "\n")
    (error,) = answer.json()["errors"]
    assert (error["line"], error["field"]) == (3, "centre")
    assert error["reason"].startswith("'Semey Centre' is not a registered centre of VKO")
    assert count_cases(api) == 0


def test_the_cli_import_refuses_a_row_for_another_centre_with_its_line(tmp_path: Path) -> None:
    env = {"TATULASU_DATABASE_URL": f"sqlite:///{tmp_path / 'import.db'}", "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    for ident, role, centre in (("bailiff-osk", "bailiff", OSKEMEN),
                                ("coord-semey", "coordinator", "Semey Centre")):  # fmt: skip
        create = ["users", "create", "--id", ident, "--name", "N", "--role", role]
        made = runner.invoke(cli, [*create, "--region", "VKO", "--centre", centre], env=env)
        assert made.exit_code == 0, made.output
    path = tmp_path / "file.csv"
    lines = [ENGLISH, *(row(n).replace(OSKEMEN, "Semey Centre") for n in range(20)), row(20)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = runner.invoke(cli, ["import", str(path), "--actor", "bailiff-osk", "--partial",
                               "--json"], env=env)  # fmt: skip
    assert done.exit_code == 2, done.output
    report = json.loads(done.stdout)
    assert (report["imported"], report["rejected"]) == (1, 20)
    assert [e["line"] for e in report["errors"]] == list(range(2, 22))
    assert {e["field"] for e in report["errors"]} == {"centre"}
    assert "not the bailiff's centre" in report["errors"][0]["reason"]


# ---------------------------------------------------------------------------- (8) centres


def test_a_case_is_opened_only_in_a_registered_centre(api: Api) -> None:
    nowhere = {"centre": "Nowhere centre"}
    for user, body in (
        ("court-vko", party_referral(**nowhere)),
        ("party-aigerim", party_referral(**nowhere)),
        ("bailiff-vko", {**enforcement_referral(), **nowhere}),
    ):
        refused = problem(api.post(user, "/cases", json=body), 422, "invalid-field")
        assert refused["field"] == "centre"
        assert "is not a registered centre of VKO" in refused["detail"]
    assert count_cases(api) == 0
    assert api.post("court-vko", "/cases", json=party_referral()).status_code == 201


# ---------------------------------------------------------------------------- (8) mediators


def test_a_party_cannot_pick_the_mediator(api: Api) -> None:
    register(api, User("med-kar", "Mediator Karaganda", "mediator", "KAR", "Karaganda office"))
    picked = api.post("party-aigerim", "/cases", json=party_referral(mediator="med-kar"))
    assert problem(picked, 422, "invalid-field")["field"] == "mediator"
    assert count_cases(api) == 0
    case_id = api.refer("party-aigerim", party_referral(proposed_mediator="med-kar"))
    case = api.get("party-aigerim", f"/cases/{case_id}").json()
    assert case["mediator"] is None
    opening = api.get("coord-vko", f"/cases/{case_id}/timeline").json()["records"][0]
    assert opening["payload"]["proposed_mediator"] == "med-kar"  # recorded, not assigned
    assign = api.fire("party-aigerim", case_id, "assign_mediator", mediator="med-kar")
    problem(assign, 403, "role-not-allowed")
    assert api.get("med-kar", f"/cases/{case_id}").status_code == 403


def test_only_a_registered_mediator_of_the_centre_can_be_assigned(api: Api, cases: Cases) -> None:
    register(
        api,
        User("med-kar", "Mediator Karaganda", "mediator", region="KAR", centre="Karaganda"),
        User("med-ridder", "Mediator Ridder", "mediator", region="VKO", centre=RIDDER),
        User("med-gone", "Former mediator", "mediator", region="VKO", centre=OSKEMEN),
    )
    with api.wired.store.transaction() as conn:
        users.deactivate(conn, "med-gone")
    refusals = {
        "<script>alert(1)</script>": "is not a registered user",
        "med-nobody": "is not a registered user",
        "coord-vko": "is a coordinator, not a mediator",
        "med-kar": "is a mediator of KAR, not of VKO",
        "med-ridder": f"is a mediator of {RIDDER!r}, not of the case's centre",
        "med-gone": "is deactivated",
    }
    for mediator, reason in refusals.items():
        answer = api.fire("coord-vko", cases.party, "assign_mediator", mediator=mediator)
        body = problem(answer, 422, "invalid-field")
        assert body["field"] == "payload.mediator" and reason in body["detail"], body
    assert api.get("root", f"/cases/{cases.party}").json()["version"] == 1  # nothing stored
    assert api.fire("coord-vko", cases.party, "assign_mediator", mediator="med-vko").is_success
    assert api.get("root", f"/cases/{cases.party}").json()["mediator"] == "med-vko"


def test_the_court_assigns_a_mediator_of_its_region_in_court_conciliation_only(
    api: Api, cases: Cases
) -> None:
    register(api, User("med-kar", "Mediator Karaganda", "mediator", "KAR", "Saryarka room"))
    assert api.fire("court-kar", cases.court, "assign_mediator", mediator="med-kar").is_success
    outside = api.fire("court-vko", cases.party, "assign_mediator", mediator="med-vko")
    assert "in state 'referred'" in problem(outside, 403, "role-not-allowed")["detail"]


# ---------------------------------------------------------------------------- (9) withdrawal


def test_a_respondent_cannot_withdraw_the_claimants_case(api: Api, cases: Cases) -> None:
    register(api, User("party-altai", "Altai LLP", "party", iin_bin=BIN_A))  # the respondent
    shown = api.get("party-altai", f"/cases/{cases.party}").json()["allowed_events"]
    assert shown == ["refuse"]
    answer = api.fire("party-altai", cases.party, "withdraw", reason="claim_withdrawn")
    body = problem(answer, 403, "party-role-not-allowed")
    assert body["detail"] == (
        "'withdraw' is for the case's claimant or creditor; 'party-altai' is respondent"
    )
    assert api.get("root", f"/cases/{cases.party}").json()["state"] == "referred"
    assert api.get("party-aigerim", f"/cases/{cases.party}").json()["allowed_events"] == [
        "withdraw"
    ]


def test_a_respondent_refuses_with_a_coded_reason(api: Api, cases: Cases) -> None:
    register(api, User("party-altai", "Altai LLP", "party", iin_bin=BIN_A))
    uncoded = api.fire("party-altai", cases.party, "refuse", reason="just because")
    assert problem(uncoded, 422, "invalid-field")["field"] == "payload.reason"
    claimant = api.fire("party-aigerim", cases.party, "refuse", reason="prefers_court")
    problem(claimant, 403, "party-role-not-allowed")
    done = api.fire("party-altai", cases.party, "refuse", reason="prefers_court")
    assert done.json()["to_state"] == "closed_no_agreement", done.text  # v2: not a court case


def test_withdrawing_an_enforcement_case_resumes_enforcement_and_tells_the_bailiff(
    api: Api, cases: Cases
) -> None:
    assert api.get("root", f"/cases/{cases.enforcement}").json()["enforcement_suspended"]
    done = api.fire("bailiff-vko", cases.enforcement, "withdraw", reason="debt_paid")
    assert done.json()["to_state"] == "withdrawn", done.text
    case = api.get("root", f"/cases/{cases.enforcement}").json()
    assert case["enforcement_suspended"] is False
    notices = _outbox(api, cases.enforcement, done.json()["seq"])
    assert json.loads(notices["bailiff:bailiff-vko"])["enforcement"] == "resumed"


def test_a_debtors_refusal_returns_the_case_to_the_bailiff_and_resumes_enforcement(
    api: Api, cases: Cases
) -> None:
    register(api, User("party-dana", "Dana Mukanova", "party", iin_bin=DEBTOR_IIN))
    withdraw = api.fire("party-dana", cases.enforcement, "withdraw", reason="debt_paid")
    problem(withdraw, 403, "party-role-not-allowed")  # the debtor is not the creditor
    done = api.fire("party-dana", cases.enforcement, "refuse", reason="disputes_the_claim")
    assert done.json()["to_state"] == "returned_to_bailiff", done.text
    assert api.get("root", f"/cases/{cases.enforcement}").json()["enforcement_suspended"] is False
    assert "bailiff:bailiff-vko" in _outbox(api, cases.enforcement, done.json()["seq"])


def _outbox(api: Api, case_id: int, seq: int) -> dict[str, str]:
    """The outbox rows of one event: recipient -> context."""
    query = sa.select(outbox.c.recipient, outbox.c.context).where(
        outbox.c.case_id == case_id, outbox.c.seq == seq
    )
    with api.wired.store.reading() as conn:
        return {str(r): str(c) for r, c in conn.execute(query)}
