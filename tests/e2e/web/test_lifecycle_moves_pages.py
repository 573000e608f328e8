"""The admins' page that moves open cases to the lifecycle in force.

On a store whose cases were opened under version 1: the page counts them, its preview
says what each rule would do and writes nothing, its form moves them (each on its
history) and says how many; other roles are refused; in Chromium, in Kazakh and Russian,
at 1366 and 390 px, axe-core finds nothing and nothing scrolls sideways.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tatulasu.settings import Settings
from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.wiring import build
from tests.conftest import BIN_A, IIN
from tests.e2e.api.conftest import OSKEMEN, add_people, court_referral, party_referral, wire
from tests.e2e.served import uvicorn_api
from tests.e2e.web.axe import assert_accessible
from tests.e2e.web.conftest import Site
from tests.e2e.web.forms import csrf_of
from tests.e2e.web.test_browser import PASSWORD, sign_in
from tests.e2e.web.test_every_page_in_a_browser import browse, fits
from workflow import audit, passwords, users
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.commands import OpenCase, PartyInput
from workflow.engine import Engine
from workflow.store import Store
from workflow.users import User

__all__ = ["browse"]  # the fixture, on this module's `server`
PAGE = "/web/lifecycle/migrations"


@pytest.fixture
def v1_site(
    sqlite_store: Store, clock: SimulatedClock, calendar: BusinessCalendar
) -> Iterator[Site]:
    """The pages of a deployment whose cases were opened under version 1."""
    engine = Engine(sqlite_store, clock=clock, calendar=calendar, opens_version=1)
    wired = dataclasses.replace(wire(sqlite_store, clock, calendar), engine=engine)
    tokens = add_people(wired)
    with TestClient(create_app(wired), raise_server_exceptions=True) as client:
        client.cookies.set(LANGUAGE_COOKIE, "en")
        yield Site(client, wired, clock, tokens)


def test_an_admin_previews_then_moves_the_open_cases(v1_site: Site) -> None:
    site = v1_site
    party = site.refer("coord-vko", party_referral())
    site.refer("court-kar", court_referral())
    page = site.page("root", PAGE)
    assert page.status_code == 200, page.text
    assert re.search(r'<td data-label="Open cases" class="num">2</td>', page.text)
    preview = site.page("root", f"{PAGE}?from=1")
    assert "What moving the open cases of version 1 would do" in preview.text
    assert "Referred to a reconciliation centre, awaiting acceptance" in preview.text
    assert "kept as it is" in preview.text and "Move 2 cases" in preview.text
    again = site.page("root", PAGE)  # the preview wrote nothing
    assert re.search(r'<td data-label="Open cases" class="num">2</td>', again.text)

    cookie = f"tatulasu_session={site.session('root').token}; {LANGUAGE_COOKIE}=en"
    form = site.client.get(f"{PAGE}?from=1", headers={"Cookie": cookie})
    moved = site.client.post(
        PAGE,
        data={"csrf": csrf_of(form.text), "from_version": "1", "to_version": "2"},
        headers={"Cookie": cookie},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"{PAGE}?moved=2&unplaced=0"
    after = site.page("root", moved.headers["location"])
    assert "2 cases were moved to the lifecycle in force." in after.text
    assert "Nothing to move" in after.text
    with site.wired.store.reading() as conn:
        assert audit.verify(conn, decider=site.wired.engine).ok
    case_page = site.page("root", f"/web/cases/{party}")
    assert "The case moved to the lifecycle in force (version 2)" in case_page.text


@pytest.mark.parametrize("user", ["sup-vko", "coord-vko", "court-vko"])
def test_only_an_admin_may_open_the_page(v1_site: Site, user: str) -> None:
    assert v1_site.page(user, PAGE).status_code == 403


def test_the_lifecycle_page_links_admins_to_it(v1_site: Site) -> None:
    assert f'href="{PAGE}"' in v1_site.page("root", "/web/lifecycle").text
    assert f'href="{PAGE}"' not in v1_site.page("sup-vko", "/web/lifecycle").text


# ---------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('moves') / 'moves.db'}"
    Store(url).migrate()
    now = datetime.now(UTC)
    wired = build(Settings(database_url=url, lifecycle_version=1))  # cases of 2025
    try:
        for n in range(4):
            wired.engine.open_case(
                OpenCase(
                    event="refer", actor="aigerim", role="party", region="VKO",
                    centre=OSKEMEN, subject=f"Спор о заработной плате {n}",
                    parties=(
                        PartyInput("claimant", "Aigerim Serikova", IIN),
                        PartyInput("respondent", "Altai LLP", BIN_A),
                    ),
                )
            )  # fmt: skip
        with wired.store.transaction() as conn:
            users.create(conn, User("admin-web", "Admin", "admin"), now)
            passwords.set_password(conn, "admin-web", PASSWORD)
    finally:
        wired.close()
    with uvicorn_api(url) as base:
        yield base


VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def check(page: Any, where: str) -> None:
    assert_accessible(page, where)
    width, window = fits(page)
    assert width <= window, f"{where}: {width} px wide in a {window} px window"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_page_is_accessible_and_fits(browse: Any, lang: str, size: str) -> None:
    admin = browse(VIEWPORTS[size], lang)
    sign_in(admin, "admin-web")
    admin.goto("/web/lifecycle")
    admin.click(f"a[href='{PAGE}']")
    admin.wait_for_url(f"**{PAGE}")
    check(admin, f"moves ({lang}, {size})")
    admin.goto(f"{PAGE}?from=1")
    check(admin, f"preview ({lang}, {size})")
