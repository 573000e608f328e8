"""Security headers on every page, error pages included; no link ever built from `Host`."""

from __future__ import annotations

import re

import httpx2
import pytest
from fastapi.testclient import TestClient

from tatulasu.web import params
from tatulasu.web.session import COOKIE
from tests.e2e.web.conftest import Opened, Site
from tests.e2e.web.forms import english, give_password, sign_in

EVIL = "evil.example"


@pytest.fixture(autouse=True)
def in_english(site: Site) -> None:
    """The texts checked here are the English ones, whatever the users' languages."""
    english(site.client)


def assert_secured(answer: httpx2.Response, *, cached: bool = False) -> None:
    headers = answer.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert headers["x-frame-options"] == "DENY"
    if not cached:
        assert headers["cache-control"] == "no-store"


def test_pages_error_pages_and_the_sign_in_page_carry_the_headers(
    site: Site, opened: Opened
) -> None:
    answers = {
        "sign-in page": site.client.get("/web/login"),
        "redirect to sign in": site.page(None, "/web/cases"),
        "case list": site.page("sup-vko", "/web/cases"),
        "case": site.page("sup-vko", f"/web/cases/{opened.party}"),
        "report csv": site.page("sup-vko", "/web/reports.csv"),
        "403 page": site.page("sup-kar", f"/web/cases/{opened.party}"),
        "404 page": site.page("root", "/web/cases/999"),
        "422 page": site.page("root", "/web/cases?page=0"),
        "no pages for the role": site.page("party-aigerim", "/web/cases"),
        "unknown page": site.page("root", "/web/nothing-here"),
        "csrf refusal": site.client.post("/web/logout", data={}, follow_redirects=False),
    }
    expected = {
        "404 page": 404, "403 page": 403, "422 page": 422, "unknown page": 404,
        "no pages for the role": 403, "redirect to sign in": 303, "csrf refusal": 403,
    }  # fmt: skip
    for name, answer in answers.items():
        assert answer.status_code == expected.get(name, 200), name
        assert_secured(answer)
    assert_secured(site.client.get("/web/static/web.css"), cached=True)


def test_a_crash_on_a_page_is_a_500_with_the_headers(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("tatulasu.web.case_pages.search.search", broken)
    client = TestClient(site.client.app, raise_server_exceptions=False)
    signed_in = {"Cookie": f"{COOKIE}={site.session('root').token}"}
    answer = client.get("/web/cases", headers=signed_in)
    assert answer.status_code == 500 and "boom" not in answer.text
    assert_secured(answer)


def test_the_api_gets_nosniff_but_keeps_its_documents_working(site: Site) -> None:
    answer = site.client.get("/healthz")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in site.client.get("/docs").headers


def test_a_forged_host_never_appears_in_a_link_or_a_location(
    site: Site, opened: Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(params, "PAGE_SIZE", 1)
    give_password(site, "root")
    forged = {"Host": EVIL, "X-Forwarded-Host": EVIL}
    browser = TestClient(site.client.app, base_url=f"http://{EVIL}", headers=forged)
    answers = [
        browser.get("/web/cases", follow_redirects=False),  # to sign in
        browser.get("/web/", follow_redirects=False),
        browser.get("/web", follow_redirects=False),
        browser.get("/web/cases/", follow_redirects=False),  # Starlette's slash redirect
        sign_in(browser, "root", next="/web/cases?page=2"),
    ]
    answers += [
        browser.get(url, follow_redirects=False)
        for url in ("/web/cases?page=2", "/web/overdue?days=30&page=1", "/web/reports",
                    f"/web/cases/{opened.party}", "/web/people", "/web/logout")
    ]  # fmt: skip
    for answer in answers:
        assert EVIL not in answer.headers.get("location", ""), answer.request.url
        assert EVIL not in answer.text, answer.request.url
    assert answers[3].status_code == 307 and answers[3].headers["location"] == "/web/cases"
    page = answers[5].text
    links = re.findall(r'rel="(?:prev|next)" href="([^"]+)"', page)
    assert links == ["/web/cases?page=1", "/web/cases?page=3"]
