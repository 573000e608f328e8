"""Every role gets exactly what its scope allows, and 403 elsewhere — across regions too."""

from __future__ import annotations

import pytest

from tests.e2e.api.conftest import (
    KARAGANDA,
    PEOPLE,
    Api,
    Cases,
    enforcement_referral,
    party_referral,
)

EVERYONE = [p.id for p in PEOPLE]

# Who reads which of the three cases (see `Cases`).
READERS = {
    "party": {"root", "sup-vko", "chamber-vko", "court-vko", "coord-vko", "med-vko",
              "party-aigerim"},
    "enforcement": {"root", "sup-vko", "chamber-vko", "court-vko", "coord-vko", "med-vko",
                    "bailiff-vko"},
    "court": {"root", "sup-kar", "court-kar", "coord-kar"},
}  # fmt: skip
AUDITORS = {"root", "sup-vko", "sup-kar"}
REPORTERS = AUDITORS | {"coord-vko", "coord-kar"}


def test_each_user_reads_exactly_the_cases_of_his_scope(api: Api, cases: Cases) -> None:
    for which, readers in READERS.items():
        case_id = getattr(cases, which)
        for user in EVERYONE:
            for url in (f"/cases/{case_id}", f"/cases/{case_id}/timeline"):
                got = api.get(user, url).status_code
                want = 200 if user in readers else 403
                assert got == want, f"{user} GET {url} ({which}): {got}, expected {want}"


def test_each_user_lists_exactly_the_cases_he_may_read(api: Api, cases: Cases) -> None:
    for user in EVERYONE:
        page = api.get(user, "/cases").json()
        listed = {item["id"] for item in page["items"]}
        expected = {getattr(cases, w) for w, readers in READERS.items() if user in readers}
        assert listed == expected, user
        assert page["total"] == len(expected)


def test_audit_and_reports_answer_only_auditors_and_reporters(api: Api, cases: Cases) -> None:
    for user in EVERYONE:
        for url in ("/audit/verify", "/audit/export", "/audit/export?format=csv"):
            assert api.get(user, url).status_code == (200 if user in AUDITORS else 403), (user, url)
        got = api.get(user, "/reports/summary").status_code
        assert got == (200 if user in REPORTERS else 403), user


def test_supervisors_verify_and_count_only_their_region(api: Api, cases: Cases) -> None:
    assert api.get("sup-vko", "/audit/verify").json()["cases"] == 2
    assert api.get("sup-kar", "/audit/verify").json()["cases"] == 1
    assert api.get("root", "/audit/verify").json()["cases"] == 3
    assert api.get("sup-vko", "/reports/summary").json()["cases"] == 2
    assert api.get("coord-kar", "/reports/summary").json()["cases"] == 1
    assert api.get("sup-vko", "/reports/summary?region=KAR").status_code == 403
    assert api.get("coord-vko", f"/reports/summary?centre={KARAGANDA}").status_code == 403
    assert api.get("root", "/reports/summary?region=KAR").json()["cases"] == 1


def test_only_a_bailiff_imports_a_file(api: Api) -> None:
    data = b"enforcement_proceeding,proceeding_opened_on\n"
    for user in EVERYONE:
        answer = api.post(user, "/referrals/import", files={"file": ("r.csv", data)})
        want = 422 if user.startswith("bailiff") else 403  # a bailiff's file lacks columns
        assert answer.status_code == want, (user, answer.text)


@pytest.mark.parametrize(
    ("user", "body", "status"),
    [
        ("coord-vko", party_referral(), 201),
        ("coord-vko", party_referral("KAR", KARAGANDA), 403),
        ("coord-kar", party_referral(), 403),
        ("party-aigerim", party_referral("KAR", KARAGANDA), 201),
        ("party-other", party_referral(), 403),
        ("bailiff-vko", enforcement_referral("EP-9"), 201),
        ("bailiff-vko", enforcement_referral("EP-9", region="KAR"), 403),
        ("court-vko", party_referral(), 201),
        ("court-kar", party_referral(), 403),
        ("sup-vko", party_referral(), 403),
        ("chamber-vko", party_referral(), 403),
        ("med-vko", party_referral(), 403),
        ("root", party_referral(), 403),
    ],
)
def test_who_may_open_a_case_and_where(api: Api, user: str, body: dict, status: int) -> None:
    answer = api.post(user, "/cases", json=body)
    assert answer.status_code == status, answer.text
    if status == 201:
        assert api.get(user, answer.headers["Location"]).status_code == 200


