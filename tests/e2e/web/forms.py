"""Filling the pages' forms as a browser does: the CSRF token from the page, then the post."""

from __future__ import annotations

import re

import httpx2
from fastapi.testclient import TestClient

from tatulasu.web import i18n
from tatulasu.web.session import COOKIE
from tests.e2e.web.conftest import Site
from workflow import passwords

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]*)">')


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on `page`."""
    found = _CSRF.search(page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def give_password(site: Site, user: str, password: str = PASSWORD) -> None:
    with site.wired.store.transaction() as conn:
        passwords.set_password(conn, user, password)


def sign_in(
    client: TestClient, user: str, password: str = PASSWORD, next: str | None = None
) -> httpx2.Response:
    """Open the sign-in form, fill it in and send it; redirects not followed."""
    form = client.get("/web/login" + (f"?next={next}" if next else ""))
    assert form.status_code == 200, form.text
    data = {"csrf": csrf_of(form.text), "username": user, "password": password}
    if next is not None:
        data["next"] = next
    return client.post("/web/login", data=data, follow_redirects=False)


def session_cookie(client: TestClient) -> str | None:
    return client.cookies.get(COOKIE)


def english(client: TestClient) -> TestClient:
    """`client` with the language switch set to English (the texts the tests check)."""
    client.cookies.set(i18n.COOKIE, "en")
    return client
