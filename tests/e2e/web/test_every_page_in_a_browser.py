"""Every page, in Kazakh and Russian, on a desktop and on a phone: accessible and fitting.

Each page state (sign-in, case list, a case, overdue terms, statistics, lifecycle, people,
centres, a page that does not exist) is opened in Chromium at 1366×900 and at 390×844
(an iPhone 12-14); axe-core must find no violation of WCAG 2.1 AA and its best practices,
and on the phone nothing may be wider than the screen (no sideways scrolling).

With `TATULASU_SCREENSHOTS=<folder>` the pages are also saved there as PNG: that is how
`docs/screenshots/` is made.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tatulasu.settings import Settings
from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.wiring import build
from tests.e2e.web.axe import assert_accessible, axe_script
from tests.e2e.web.test_browser import PASSWORD, Seeded, seeded, server, sign_in
from workflow import passwords, users
from workflow.users import User

pytestmark = pytest.mark.slow
__all__ = ["seeded", "server"]  # fixtures shared with test_browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ADMIN = "admin-web"


@pytest.fixture(scope="module")
def admin(seeded: Seeded) -> str:
    """An admin who signs in with `PASSWORD` (the people page is his)."""
    wired = build(Settings(database_url=seeded.url))
    try:
        with wired.store.transaction() as conn:
            users.create(conn, User(ADMIN, "Admin", "admin"), datetime.now(UTC))
            passwords.set_password(conn, ADMIN, PASSWORD)
    finally:
        wired.close()
    return ADMIN


@pytest.fixture
def browse(chromium: Any, server: str) -> Iterator[Any]:
    """A fresh context per call: `browse(viewport, lang)` gives a page in that language."""
    axe_script()  # skip (or fail under CI) before any page is opened
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int], lang: str) -> Any:
        context = chromium.new_context(base_url=server, viewport=viewport, bypass_csp=True)
        context.set_default_timeout(15_000)
        host = server.split("//", 1)[1].split(":", 1)[0]
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": lang, "domain": host, "path": "/"}])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def fits(page: Any) -> tuple[int, int]:
    """The document's width and the window's: equal when nothing scrolls sideways."""
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(width), int(window)


def check(page: Any, name: str, viewport: dict[str, int], lang: str, failures: list[str]) -> None:
    where = f"{name} ({lang}, {viewport['width']} px)"
    try:
        assert_accessible(page, where)
    except AssertionError as error:
        failures.append(str(error))
    width, window = fits(page)
    if viewport is PHONE and width > window:
        failures.append(f"{where}: {width} px wide on a {window} px screen")
    shots = os.environ.get("TATULASU_SCREENSHOTS")
    if shots:
        folder = Path(shots)
        folder.mkdir(parents=True, exist_ok=True)
        device = "phone" if viewport is PHONE else "desktop"
        page.screenshot(path=str(folder / f"{name}-{lang}-{device}.png"))  # the first screen


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_accessible_and_fits_the_screen(
    browse: Any, seeded: Seeded, admin: str, viewport: dict[str, int], lang: str
) -> None:
    failures: list[str] = []
    page = browse(viewport, lang)
    page.goto("/web/login")
    check(page, "sign-in", viewport, lang, failures)
    sign_in(page)
    check(page, "cases", viewport, lang, failures)
    page.goto(f"/web/cases/{seeded.late}")
    check(page, "case", viewport, lang, failures)
    page.goto("/web/cases/1")  # a demo case, with a long timeline
    check(page, "case-timeline", viewport, lang, failures)
    page.goto("/web/overdue?days=30")
    check(page, "overdue", viewport, lang, failures)
    page.goto("/web/reports")
    check(page, "reports", viewport, lang, failures)
    page.goto("/web/lifecycle")
    check(page, "lifecycle", viewport, lang, failures)
    answer = page.goto("/web/no-such-page")
    assert answer.status == 404 and page.locator("header nav").count() >= 1
    check(page, "not-found", viewport, lang, failures)

    as_admin = browse(viewport, lang)
    as_admin.goto("/web/login")
    as_admin.fill("#username", admin)
    as_admin.fill("#password", PASSWORD)
    as_admin.click("form.login button[type=submit]")
    as_admin.wait_for_url("**/web/cases")
    as_admin.goto("/web/people")
    check(as_admin, "people", viewport, lang, failures)
    as_admin.goto("/web/centres")
    check(as_admin, "centres", viewport, lang, failures)
    assert not failures, "\n".join(failures)


def test_the_current_page_is_marked_in_the_menu(browse: Any, seeded: Seeded) -> None:
    page = browse(DESKTOP, "ru")
    sign_in(page)
    page.goto("/web/overdue")
    current = page.locator("header nav [aria-current=page]")
    assert current.count() == 1 and current.get_attribute("href") == "/web/overdue"
    skip = page.locator("a.skip")
    assert skip.get_attribute("href") == "#main" and page.locator("main#main").count() == 1
