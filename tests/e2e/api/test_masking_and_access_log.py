"""Masking that masks, through the API; and every unmasked read in the access log."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import sqlalchemy as sa

from tests.conftest import BIN_A, IIN, make_iin
from tests.e2e.api.conftest import OSKEMEN, Api, Cases
from workflow.schema import outbox

BEKOV_IIN = make_iin(3)
SUBJECT = "Долг Bekov: ИИН 851112300014, тел. +7 (701) 123-45-67, bekov@mail.kz"


def three_parties(api: Api) -> int:
    return api.refer(
        "coord-vko",
        {
            "region": "VKO",
            "centre": OSKEMEN,
            "subject": SUBJECT,
            "parties": [
                {"role": "claimant", "name": "Серикова Айгерим Нурлановна", "iin_bin": IIN,
                 "email": "aigerim@example.kz"},
                {"role": "respondent", "name": "Bekov", "iin_bin": BEKOV_IIN,
                 "phone": "+77017654321"},
                {"role": "respondent", "name": "Altai LLP", "iin_bin": BIN_A},
            ],
        },
    )  # fmt: skip


def names(case: dict[str, Any]) -> list[str]:
    return [p["name"] for p in case["parties"]]


def access_log(api: Api, user: str, format: str = "jsonl") -> list[dict[str, Any]]:
    answer = api.get(user, f"/audit/access-log?format={format}")
    assert answer.status_code == 200, answer.text
    if format == "csv":
        return list(csv.DictReader(io.StringIO(answer.text)))
    return [json.loads(line) for line in answer.text.splitlines()]


def test_a_supervisor_sees_every_party_as_initials_surname_and_company_alike(api: Api) -> None:
    case_id = three_parties(api)
    masked = api.get("sup-vko", f"/cases/{case_id}").json()
    assert names(masked) == ["С. А. Н.", "B.", "A. LLP"]
    assert all("*" in p["iin_bin"] for p in masked["parties"])
    assert api.get("chamber-vko", f"/cases/{case_id}").json()["parties"][1]["name"] == "B."
    full = api.get("coord-vko", f"/cases/{case_id}").json()
    assert names(full) == ["Серикова Айгерим Нурлановна", "Bekov", "Altai LLP"]
    assert full["subject"] == SUBJECT


def test_an_iin_phone_and_email_in_the_subject_are_scrubbed_on_every_path(api: Api) -> None:
    case_id = three_parties(api)
    scrubbed = "Долг B.: ИИН [IIN], тел. [phone], [e-mail]"
    assert api.get("sup-vko", f"/cases/{case_id}").json()["subject"] == scrubbed
    listed = api.get("chamber-vko", "/cases").json()["items"]
    assert [c["subject"] for c in listed] == [scrubbed]
    opening = api.get("sup-vko", f"/cases/{case_id}/timeline").json()["records"][0]["payload"]
    assert opening["subject"] == scrubbed
    assert [p["name"] for p in opening["parties"]] == ["С. А. Н.", "B.", "A. LLP"]
    exported = api.get("sup-vko", "/audit/export").text
    assert "851112300014" not in exported and "Bekov" not in exported
    assert api.get("coord-vko", "/cases").json()["items"][0]["subject"] == SUBJECT


def test_a_reason_text_is_scrubbed_in_the_timeline(api: Api, cases: Cases) -> None:
    answer = api.fire("party-aigerim", cases.party, "withdraw", reason="other",
                      reason_text="call me on 8 701 765 43 21 or a.s@mail.kz")  # fmt: skip
    assert answer.status_code == 200, answer.text
    last = api.get("sup-vko", f"/cases/{cases.party}/timeline").json()["records"][-1]
    assert last["payload"]["reason_text"] == "call me on [phone] or [e-mail]"


def test_a_party_sees_his_own_entry_in_full_and_the_others_masked(api: Api) -> None:
    case_id = three_parties(api)
    case = api.get("party-aigerim", f"/cases/{case_id}").json()
    assert names(case) == ["Серикова Айгерим Нурлановна", "B.", "A. LLP"]
    assert case["parties"][0]["iin_bin"] == IIN
    assert case["subject"] == "Долг B.: ИИН [IIN], тел. [phone], [e-mail]"


def test_notifications_reach_the_recipient_unmasked(api: Api) -> None:
    case_id = three_parties(api)
    with api.wired.store.reading() as conn:
        query = sa.select(outbox.c.address).where(outbox.c.case_id == case_id)
        addresses = {row.address for row in conn.execute(query)}
    assert {"aigerim@example.kz", "+77017654321"} <= addresses


def test_an_unmasked_read_without_a_reason_is_refused_naming_the_field(
    api: Api, cases: Cases
) -> None:
    for url in (f"/cases/{cases.party}", f"/cases/{cases.party}/timeline", "/audit/export"):
        for query in ("?unmasked=true", "?unmasked=true&reason=%20%20"):
            answer = api.get("sup-vko", url + query)
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["field"] == "reason"
    assert api.get("chamber-vko", f"/cases/{cases.party}?unmasked=true&reason=x").status_code == 403
    assert access_log(api, "root") == []


def test_an_unmasked_read_is_recorded_with_who_when_which_case_and_why(
    api: Api, cases: Cases
) -> None:
    why = "complaint 17/2024 about the mediator"
    answer = api.get("sup-vko", f"/cases/{cases.party}?unmasked=true&reason={why}")
    assert answer.status_code == 200 and not answer.json()["masked"]
    api.get("root", f"/cases/{cases.court}/timeline?unmasked=true&reason=court+inquiry")
    api.get("sup-vko", f"/cases/{cases.party}")  # masked: not an unmasked read
    first, second = access_log(api, "root")
    assert first == {
        "at": "2024-04-22T04:00:00.000000Z", "actor": "sup-vko", "role": "supervisor",
        "channel": "api", "action": "case", "case_id": cases.party, "region": "VKO",
        "scope": f"case {cases.party}", "reason": why,
    }  # fmt: skip
    assert (second["actor"], second["action"], second["case_id"]) == (
        "root", "timeline", cases.court)  # fmt: skip
    assert second["reason"] == "court inquiry" and second["region"] == "KAR"


def test_an_unmasked_export_is_recorded_with_its_scope(api: Api, cases: Cases) -> None:
    assert api.get("sup-vko", "/audit/export?unmasked=true&reason=yearly+check").status_code == 200
    (entry,) = access_log(api, "sup-vko")
    assert (entry["action"], entry["case_id"], entry["region"]) == ("audit_export", None, "VKO")
    assert entry["scope"] == "audit export, region VKO"


def test_the_access_log_export_is_scoped_to_the_supervisors_region(api: Api, cases: Cases) -> None:
    api.get("sup-vko", f"/cases/{cases.party}?unmasked=true&reason=east")
    api.get("sup-kar", f"/cases/{cases.court}?unmasked=true&reason=karaganda")
    api.get("root", "/audit/export?unmasked=true&reason=everything")
    assert [e["reason"] for e in access_log(api, "sup-vko")] == ["east"]
    assert [e["reason"] for e in access_log(api, "sup-kar", "csv")] == ["karaganda"]
    assert [e["reason"] for e in access_log(api, "root")] == ["east", "karaganda", "everything"]
    for user in ("chamber-vko", "coord-vko", "party-aigerim"):
        assert api.get(user, "/audit/access-log").status_code == 403


def test_a_reason_quoting_personal_data_is_scrubbed_in_the_access_log(
    api: Api, cases: Cases
) -> None:
    api.get("sup-vko", f"/cases/{cases.party}?unmasked=true&reason=caller+87011234567")
    assert access_log(api, "sup-vko")[0]["reason"] == "caller [phone]"
