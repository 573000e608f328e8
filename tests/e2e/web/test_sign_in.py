"""Signing in to the pages: passwords, server-side sessions, CSRF, sign-out, throttling."""

from __future__ import annotations

from datetime import timedelta

import argon2
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tatulasu.web.csrf import LOGIN_COOKIE
from tatulasu.web.session import COOKIE
from tests.e2e.web.conftest import Site
from tests.e2e.web.forms import PASSWORD, csrf_of, english, give_password, session_cookie, sign_in
from workflow import users, web_sessions
from workflow.schema import sign_in_failures
from workflow.schema import users as users_table
from workflow.schema import web_sessions as sessions_table

WRONG = "The user name or the password is not right."


@pytest.fixture(autouse=True)
def in_english(site: Site) -> None:
    """The texts checked here are the English ones, whatever the users' languages."""
    english(site.client)


def live_sessions(site: Site) -> list[str]:
    with site.wired.store.reading() as conn:
        return list(conn.scalars(sa.select(sessions_table.c.user_id)))


def other_client(site: Site, address: str = "10.0.0.2", https: bool = False) -> TestClient:
    """Another browser (its own cookies), on another machine."""
    base = "https://testserver" if https else "http://testserver"
    return english(TestClient(site.client.app, base_url=base, client=(address, 50000)))


def test_a_person_signs_in_with_name_and_password_and_the_cookie_holds_only_a_session_id(
    site: Site,
) -> None:
    give_password(site, "sup-vko")
    answer = sign_in(site.client, "sup-vko", next="/web/overdue")
    assert answer.status_code == 303 and answer.headers["location"] == "/web/overdue"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/web" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    token = session_cookie(site.client)
    assert token and token not in (PASSWORD, site.tokens["sup-vko"])
    with site.wired.store.reading() as conn:
        (row,) = conn.execute(sa.select(sessions_table)).all()
    assert row.id == web_sessions.key_of(token) and row.user_id == "sup-vko"
    assert row.address == "testclient"
    listed = site.client.get("/web/cases", follow_redirects=False)
    assert listed.status_code == 200 and "Supervisor East" in listed.text


