"""Every CSV the API and the pages write opens in a spreadsheet as text, never a formula.

A centre or a user id a spreadsheet would run (`=cmd|' /C calc'!A0`) comes out with a
leading single quote (OWASP's advice); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

import pytest

from tatulasu.web.session import COOKIE, lifetimes
from tests.e2e.api.conftest import Api, add_people, party_referral
from workflow import web_sessions
from workflow.users import User

EVIL_CENTRE = "=cmd|' /C calc'!A0"
EVIL_ID = "+coord-evil"


@pytest.fixture
def evil(api: Api) -> int:
    """A coordinator whose id and centre start like formulas, and a case he referred."""
    staff = User(EVIL_ID, "@Coordinator", "coordinator", region="VKO", centre=EVIL_CENTRE)
    api.tokens.update(add_people(api.wired, (staff,)))
    return api.refer(EVIL_ID, party_referral(centre=EVIL_CENTRE))


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_formula_centre_is_neutralised_in_the_report_csv(api: Api, evil: int) -> None:
    answer = api.get(EVIL_ID, "/reports/summary?format=csv")
    assert answer.status_code == 200, answer.text
    assert ["scope", "centre", "'=cmd|' /C calc'!A0"] in rows(answer.text)
    assert ["cases", "", "1"] in rows(answer.text)  # numbers untouched


def test_a_formula_centre_is_neutralised_in_the_pages_report_csv(api: Api, evil: int) -> None:
    lives = lifetimes(api.wired.settings)
    with api.wired.store.transaction() as conn:
        started = web_sessions.start(conn, EVIL_ID, api.wired.engine.clock.now(), lives)
    cookie = {"Cookie": f"{COOKIE}={started.token}"}
    answer = api.client.get("/web/reports.csv", headers=cookie)
    assert answer.status_code == 200, answer.text
    cells = [c for r in csv.reader(io.StringIO(answer.text), delimiter=";") for c in r]
    assert "'=cmd|' /C calc'!A0" in cells and EVIL_CENTRE not in cells  # for Excel: `;`


def test_a_formula_actor_is_neutralised_in_the_audit_export_csv(api: Api, evil: int) -> None:
    text = api.get("root", "/audit/export?format=csv").text
    records = [r for r in csv.DictReader(io.StringIO(text)) if r["type"] == "record"]
    assert [(r["case_id"], r["seq"], r["actor"]) for r in records] == [
        (str(evil), "1", "'+coord-evil")
    ]
    assert records[0]["payload"].startswith("{")
