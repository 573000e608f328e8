"""Fixtures for the HTTP API: the app on the shared `store` fixture, with one user per role.

Two regions, so that every "outside his scope" can be tried: East Kazakhstan (VKO, the
Oskemen centre) and Karaganda (KAR, the Karaganda mediation office).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tatulasu.settings import Settings
from tatulasu.wiring import App
from tests.conftest import BIN_A, BIN_B, IIN, make_iin
from workflow import users
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.engine import Engine
from workflow.store import Store
from workflow.users import User

OSKEMEN = "Oskemen Tatulasu centre"
KARAGANDA = "Karaganda mediation office"
DEBTOR_IIN = make_iin(2)

PEOPLE = (
    User("root", "Root Admin", "admin"),
    User("sup-vko", "Supervisor East", "supervisor", region="VKO"),
    User("sup-kar", "Supervisor Karaganda", "supervisor", region="KAR"),
    User("chamber-vko", "Chamber East", "chamber", region="VKO"),
    User("court-vko", "Oskemen city court", "court", region="VKO"),
    User("court-kar", "Karaganda court", "court", region="KAR"),
    User("coord-vko", "Coordinator East", "coordinator", region="VKO", centre=OSKEMEN),
    User("coord-kar", "Coordinator Karaganda", "coordinator", region="KAR", centre=KARAGANDA),
    User("med-vko", "Mediator East", "mediator", region="VKO", centre=OSKEMEN),
    User("bailiff-vko", "Bailiff East", "bailiff", region="VKO"),
    User("bailiff-2", "Another bailiff", "bailiff", region="VKO"),
    User("party-aigerim", "Aigerim Serikova", "party", iin_bin=IIN),
    User("party-other", "Someone Else", "party", iin_bin=make_iin(50)),
)


def party_referral(region: str = "VKO", centre: str = OSKEMEN, **extra: Any) -> dict[str, Any]:
    return {
        "region": region,
        "centre": centre,
        "subject": "unpaid wages",
        "parties": [
            {"role": "claimant", "name": "Aigerim Serikova", "iin_bin": IIN,
             "email": "aigerim@example.kz"},
            {"role": "respondent", "name": "Altai LLP", "iin_bin": BIN_A,
             "phone": "+77011234567"},
        ],
        **extra,
    }  # fmt: skip


def enforcement_referral(proceeding: str = "EP-1", region: str = "VKO") -> dict[str, Any]:
    return {
        "region": region,
        "centre": OSKEMEN,
        "enforcement_proceeding": proceeding,
        "parties": [
            {"role": "debtor", "name": "Dana Mukanova", "iin_bin": DEBTOR_IIN,
             "phone": "+77017654321"},
            {"role": "creditor", "name": "Altai LLP", "iin_bin": BIN_A, "email": "d@altai.kz"},
        ],
    }  # fmt: skip


def court_referral() -> dict[str, Any]:
    return {
        "region": "KAR",
        "centre": KARAGANDA,
        "parties": [
            {"role": "claimant", "name": "Bolat Kasymov", "iin_bin": make_iin(1)},
            {"role": "respondent", "name": "Saryarka JSC", "iin_bin": BIN_B},
        ],
    }


@dataclass
class Api:
    """The API under test, and a way to call it as each of the people above."""

    client: TestClient
    wired: App
    clock: SimulatedClock
    tokens: dict[str, str]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.get(url, headers={**self.auth(user), **kwargs.pop("headers", {})},
                               **kwargs)  # fmt: skip

    def post(self, user: str, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.post(url, headers={**self.auth(user), **kwargs.pop("headers", {})},
                                **kwargs)  # fmt: skip

    def refer(self, user: str, body: dict[str, Any]) -> int:
        answer = self.post(user, "/cases", json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["case_id"])

    def fire(self, user: str, case_id: int, event: str, **payload: Any) -> httpx2.Response:
        return self.post(
            user, f"/cases/{case_id}/events", json={"event": event, "payload": payload}
        )


def wire(store: Store, clock: SimulatedClock, calendar: BusinessCalendar) -> App:
    """An `App` on a store a fixture made (and will dispose of)."""
    settings = Settings(database_url=store.url)
    engine = Engine(store, clock=clock, calendar=calendar)
    return App(settings=settings, store=store, calendar=calendar, engine=engine)


def add_people(wired: App, people: tuple[User, ...] = PEOPLE) -> dict[str, str]:
    with wired.store.transaction() as conn:
        return {p.id: users.create(conn, p, wired.engine.clock.now()) for p in people}


@pytest.fixture
def api(store: Store, clock: SimulatedClock, calendar: BusinessCalendar) -> Iterator[Api]:
    wired = wire(store, clock, calendar)
    tokens = add_people(wired)
    with TestClient(create_app(wired), raise_server_exceptions=True) as client:
        yield Api(client, wired, clock, tokens)


@dataclass(frozen=True)
class Cases:
    party: int  # VKO, Oskemen; Aigerim is the claimant
    enforcement: int  # VKO, Oskemen; bailiff-vko's referral
    court: int  # KAR, Karaganda; court-kar's referral


@pytest.fixture
def cases(api: Api) -> Cases:
    return Cases(
        party=api.refer("coord-vko", party_referral()),
        enforcement=api.refer("bailiff-vko", enforcement_referral()),
        court=api.refer("court-kar", court_referral()),
    )