def test_events_are_fired_by_the_roles_the_lifecycle_allows_within_scope(
    api: Api, cases: Cases
) -> None:
    refused = {
        "coord-kar": "forbidden",  # other region
        "sup-vko": "forbidden",  # read-only
        "court-vko": "role-not-allowed",  # may not accept
        "party-aigerim": "role-not-allowed",
        "root": "role-not-allowed",
        "bailiff-vko": "forbidden",  # not his case
    }
    for user, kind in refused.items():
        answer = api.fire(user, cases.party, "accept")
        assert answer.status_code == 403, (user, answer.text)
        assert answer.json()["type"].endswith(kind), (user, answer.json())
    assert api.fire("coord-vko", cases.party, "accept").status_code == 200
    assert (
        api.fire("party-aigerim", cases.party, "withdraw", reason="claim_withdrawn").json()[
            "to_state"
        ]
        == "withdrawn"
    )


def test_the_actor_of_an_event_is_the_authenticated_user(api: Api, cases: Cases) -> None:
    api.fire("coord-vko", cases.party, "accept")
    records = api.get("coord-vko", f"/cases/{cases.party}/timeline").json()["records"]
    assert [(r["actor"], r["role"]) for r in records] == [
        ("coord-vko", "coordinator"),
        ("coord-vko", "coordinator"),
    ]


def test_personal_data_is_shown_in_full_only_to_roles_that_need_it(api: Api, cases: Cases) -> None:
    def claimant(user: str, query: str = "") -> dict:
        case = api.get(user, f"/cases/{cases.party}{query}").json()
        return next(p for p in case["parties"] if p["role"] == "claimant")

    assert claimant("coord-vko")["iin_bin"] == "061211600012"
    assert claimant("party-aigerim")["iin_bin"] == "061211600012"
    assert claimant("sup-vko")["iin_bin"] == "0612******12"
    assert claimant("sup-vko")["name"] == "A. S."
    assert claimant("sup-vko", "?unmasked=true&reason=audit")["iin_bin"] == "061211600012"
    assert claimant("chamber-vko")["email"] == "a******@example.kz"
    assert api.get("chamber-vko", f"/cases/{cases.party}?unmasked=true").status_code == 403
    assert api.get("party-aigerim", "/audit/export?unmasked=true").status_code == 403
    respondent = api.get("sup-vko", f"/cases/{cases.party}").json()["parties"][1]
    assert respondent["name"] == "A. LLP"  # masked alike; the legal form stays


def test_a_request_without_a_valid_token_is_unauthenticated(api: Api, cases: Cases) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        answer = api.client.get(f"/cases/{cases.party}", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/metrics").status_code == 200


@pytest.mark.parametrize("key", [None, "retry-1"], ids=["one-transaction", "idempotent"])
def test_firing_refuses_in_order_token_role_case_scope(
    api: Api, cases: Cases, key: str | None
) -> None:
    """Both paths of `POST /cases/{id}/events` refuse alike, and write nothing."""
    headers = {"Idempotency-Key": key} if key else {}
    body = {"event": "record_consultation", "payload": {}}

    def fire(user: str | None, case_id: int) -> int:
        auth = api.auth(user) if user else {"Authorization": "Bearer nope"}
        url = f"/cases/{case_id}/events"
        return api.client.post(url, json=body, headers={**auth, **headers}).status_code

    before = api.get("coord-vko", f"/cases/{cases.party}").json()["version"]
    assert fire(None, cases.party) == 401  # unknown token, even for a missing case
    assert fire(None, 10**6) == 401
    assert fire("sup-vko", 10**6) == 403  # read-only role before the case is looked up
    assert fire("coord-vko", 10**6) == 404
    assert fire("coord-kar", cases.party) == 403  # another centre's case
    assert api.get("coord-vko", f"/cases/{cases.party}").json()["version"] == before
    assert fire("coord-vko", cases.party) == 200
    assert api.get("coord-vko", f"/cases/{cases.party}").json()["version"] == before + 1
