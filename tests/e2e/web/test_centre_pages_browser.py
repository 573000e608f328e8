"""The centres page in Chromium: accessible and fitting, for an admin and a supervisor.

A real uvicorn process on a store where Oskemen's centre has open cases and only a
mediator (so it is flagged), Karaganda has a coordinator, another centre has a long
name, and most regions have no centre; an admin and a supervisor sign in with passwords,
in Kazakh and in Russian, at 1366 px and at 390 px (a phone): axe-core finds no
violation and nothing scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tatulasu.settings import Settings
from tatulasu.wiring import build
from tests.e2e.api.conftest import KARAGANDA
from tests.e2e.served import uvicorn_api
from tests.e2e.web.test_browser import OSKEMEN, PASSWORD, open_referral, sign_in
from tests.e2e.web.test_every_page_in_a_browser import browse
from tests.e2e.web.test_notice_pages_browser import VIEWPORTS, check
from workflow import passwords, users
from workflow.store import Store
from workflow.users import User

pytestmark = pytest.mark.slow
__all__ = ["browse"]  # the fixture, on this module's `server`
LONG = "Өскемен қаласы Тату-ла-су кәсіподақ орталығының медиация бөлмесі №2"  # 67 letters
PEOPLE = (
    User("med-osk", "Mediator", "mediator", region="VKO", centre=OSKEMEN),
    User("bailiff-long", "Bailiff", "bailiff", region="VKO", centre=LONG),
    User("coord-kar", "Coordinator", "coordinator", region="KAR", centre=KARAGANDA),
    User("admin-web", "Admin", "admin"),
    User("sup-vko", "Supervisor East", "supervisor", region="VKO"),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('centres') / 'centres.db'}"
    Store(url).migrate()
    now = datetime.now(UTC)
    for n in range(3):
        open_referral(url, now - timedelta(days=10 * n), f"wages {n}")  # two of them late
    wired = build(Settings(database_url=url))
    try:
        with wired.store.transaction() as conn:
            for person in PEOPLE:
                users.create(conn, person, now)
                if person.role in ("admin", "supervisor"):  # they sign in below
                    passwords.set_password(conn, person.id, PASSWORD)
    finally:
        wired.close()
    with uvicorn_api(url) as base:
        yield base


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_page_is_accessible_and_fits_for_an_admin_and_a_supervisor(
    browse: Any, lang: str, size: str
) -> None:
    viewport = VIEWPORTS[size]
    admin = browse(viewport, lang)
    sign_in(admin, "admin-web")
    admin.click("nav.pages a[href='/web/centres']")
    admin.wait_for_url("**/web/centres")
    assert admin.locator("section.region").count() == 20
    flagged = admin.locator("table.centres tr.bad")
    assert flagged.count() == 1 and OSKEMEN in flagged.inner_text()
    check(admin, f"admin ({lang}, {size})")

    supervisor = browse(viewport, lang)
    sign_in(supervisor, "sup-vko")
    supervisor.click("nav.pages a[href='/web/centres']")
    supervisor.wait_for_url("**/web/centres")
    assert supervisor.locator("section.region").count() == 1
    assert supervisor.locator("table.centres tbody tr").count() == 2
    check(supervisor, f"supervisor ({lang}, {size})")
