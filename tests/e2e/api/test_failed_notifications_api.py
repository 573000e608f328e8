"""GET /notifications?status=failed and POST /notifications/{id}/retry, role by role."""

from __future__ import annotations

import pytest

from tasks.dispatch import Dispatcher
from tests.e2e.api.conftest import Api, Cases
from tests.integration.test_failed_notices import POLICY, FakeSink
from workflow.schema import outbox

READERS_SEE = {"root": {"VKO", "KAR"}, "sup-vko": {"VKO"}, "sup-kar": {"KAR"}}


@pytest.fixture
def failed(api: Api, cases: Cases) -> list[int]:
    """Every message of the three cases failed for good (a sink refusing them all)."""
    Dispatcher(api.wired.engine, {"email": FakeSink("permanent"), "sms": FakeSink("permanent")},
               policy=POLICY).run_once()  # fmt: skip
    with api.wired.store.reading() as conn:
        rows = conn.execute(outbox.select().where(outbox.c.status == "failed")).all()
    return [r.id for r in rows]


@pytest.mark.parametrize("user", sorted(READERS_SEE))
def test_admins_and_supervisors_list_the_failures_of_their_scope(
    api: Api, failed: list[int], user: str
) -> None:
    answer = api.get(user, "/notifications", params={"status": "failed"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {n["region"] for n in body["items"]} == READERS_SEE[user]
    assert body["total"] == len(body["items"]) and body["limit"] == 50
    failed_at = [n["failed_at"] for n in body["items"]]
    assert failed_at == sorted(failed_at, reverse=True)
    for notice in body["items"]:
        assert "aigerim@example.kz" not in answer.text and "+77011234567" not in answer.text
        if notice["recipient_kind"] == "party":
            assert "*" in notice["address"]


@pytest.mark.parametrize(
    "user", ["coord-vko", "med-vko", "court-kar", "bailiff-vko", "chamber-vko", "party-aigerim"]
)
def test_other_roles_may_not_list_failed_notifications(
    api: Api, failed: list[int], user: str
) -> None:
    answer = api.get(user, "/notifications?status=failed")
    assert answer.status_code == 403
    assert answer.json()["type"] == "urn:tatulasu:problem:forbidden"


def test_only_failed_is_a_status_to_list_and_the_page_is_bounded(api: Api) -> None:
    for query in ("status=sent", "limit=0", "limit=1001", "offset=-1", "case_id=0"):
        answer = api.get("root", f"/notifications?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["field"].startswith("query."), query
    assert api.get("root", "/notifications").status_code == 200  # failed is the default
    assert api.client.get("/notifications").status_code == 401


def test_an_admin_retries_one_and_it_leaves_the_list(api: Api, failed: list[int]) -> None:
    answer = api.post("root", f"/notifications/{failed[0]}/retry")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"retried": [failed[0]], "status": "pending"}
    listed = api.get("root", "/notifications").json()
    assert failed[0] not in {n["id"] for n in listed["items"]}
    assert listed["total"] == len(failed) - 1


@pytest.mark.parametrize("user", ["sup-vko", "coord-vko", "bailiff-vko", "party-aigerim"])
def test_only_an_admin_may_retry(api: Api, failed: list[int], user: str) -> None:
    answer = api.post(user, f"/notifications/{failed[0]}/retry")
    assert answer.status_code == 403
    assert "admin" in answer.json()["detail"]
    assert api.get("root", "/notifications").json()["total"] == len(failed)


def test_retrying_again_is_a_conflict_naming_the_status(api: Api, failed: list[int]) -> None:
    assert api.post("root", f"/notifications/{failed[0]}/retry").status_code == 200
    again = api.post("root", f"/notifications/{failed[0]}/retry")
    assert again.status_code == 409
    body = again.json()
    assert body["type"] == "urn:tatulasu:problem:not-retryable"
    assert (body["field"], body["current"]) == ("id", "pending")
    assert f"notification {failed[0]} is waiting to be sent already" in body["detail"]


def test_an_unknown_notification_is_404_and_a_huge_id_422(api: Api, failed: list[int]) -> None:
    missing = api.post("root", "/notifications/999999/retry")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    assert api.post("root", f"/notifications/{2**40}/retry").status_code == 422


def test_a_batch_is_all_or_nothing(api: Api, failed: list[int]) -> None:
    api.post("root", f"/notifications/{failed[1]}/retry")
    refused = api.post("root", "/notifications/retry", json={"ids": [failed[0], failed[1]]})
    assert refused.status_code == 409 and refused.json()["current"] == "pending"
    assert failed[0] in {n["id"] for n in api.get("root", "/notifications").json()["items"]}
    unknown = api.post("root", "/notifications/retry", json={"ids": [failed[0], 999999]})
    assert unknown.status_code == 404
    done = api.post("root", "/notifications/retry", json={"ids": [failed[0], failed[2]]})
    assert done.status_code == 200 and done.json()["retried"] == sorted([failed[0], failed[2]])


def test_every_failed_notification_of_a_case_is_retried_at_once(
    api: Api, cases: Cases, failed: list[int]
) -> None:
    mine = api.get("root", f"/notifications?case_id={cases.court}").json()["items"]
    done = api.post("root", "/notifications/retry", json={"case_id": cases.court})
    assert done.status_code == 200 and done.json()["retried"] == sorted(n["id"] for n in mine)
    assert api.get("root", f"/notifications?case_id={cases.court}").json()["total"] == 0
    nothing = api.post("root", "/notifications/retry", json={"case_id": cases.court})
    assert nothing.status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"ids": []}, {"ids": [1], "case_id": 1}, {"ids": ["x"]}, {"case_id": 2**40}]
)
def test_a_batch_body_names_the_field_at_fault(api: Api, body: dict[str, object]) -> None:
    answer = api.post("root", "/notifications/retry", json=body)
    assert answer.status_code == 422
    assert answer.json()["field"].startswith("body")
