"""The pages in a real browser: uvicorn on a store the demo filled, Chromium headless.

The store is what `tatulasu demo` leaves (a centre's months of cases, driven by the real
engine, sweep and calendar), plus a few cases opened now, one of them with its term run
out; the server is a real uvicorn process, as `tatulasu serve` would run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tatulasu.demo.run import run_demo
from tatulasu.settings import Settings
from tatulasu.web.session import COOKIE
from tatulasu.wiring import build
from tests.conftest import BIN_A, IIN
from tests.e2e.served import uvicorn_api
from tests.e2e.web.conftest import SCRIPT_SUBJECT
from workflow import audit, passwords, queries, users
from workflow.clock import SimulatedClock
from workflow.commands import OpenCase, PartyInput
from workflow.summary import summary
from workflow.users import User

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
OSKEMEN = "Tatulasu reconciliation centre, Oskemen"  # a centre of the demo


PASSWORD = "a password long enough"


@dataclass(frozen=True)
class Seeded:
    url: str
    token: str  # the VKO supervisor's (he signs in as `sup-vko` with `PASSWORD`)
    late: int  # a case whose acceptance term has run out
    script: int  # a case whose subject holds a <script> tag


def open_referral(url: str, at: datetime, subject: str) -> int:
    """A party's referral opened through the engine at `at` (its terms run from then)."""
    wired = build(Settings(database_url=url), clock=SimulatedClock(at))
    try:
        opened = wired.engine.open_case(
            OpenCase(
                event="refer", actor="aigerim", role="party", region="VKO", centre=OSKEMEN,
                subject=subject,
                parties=(
                    PartyInput("claimant", "Aigerim Serikova", IIN, email="aigerim@example.kz"),
                    PartyInput("respondent", "Altai LLP", BIN_A, phone="+77011234567"),
                ),
            )
        )  # fmt: skip
        return opened.case_id
    finally:
        wired.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'demo.db'}"
    run_demo(url, cases=40, progress=False)
    now = datetime.now(UTC)
    late = open_referral(url, now - timedelta(days=20), "Wage arrears, waiting since last month")
    script = open_referral(url, now, SCRIPT_SUBJECT)
    wired = build(Settings(database_url=url))
    try:
        with wired.store.transaction() as conn:
            token = users.create(
                conn,
                User("sup-vko", "Supervisor East", "supervisor", region="VKO", language="en"),
                now,
            )
            passwords.set_password(conn, "sup-vko", PASSWORD)
    finally:
        wired.close()
    return Seeded(url, token, late, script)


@pytest.fixture(scope="module")
def server(seeded: Seeded) -> Iterator[str]:
    """uvicorn in its own process, on the seeded store, as a deployment starts it."""
    with uvicorn_api(seeded.url) as base:
        yield base


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) with one page; any script dialog fails the test."""
    context = chromium.new_context(base_url=server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", refuse)
    yield opened
    context.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"


def sign_in(page: Any, user: str = "sup-vko", password: str = PASSWORD) -> None:
    page.goto("/web/cases")
    assert "/web/login" in page.url
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/web/cases")


def test_a_supervisor_reads_cases_timeline_and_reports_in_chromium(
    page: Any, seeded: Seeded, tmp_path: Path
) -> None:
    sign_in(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/web"
    assert cookie["value"] not in (seeded.token, PASSWORD)
    assert page.locator("h1").inner_text() == "Cases"
    assert page.locator("table.cases tbody tr").count() > 10

    page.locator("table.cases tbody tr td:first-child a").first.click()
    page.wait_for_url("**/web/cases/*")
    case_id = int(page.url.rsplit("/", 1)[1])
    wired = build(Settings(database_url=seeded.url))
    try:
        with wired.store.reading() as conn:
            records = queries.history(conn, case_id)
            assert audit.verify(conn, case_ids=[case_id]).ok
            vko = summary(conn, region="VKO")
    finally:
        wired.close()
    assert page.locator("ol.timeline > li").count() == len(records)
    assert page.locator("#chain").inner_text().startswith("Chain verified")
    assert records[-1].hash[:12] in page.locator("#chain").inner_text()
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    page.click("header nav >> text=Reports")
    page.wait_for_url("**/web/reports")
    assert page.locator("svg#chart-outcomes").is_visible()
    assert page.locator("svg#chart-outcomes rect.bar").count() == len(vko.outcomes)
    assert page.locator("svg#chart-origins rect.bar").count() == len(vko.by_origin)
    assert page.locator("#reconciled").inner_text() == str(vko.reconciled)
    assert page.locator("#cases").inner_text() == str(vko.cases)
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)


def test_overdue_terms_and_an_escaped_subject_in_chromium(
    page: Any, seeded: Seeded, tmp_path: Path
) -> None:
    sign_in(page)
    page.click("header nav >> text=Overdue terms")
    page.wait_for_url("**/web/overdue")
    first = page.locator("table.overdue tbody tr").first
    assert first.locator("a").inner_text() == f"#{seeded.late}"
    assert "overdue by" in first.inner_text()
    page.goto(f"/web/cases/{seeded.script}")
    assert page.locator("p.subject").inner_text() == SCRIPT_SUBJECT
    assert page.locator("script").count() == 0
    page.click("header nav >> text=Lifecycle")
    page.wait_for_url("**/web/lifecycle")
    assert page.locator("figure.diagram svg, pre.mermaid-text").count() == 1
    page.screenshot(path=str(tmp_path / "lifecycle.png"))


def test_signing_out_in_chromium_ends_the_session(page: Any, seeded: Seeded) -> None:
    sign_in(page)
    page.click("form.who button")
    page.wait_for_url("**/web/login")
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE]
    page.goto("/web/reports")
    assert "/web/login?next=%2Fweb%2Freports" in page.url
    page.fill("#username", "sup-vko")
    page.fill("#password", "not the password at all")
    page.click("form.login button[type=submit]")
    assert "user name or the password is not right" in page.locator("p.banner").inner_text()


def test_the_pages_keep_their_security_headers_in_chromium(page: Any, seeded: Seeded) -> None:
    answer = page.goto("/web/login")
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    sign_in(page)
    assert page.locator("h1").count() == 1
    assert page.evaluate("1 + 1") == 2  # playwright's own script still runs (CSP is for pages)
