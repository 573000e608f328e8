"""A centre's year through real HTTP: uvicorn on PostgreSQL, 134 disputes, 107 reconciled.

Bailiffs and parties refer the disputes, the centre's staff and the court drive each one
to its outcome, all through HTTP from eight client threads; then the supervisor's report
must count exactly what was driven, and the audit chain must verify.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tatulasu.cli import app as cli
from tests.conftest import BIN_A, BIN_B, PG_URL, make_iin
from tests.e2e.api.conftest import OSKEMEN
from tests.e2e.served import uvicorn_api

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STAFF = [
    ("coord", "coordinator", ["--region", "VKO", "--centre", OSKEMEN]),
    ("med", "mediator", ["--region", "VKO", "--centre", OSKEMEN]),
    ("court", "court", ["--region", "VKO"]),
    ("sup", "supervisor", ["--region", "VKO"]),
    ("bailiff-1", "bailiff", ["--region", "VKO"]),
    ("bailiff-2", "bailiff", ["--region", "VKO"]),
]
PARTIES = [f"party-{n}" for n in range(4)]
ENFORCEMENT_SETTLED, ENFORCEMENT_RETURNED = 48, 12
PARTY_SETTLED, PARTY_FAILED, PARTY_WITHDRAWN = 59, 10, 5


@pytest.fixture
def fresh_database(pg_admin: sa.Engine) -> Iterator[str]:
    name = f"tatulasu_e2e_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def tokens(fresh_database: str) -> dict[str, str]:
    """`tatulasu init` and `tatulasu users create` through the CLI, as an operator would."""
    runner = CliRunner()
    env = {"TATULASU_DATABASE_URL": fresh_database}
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    made: dict[str, str] = {}
    people = [*STAFF, *((p, "party", ["--iin-bin", make_iin(40 + 7 * i)])
                        for i, p in enumerate(PARTIES))]  # fmt: skip
    for ident, role, scope in people:
        done = runner.invoke(cli, ["users", "create", "--id", ident, "--name", ident.title(),
                                   "--role", role, *scope], env=env)  # fmt: skip
        assert done.exit_code == 0, done.output
        made[ident] = done.stdout.strip()
    return made


@pytest.fixture
def server(fresh_database: str, tokens: dict[str, str]) -> Iterator[str]:
    with uvicorn_api(fresh_database) as base:
        yield base


class Desk:
    """HTTP calls as each user; the duration of every fired event is kept."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.tokens = tokens
        self.fire_seconds: list[float] = []

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def refer(self, user: str, body: dict[str, object]) -> int:
        answer = self.client.post("/cases", json=body, headers=self.headers(user))
        assert answer.status_code == 201, answer.text
        return int(answer.json()["case_id"])

    def fire(self, user: str, case_id: int, event: str, **payload: str) -> str:
        version = self.client.get(f"/cases/{case_id}", headers=self.headers(user))
        started = time.perf_counter()
        answer = self.client.post(
            f"/cases/{case_id}/events",
            json={"event": event, "payload": payload},
            headers={**self.headers(user), "If-Match": version.headers["etag"]},
        )
        self.fire_seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["to_state"])


def enforcement_case(desk: Desk, n: int, today: str) -> str:
    bailiff = f"bailiff-{1 + n % 2}"
    case_id = desk.refer(bailiff, {
        "region": "VKO", "centre": OSKEMEN, "enforcement_proceeding": f"EP-2025-{n:04d}",
        "parties": [
            {"role": "debtor", "name": f"Debtor {n}", "iin_bin": make_iin(1000 + 3 * n)},
            {"role": "creditor", "name": "Altai LLP", "iin_bin": BIN_A},
        ],
    })  # fmt: skip
    desk.fire("coord", case_id, "assign_mediator", mediator="med")
    desk.fire("med", case_id, "record_session")
    if n < ENFORCEMENT_SETTLED:
        desk.fire("med", case_id, "reach_agreement", agreement_ref=f"MA-E{n}")
        desk.fire("court", case_id, "approve", ruling_ref=f"R-E{n}", ruling_prepared_on=today)
        return desk.fire("court", case_id, "ruling_in_force")  # the court says it took effect
    return desk.fire("med", case_id, "fail", reason="no_agreement")


def party_case(desk: Desk, n: int, today: str) -> str:
    party = PARTIES[n % len(PARTIES)]
    iin = make_iin(40 + 7 * (n % len(PARTIES)))
    case_id = desk.refer(party, {
        "region": "VKO", "centre": OSKEMEN, "subject": "labour dispute",
        "parties": [
            {"role": "claimant", "name": f"Claimant {n}", "iin_bin": iin},
            {"role": "respondent", "name": "Saryarka JSC", "iin_bin": BIN_B},
        ],
    })  # fmt: skip
    if n >= PARTY_SETTLED + PARTY_FAILED:
        return desk.fire(party, case_id, "withdraw", reason="settled_outside")
    desk.fire("coord", case_id, "accept")
    desk.fire("coord", case_id, "assign_mediator", mediator="med")
    desk.fire("med", case_id, "start_mediation", contract_signed_on=today)
    if n < PARTY_SETTLED:
        return desk.fire("med", case_id, "reach_agreement", agreement_ref=f"MA-P{n}")
    # A failure before any court closes the case; the parties may go to court (v2).
    return desk.fire("med", case_id, "fail", reason="party_refused_mediation")


def test_a_year_of_134_disputes_through_http_is_reported_and_verified(
    server: str, tokens: dict[str, str]
) -> None:
    desk = Desk(server, tokens)
    try:
        check_a_year(desk)
    finally:
        desk.client.close()


def check_a_year(desk: Desk) -> None:
    today = datetime.now(ZoneInfo("Asia/Almaty")).date().isoformat()
    enforcement = ENFORCEMENT_SETTLED + ENFORCEMENT_RETURNED
    by_party = PARTY_SETTLED + PARTY_FAILED + PARTY_WITHDRAWN
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = [
            *pool.map(lambda n: enforcement_case(desk, n, today), range(enforcement)),
            *pool.map(lambda n: party_case(desk, n, today), range(by_party)),
        ]
    assert len(outcomes) == 134

    report = desk.client.get("/reports/summary", headers=desk.headers("sup")).json()
    assert report["cases"] == 134 and report["closed"] == 134 and report["open"] == 0
    assert report["reconciled"] == 107
    assert report["reconciled_share"] == pytest.approx(107 / 134)
    assert report["by_origin"] == {"bailiff": enforcement, "party": by_party}
    assert report["outcomes"] == {
        "settled": 107,
        "returned_to_bailiff": ENFORCEMENT_RETURNED,
        "closed_no_agreement": PARTY_FAILED,
        "withdrawn": PARTY_WITHDRAWN,
    }
    assert report["sessions"] == enforcement
    assert report["days_to_agreement"]["count"] == 107

    verified = desk.client.get("/audit/verify", headers=desk.headers("sup")).json()
    assert verified["ok"] and verified["first_break"] is None
    assert verified["cases"] == 134
    assert verified["events"] == 134 + len(desk.fire_seconds)

    mine = desk.client.get("/cases?limit=1000", headers=desk.headers("bailiff-1")).json()
    assert mine["total"] == enforcement // 2
    assert all(c["closed"] for c in mine["items"])

    ordered = sorted(desk.fire_seconds)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
    print(f"\nfired {len(ordered)} events over HTTP (8 clients, PostgreSQL): "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
