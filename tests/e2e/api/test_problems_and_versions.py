"""Errors are RFC 9457 problem documents; If-Match, ETag and Idempotency-Key behave."""

from __future__ import annotations

import httpx2
import sqlalchemy as sa

from tests.e2e.api.conftest import Api, Cases, enforcement_referral, party_referral

PROBLEM = "application/problem+json"


def assert_problem(answer: httpx2.Response, status: int, slug: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["type"] == f"urn:tatulasu:problem:{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return dict(body)


def test_the_etag_is_the_version_and_a_stale_if_match_writes_nothing(
    api: Api, cases: Cases
) -> None:
    case = api.get("coord-vko", f"/cases/{cases.party}")
    assert case.headers["etag"] == '"1"'
    moved = api.post("coord-vko", f"/cases/{cases.party}/events",
                     json={"event": "accept"}, headers={"If-Match": '"1"'})  # fmt: skip
    assert moved.status_code == 200
    assert moved.headers["etag"] == '"2"'
    stale = api.post("coord-vko", f"/cases/{cases.party}/events",
                     json={"event": "decline", "payload": {"reason": "other"}},
                     headers={"If-Match": '"1"'})  # fmt: skip
    body = assert_problem(stale, 409, "stale-version")
    assert (body["expected"], body["current"]) == (1, 2)
    assert api.get("coord-vko", f"/cases/{cases.party}").json()["state"] == "pre_trial"


def test_a_malformed_if_match_is_named_as_the_field_at_fault(api: Api, cases: Cases) -> None:
    answer = api.post("coord-vko", f"/cases/{cases.party}/events",
                      json={"event": "accept"}, headers={"If-Match": "yesterday"})  # fmt: skip
    assert assert_problem(answer, 422, "invalid-field")["field"] == "If-Match"


def test_a_repeated_idempotency_key_returns_the_first_answer(api: Api, cases: Cases) -> None:
    key = {"Idempotency-Key": "accept-once"}
    first = api.post("coord-vko", f"/cases/{cases.party}/events", json={"event": "accept"},
                     headers=key)  # fmt: skip
    again = api.post("coord-vko", f"/cases/{cases.party}/events", json={"event": "accept"},
                     headers=key)  # fmt: skip
    assert first.json() == again.json()
    assert api.get("coord-vko", f"/cases/{cases.party}").json()["version"] == 2
    other = api.post(
        "coord-vko",
        f"/cases/{cases.party}/events",
        json={"event": "decline", "payload": {"reason": "other"}},
        headers=key,
    )
    assert_problem(other, 409, "idempotency-key-reused")


def test_an_event_not_allowed_in_the_state_lists_the_allowed_ones(api: Api, cases: Cases) -> None:
    body = assert_problem(api.fire("court-kar", cases.court, "judge", ruling_ref="R-1"), 409,
                          "event-not-allowed")  # fmt: skip
    assert "reach_agreement" in body["allowed"]
    assert not {"remind", "escalate", "record_delivery"} & set(body["allowed"])  # system's


def test_an_unknown_event_is_a_422_naming_the_field_and_the_closest_events(
    api: Api, cases: Cases
) -> None:
    body = assert_problem(api.fire("coord-vko", cases.party, "acept"), 422, "unknown-event")
    assert (body["field"], body["suggestions"]) == ("event", ["accept"])
    assert body["errors"][0]["field"] == "event"
    assert "did you mean accept?" in body["detail"]


def test_a_failing_guard_is_explained_and_keeps_its_id(api: Api, cases: Cases) -> None:
    api.fire("coord-vko", cases.party, "accept")
    answer = api.fire("coord-vko", cases.party, "start_mediation", contract_signed_on="2024-01-01")
    body = assert_problem(answer, 409, "guard-failed")
    assert body["guards"] == ["has_mediator"]
    explained = "needs a mediator assigned first (guard has_mediator): fire assign_mediator"
    assert explained in body["detail"]


def test_payload_faults_name_the_payload_field(api: Api, cases: Cases) -> None:
    api.fire("coord-vko", cases.party, "accept")
    missing = api.fire("coord-vko", cases.party, "assign_mediator")
    assert assert_problem(missing, 422, "invalid-field")["field"] == "payload.mediator"
    wrong_type = api.fire("coord-vko", cases.party, "assign_mediator", mediator=7)
    assert assert_problem(wrong_type, 422, "invalid-field")["field"] == "payload.mediator"
    too_long = api.fire("coord-vko", cases.party, "assign_mediator", mediator="m" * 81)
    assert_problem(too_long, 422, "invalid-request")


def test_a_bad_identifier_in_a_referral_names_the_party(api: Api) -> None:
    body = party_referral()
    body["parties"][0]["iin_bin"] = "061211600013"
    answer = api.post("coord-vko", "/cases", json=body)
    problem = assert_problem(answer, 422, "invalid-identifier")
    assert problem["field"] == "parties[0].iin_bin"
    assert "check digit" in problem["detail"]


def test_request_validation_errors_list_every_field(api: Api) -> None:
    problem = assert_problem(api.post("coord-vko", "/cases", json={"region": 5}), 422,
                             "invalid-request")  # fmt: skip
    fields = {e["field"] for e in problem["errors"]}
    assert {"body.region", "body.centre", "body.parties"} <= fields


def test_unknown_case_unknown_route_and_nul_characters(api: Api) -> None:
    assert_problem(api.get("root", "/cases/999"), 404, "not-found")
    assert_problem(api.get("root", "/nowhere"), 404, "http-404")
    assert_problem(api.get("root", "/cases/99999999999"), 422, "invalid-request")
    assert_problem(api.get("root", "/cases?state=%00"), 422, "invalid-field")
    body = party_referral(subject="wages\x00")
    assert_problem(api.post("coord-vko", "/cases", json=body), 422, "invalid-request")


def test_a_duplicate_enforcement_referral_is_a_conflict(api: Api, cases: Cases) -> None:
    answer = api.post("bailiff-vko", "/cases", json=enforcement_referral("EP-1"))
    assert assert_problem(answer, 409, "duplicate-case")["case_id"] == cases.enforcement


def test_a_store_failure_is_503_with_retry_after(api: Api, cases: Cases) -> None:
    api.wired.store.engine.dispose()
    original = api.wired.store.engine.url
    broken = api.wired.store.engine

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    broken.connect = refuse  # type: ignore[method-assign]
    try:
        answer = api.get("root", f"/cases/{cases.party}")
    finally:
        del broken.connect
    problem = assert_problem(answer, 503, "store-unavailable")
    assert answer.headers["retry-after"] == "5"
    assert "connection refused" in problem["detail"]
    assert api.wired.store.engine.url == original