def test_over_https_both_cookies_are_secure(site: Site) -> None:
    give_password(site, "root")
    browser = other_client(site, https=True)
    form = browser.get("/web/login")
    assert "Secure" in form.headers["set-cookie"] and LOGIN_COOKIE in form.headers["set-cookie"]
    answer = sign_in(browser, "root")
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "Secure" in cookie


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(site: Site) -> None:
    give_password(site, "sup-vko")
    give_password(site, "sup-kar")
    with site.wired.store.transaction() as conn:
        users.deactivate(conn, "sup-kar")
    answers = [
        sign_in(site.client, "sup-vko", "wrong password, long enough"),
        sign_in(site.client, "nobody-here", "wrong password, long enough"),
        sign_in(site.client, "coord-vko", PASSWORD),  # has no password
        sign_in(site.client, "sup-kar", PASSWORD),  # deactivated
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert WRONG in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
    pages = {a.text.replace(name, "NAME") for a, name in zip(answers, ["sup-vko", "nobody-here",
             "coord-vko", "sup-kar"], strict=True)}  # fmt: skip
    assert len({csrf_free(p) for p in pages}) == 1
    assert live_sessions(site) == []


def csrf_free(page: str) -> str:
    return page.replace(csrf_of(page), "TOKEN")


def test_a_login_post_without_the_token_signs_nobody_in(site: Site) -> None:
    give_password(site, "root")
    form = site.client.get("/web/login")
    token = csrf_of(form.text)
    good = {"username": "root", "password": PASSWORD}
    refused = [
        site.client.post("/web/login", data=good, follow_redirects=False),  # no field
        site.client.post("/web/login", data={**good, "csrf": "x" * 43}, follow_redirects=False),
        # a cross-site form: the browser sends no Strict cookie, and says where it came from
        other_client(site).post("/web/login", data={**good, "csrf": token}, follow_redirects=False),
        site.client.post(
            "/web/login", data={**good, "csrf": token}, follow_redirects=False,
            headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        ),
    ]  # fmt: skip
    for answer in refused:
        assert answer.status_code == 403
        assert "This form was refused" in answer.text and "Nothing was changed" in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
    assert live_sessions(site) == []
    ok = site.client.post("/web/login", data={**good, "csrf": token}, follow_redirects=False)
    assert ok.status_code == 303 and live_sessions(site) == ["root"]


def test_signing_in_begins_a_new_session_and_ends_the_old_one(site: Site) -> None:
    give_password(site, "root")
    give_password(site, "sup-vko")
    site.client.cookies.set(
        COOKIE, "planted-by-someone-else", domain="testserver.local", path="/web"
    )
    sign_in(site.client, "sup-vko")
    first = session_cookie(site.client)
    assert first and first != "planted-by-someone-else"
    sign_in(site.client, "root")
    second = session_cookie(site.client)
    assert second and second != first
    assert live_sessions(site) == ["root"]
    stale = TestClient(site.client.app, cookies={COOKIE: first})
    assert stale.get("/web/cases", follow_redirects=False).status_code == 303


def test_a_session_ends_after_30_idle_minutes(site: Site) -> None:
    give_password(site, "root")
    sign_in(site.client, "root")
    for _ in range(3):  # active every 29 minutes: still signed in after 87
        site.clock.advance(timedelta(minutes=29))
        assert site.client.get("/web/cases", follow_redirects=False).status_code == 200
    site.clock.advance(timedelta(minutes=30))
    answer = site.client.get("/web/cases", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/web/login")
    assert live_sessions(site) == []


def test_a_session_ends_12_hours_after_sign_in_however_active(site: Site) -> None:
    give_password(site, "root")
    sign_in(site.client, "root")
    for _ in range(12 * 3 - 1):  # a request every 20 minutes for 11 h 40 min
        site.clock.advance(timedelta(minutes=20))
        assert site.client.get("/web/lifecycle", follow_redirects=False).status_code == 200
    site.clock.advance(timedelta(minutes=20))
    assert site.client.get("/web/lifecycle", follow_redirects=False).status_code == 303


def test_signing_out_by_get_does_nothing_by_post_ends_the_session_for_good(site: Site) -> None:
    give_password(site, "sup-vko")
    sign_in(site.client, "sup-vko")
    token = session_cookie(site.client)
    asked = site.client.get("/web/logout", follow_redirects=False)
    assert asked.status_code == 200 and 'method="post" action="/web/logout"' in asked.text
    assert site.client.get("/web/cases", follow_redirects=False).status_code == 200
    forged = site.client.post("/web/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert forged.status_code == 403 and live_sessions(site) == ["sup-vko"]
    page = site.client.get("/web/cases")
    answer = site.client.post(
        "/web/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/web/login"
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]
    assert live_sessions(site) == []
    replayed = TestClient(site.client.app, cookies={COOKIE: token or ""})
    assert replayed.get("/web/cases", follow_redirects=False).status_code == 303


def test_a_new_password_or_deactivation_ends_the_sessions_at_once(site: Site) -> None:
    give_password(site, "sup-vko")
    give_password(site, "root")
    sign_in(site.client, "sup-vko")
    admin = other_client(site)
    sign_in(admin, "root")
    give_password(site, "sup-vko", "a new password for him")
    assert site.client.get("/web/cases", follow_redirects=False).status_code == 303
    assert sign_in(site.client, "sup-vko", PASSWORD).status_code == 401
    assert sign_in(site.client, "sup-vko", "a new password for him").status_code == 303
    with site.wired.store.transaction() as conn:
        users.deactivate(conn, "root")
    assert admin.get("/web/cases", follow_redirects=False).status_code == 303
    assert live_sessions(site) == ["sup-vko"]


def test_five_failures_lock_the_name_for_15_minutes_whoever_tries(site: Site) -> None:
    give_password(site, "sup-vko")
    for name in ("sup-vko", "ghost"):  # a real name and one that is not: the same
        for _ in range(5):
            assert sign_in(site.client, name, "not the password at all").status_code == 401
        locked = sign_in(other_client(site, "10.0.0.9"), name, PASSWORD)
        assert locked.status_code == 429
        retry = int(locked.headers["retry-after"])
        assert 14 * 60 < retry <= 15 * 60
        assert "Too many failed sign-ins. Try again after" in locked.text
        assert COOKIE not in locked.headers.get("set-cookie", "")
    site.clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(site.client, "sup-vko", PASSWORD).status_code == 303
    with site.wired.store.reading() as conn:
        left = conn.scalars(sa.select(sign_in_failures.c.account)).all()
    assert "sup-vko" not in left  # a success clears the name's failures


def test_twenty_failures_from_one_address_lock_the_address(site: Site) -> None:
    give_password(site, "root")
    machine = other_client(site, "10.0.0.66")
    for n in range(20):
        assert sign_in(machine, f"guess-{n}", "not the password at all").status_code == 401
    locked = sign_in(machine, "root", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert sign_in(other_client(site, "10.0.0.67"), "root", PASSWORD).status_code == 303


def test_the_limits_are_shared_through_the_database(site: Site) -> None:
    """Two apps on one store (two processes) count the same failures."""
    from tatulasu.api import create_app

    give_password(site, "sup-vko")
    second = TestClient(create_app(site.wired))
    for client in (site.client, second) * 2 + (site.client,):
        assert sign_in(client, "sup-vko", "not the password at all").status_code == 401
    assert sign_in(second, "sup-vko", PASSWORD).status_code == 429


def test_a_hash_with_old_parameters_is_replaced_at_sign_in(site: Site) -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with site.wired.store.transaction() as conn:
        conn.execute(
            users_table.update()
            .where(users_table.c.id == "root")
            .values(password_hash=weak.hash(PASSWORD))
        )
    assert sign_in(site.client, "root").status_code == 303
    with site.wired.store.reading() as conn:
        stored = conn.scalar(
            sa.select(users_table.c.password_hash).where(users_table.c.id == "root")
        )
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=4" in stored
    assert sign_in(other_client(site), "root").status_code == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/web/", "/web/login", "/docs", "/web\\x"]
)
def test_sign_in_never_redirects_to_another_site(site: Site, target: str) -> None:
    give_password(site, "root")
    answer = sign_in(site.client, "root", next=target)
    assert answer.headers["location"] == "/web/cases", target


def test_a_role_without_pages_signs_in_and_is_told_so_not_sent_back(site: Site) -> None:
    give_password(site, "party-aigerim")
    answer = sign_in(site.client, "party-aigerim")
    assert answer.status_code == 303
    page = site.client.get(answer.headers["location"], follow_redirects=False)
    assert page.status_code == 403 and 'id="no-pages"' in page.text
    assert "Aigerim Serikova" in page.text and "party" in page.text
    out = site.client.post("/web/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and live_sessions(site) == []
