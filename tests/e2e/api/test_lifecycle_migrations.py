"""`POST /lifecycle/migrations`: an admin moves open version 1 cases to version 2.

The dry run answers what would change and writes nothing; the move answers the same and
records it in each case's history; other roles are refused; a wrong version names its
field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tests.e2e.api.conftest import Api, add_people, court_referral, party_referral, wire
from workflow import audit
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.engine import Engine
from workflow.store import Store


@pytest.fixture
def v1_api(store: Store, clock: SimulatedClock, calendar: BusinessCalendar) -> Iterator[Api]:
    """The API of a deployment whose cases were opened under version 1."""
    engine = Engine(store, clock=clock, calendar=calendar, opens_version=1)
    wired = dataclasses.replace(wire(store, clock, calendar), engine=engine)
    tokens = add_people(wired)
    with TestClient(create_app(wired)) as client:
        yield Api(client, wired, clock, tokens)


def test_an_admin_moves_open_cases_and_a_dry_run_writes_nothing(v1_api: Api) -> None:
    api = v1_api
    party = api.refer("coord-vko", party_referral())
    court = api.refer("court-kar", court_referral())
    assert api.fire("coord-vko", party, "accept").status_code == 200
    body = {"from_version": 1, "to_version": 2, "dry_run": True}
    dry = api.post("root", "/lifecycle/migrations", json=body)
    assert dry.status_code == 200, dry.text
    assert dry.json()["moved"] == 2 and dry.json()["unplaced"] == []
    assert {(c["case_id"], c["to_state"]) for c in dry.json()["cases"]} == {
        (party, "offer_sent"),
        (court, "court_conciliation"),
    }
    again = api.post("root", "/lifecycle/migrations", json=body)
    assert again.json() == dry.json()  # nothing was written
    done = api.post("root", "/lifecycle/migrations", json={**body, "dry_run": False})
    assert done.status_code == 200 and done.json()["moved"] == 2
    shown = api.get("root", f"/cases/{party}")
    assert shown.json()["state"] == "offer_sent", shown.text
    with api.wired.store.reading() as conn:
        assert audit.verify(conn, decider=api.wired.engine).ok


@pytest.mark.parametrize("user", ["sup-vko", "coord-vko", "court-vko"])
def test_only_an_admin_moves_cases(v1_api: Api, user: str) -> None:
    body = {"from_version": 1, "to_version": 2, "dry_run": True}
    assert v1_api.post(user, "/lifecycle/migrations", json=body).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from_version": 9, "to_version": 2, "dry_run": True}, "from_version"),
        ({"from_version": 2, "to_version": 2, "dry_run": True}, "to_version"),
        ({"from_version": 1, "to_version": 2}, "dry_run"),
    ],
)
def test_a_wrong_request_names_its_field_and_changes_nothing(
    v1_api: Api, body: dict[str, object], field: str
) -> None:
    answer = v1_api.post("root", "/lifecycle/migrations", json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
