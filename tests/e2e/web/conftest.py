"""Fixtures for the supervisor pages: the app with one user per role, three cases, and a
real Chromium for the browser tests.

The page tests run on SQLite only (the pages add no SQL of their own that could differ
between the stores; the API's tests run the same reads on PostgreSQL). The browser
tests need Debian's `/usr/bin/chromium` and the `playwright` package: when either is
missing they are skipped loudly, and under CI=true they fail, as PostgreSQL's do.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.web.session import COOKIE, lifetimes
from tatulasu.wiring import App
from tests.conftest import unavailable
from tests.e2e.api.conftest import (
    add_people,
    court_referral,
    enforcement_referral,
    party_referral,
    wire,
)
from workflow import web_sessions
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCRIPT_SUBJECT = "<script>alert('pwned')</script> unpaid wages"


@dataclass
class Site:
    """The app under test, and a way to read its pages as each user of the API fixtures."""

    client: TestClient
    wired: App
    clock: SimulatedClock
    tokens: dict[str, str]

    def session(self, user: str) -> web_sessions.Started:
        """A new session of `user`, begun now (as signing in would, without the password)."""
        lives = lifetimes(self.wired.settings)
        with self.wired.store.transaction() as conn:
            return web_sessions.start(conn, user, self.clock.now(), lives)

    def page(
        self, user: str | None, url: str, *, lang: str | None = "en", **kwargs: Any
    ) -> httpx2.Response:
        """GET `url` in a new session of `user` (none for None); redirects not followed.

        In `lang`, as the language switch's cookie chooses it (English, which most tests
        read); None sends no such cookie, so the profile or the browser decides.
        """
        cookies = {COOKIE: self.session(user).token} if user else {}
        if lang is not None:
            cookies[LANGUAGE_COOKIE] = lang
        headers = kwargs.pop("headers", {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return self.client.get(url, headers=headers, follow_redirects=False, **kwargs)

    def refer(self, user: str, body: dict[str, Any]) -> int:
        """Open a case through the API, as `user` would."""
        answer = self.client.post(
            "/cases", json=body, headers={"Authorization": f"Bearer {self.tokens[user]}"}
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["case_id"])


@pytest.fixture
def site(sqlite_store: Store, clock: SimulatedClock, calendar: BusinessCalendar) -> Iterator[Site]:
    wired = wire(sqlite_store, clock, calendar)
    tokens = add_people(wired)
    with TestClient(create_app(wired), raise_server_exceptions=True) as client:
        client.cookies.set(LANGUAGE_COOKIE, "en")  # the pages in English, unless a test asks
        yield Site(client, wired, clock, tokens)


@dataclass(frozen=True)
class Opened:
    party: int  # VKO, Oskemen, opened by coord-vko; its subject holds a <script> tag
    enforcement: int  # VKO, Oskemen, bailiff-vko's referral
    court: int  # KAR, Karaganda, court-kar's referral


@pytest.fixture
def opened(site: Site) -> Opened:
    return Opened(
        party=site.refer("coord-vko", party_referral(subject=SCRIPT_SUBJECT)),
        enforcement=site.refer("bailiff-vko", enforcement_referral()),
        court=site.refer("court-kar", court_referral()),
    )


def browser_missing() -> str | None:
    """None when the browser tests can run, else what is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by playwright (never `playwright install`)."""
    reason = browser_missing()
    if reason is not None:
        unavailable("browser", f"browser tests NOT run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
