"""schemathesis against the app's own OpenAPI: no 5xx, answers conform to the schema.

Requests are made as an admin (reads everything) or, for firing events, as the
coordinator of the East Kazakhstan centre, on a SQLite store that holds cases of both
regions, so that generated requests reach real cases and not only 404s. Bounded to a
few examples per operation so that the whole run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tatulasu.api import create_app
from tests.e2e.api.conftest import (
    add_people,
    court_referral,
    enforcement_referral,
    party_referral,
    wire,
)
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.store import Store

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
TOKENS: dict[str, str] = {}


@pytest.fixture
def api_schema(
    tmp_path: Path, clock: SimulatedClock, calendar: BusinessCalendar
) -> Iterator[schemathesis.BaseSchema]:
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store.migrate()
    wired = wire(store, clock, calendar)
    TOKENS.clear()
    TOKENS.update(add_people(wired))
    app = create_app(wired)
    with TestClient(app) as client:
        for user, body in (
            ("coord-vko", party_referral()),
            ("bailiff-vko", enforcement_referral()),
            ("court-kar", court_referral()),
        ):
            headers = {"Authorization": f"Bearer {TOKENS[user]}"}
            assert client.post("/cases", json=body, headers=headers).status_code == 201
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.dispose()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_makes_the_server_fail_or_break_its_schema(case: schemathesis.Case) -> None:
    user = "coord-vko" if case.path.endswith("/events") else "root"
    if case.path == "/referrals/import":
        user = "bailiff-vko"
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS[user]}"}, checks=CHECKS)
