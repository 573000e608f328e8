"""The failed notifications page in Chromium: accessible and fitting, before and after a retry.

A real uvicorn process on a store where a refusing sink failed every message of a few
cases; an admin and a supervisor sign in with passwords, in Kazakh and in Russian, at
1366 px and at 390 px (a phone): axe-core finds no violation and nothing scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tasks.dispatch import Dispatcher
from tatulasu.settings import Settings
from tatulasu.wiring import build
from tests.e2e.served import uvicorn_api
from tests.e2e.web.axe import assert_accessible
from tests.e2e.web.test_browser import PASSWORD, open_referral, sign_in
from tests.e2e.web.test_every_page_in_a_browser import browse, fits
from tests.integration.test_failed_notices import POLICY, FakeSink
from workflow import passwords, users
from workflow.store import Store
from workflow.users import User

pytestmark = pytest.mark.slow
__all__ = ["browse"]  # the fixture, on this module's `server`
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LONG = "Еңбекақы бойынша дау, ұзақ сипаттама " * 4  # a long subject: wraps, never widens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('notices') / 'notices.db'}"
    Store(url).migrate()
    now = datetime.now(UTC)
    for n in range(3):
        open_referral(url, now, f"{LONG}{n}")
    wired = build(Settings(database_url=url))
    try:
        refusing = FakeSink("permanent")
        Dispatcher(wired.engine, {"email": refusing, "sms": refusing}, policy=POLICY).run_once()
        with wired.store.transaction() as conn:
            for person in (
                User("admin-web", "Admin", "admin"),
                User("sup-vko", "Supervisor East", "supervisor", region="VKO"),
            ):
                users.create(conn, person, now)
                passwords.set_password(conn, person.id, PASSWORD)
    finally:
        wired.close()
    with uvicorn_api(url) as base:
        yield base


def check(page: Any, where: str) -> None:
    assert_accessible(page, where)
    width, window = fits(page)
    assert width <= window, f"{where}: {width} px wide in a {window} px window"


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_page_is_accessible_and_fits_before_and_after_a_retry(
    browse: Any, lang: str, size: str, tmp_path: Path
) -> None:
    viewport = VIEWPORTS[size]
    supervisor = browse(viewport, lang)
    sign_in(supervisor, "sup-vko")
    supervisor.click("nav.pages a[href='/web/notifications']")
    supervisor.wait_for_url("**/web/notifications")
    assert supervisor.locator("table.notices tbody tr").count() >= 3
    assert supervisor.locator("button[name=only]").count() == 0
    check(supervisor, f"supervisor ({lang}, {size})")

    admin = browse(viewport, lang)
    sign_in(admin, "admin-web")
    admin.goto("/web/notifications")
    rows = admin.locator("table.notices tbody tr").count()
    assert rows >= 3
    check(admin, f"admin ({lang}, {size})")
    admin.locator("button[name=only]").first.click()
    admin.wait_for_url("**/web/notifications?retried=1")
    assert admin.locator("p.banner.good[role=status]").count() == 1
    assert admin.locator("table.notices tbody tr").count() == rows - 1
    check(admin, f"admin after a retry ({lang}, {size})")
