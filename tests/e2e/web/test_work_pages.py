"""Each official's list of open cases: his scope, the nearest term end first, grouped."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.e2e.api.conftest import party_referral
from tests.e2e.web.conftest import Opened, Site
from tests.e2e.web.test_event_forms import api_fire


def section(page: str, name: str) -> str:
    found = re.search(rf'<section class="work" id="{name}">(.*?)</section>', page, re.S)
    assert found is not None, f"no section {name}"
    return found.group(1)


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-case="(\d+)"', html)]


def groups(html: str) -> list[str]:
    return re.findall(r'<h3 class="group (\w+)">', html)


def test_a_coordinator_sees_his_centres_open_cases_the_nearest_term_end_first(
    site: Site, opened: Opened
) -> None:
    site.clock.advance(timedelta(days=1))
    later = site.refer("coord-vko", party_referral(subject="a second referral"))
    closed = site.refer("coord-vko", party_referral(subject="withdrawn at once"))
    api_fire(site, "coord-vko", closed, "withdraw", reason="party_request")
    page = site.page("coord-vko", "/web/work").text
    centre = section(page, "centre")
    # Acceptance (3 working days) before the enforcement stage's 30 days; KAR's and the
    # closed case are not his.
    assert listed(centre) == [opened.party, later, opened.enforcement]
    assert groups(centre) == ["week", "later"]
    assert "Due within 7 days" in centre and "Later" in centre

    site.clock.advance(timedelta(days=2, hours=1))  # Thursday: the first one's last day
    assert groups(section(site.page("coord-vko", "/web/work").text, "centre"))[0] == "today"
    site.clock.advance(timedelta(days=1))
    centre = section(site.page("coord-vko", "/web/work").text, "centre")
    assert groups(centre)[0] == "overdue" and listed(centre)[0] == opened.party
    assert "overdue by" in centre


def test_a_mediator_sees_the_cases_he_mediates(site: Site, opened: Opened) -> None:
    assert listed(section(site.page("med-vko", "/web/work").text, "mine")) == []
    api_fire(site, "coord-vko", opened.enforcement, "assign_mediator", mediator="med-vko")
    page = site.page("med-vko", "/web/work").text
    assert listed(section(page, "mine")) == [opened.enforcement]
    assert 'href="/web/work" aria-current="page"' in page


def test_a_court_sees_agreements_awaiting_its_approval_first(site: Site, opened: Opened) -> None:
    page = site.page("court-vko", "/web/work").text
    assert listed(section(page, "approval")) == []
    assert listed(section(page, "others")) == [opened.party, opened.enforcement]
    api_fire(site, "coord-vko", opened.enforcement, "assign_mediator", mediator="med-vko")
    api_fire(site, "med-vko", opened.enforcement, "reach_agreement", agreement_ref="AG-1")
    page = site.page("court-vko", "/web/work").text
    assert listed(section(page, "approval")) == [opened.enforcement]
    assert listed(section(page, "others")) == [opened.party]
    assert page.index('id="approval"') < page.index('id="others"')
    assert listed(section(site.page("court-kar", "/web/work").text, "others")) == [opened.court]


def test_a_supervisor_sees_overdue_cases_of_his_region_first(site: Site, opened: Opened) -> None:
    page = site.page("sup-vko", "/web/work").text
    assert listed(section(page, "late")) == []
    assert listed(section(page, "others")) == [opened.party, opened.enforcement]
    assert 'href="/web/overdue"' in page
    site.clock.advance(timedelta(days=5))  # the acceptance term has run out
    page = site.page("sup-vko", "/web/work").text
    assert listed(section(page, "late")) == [opened.party]
    assert listed(section(page, "others")) == [opened.enforcement]
    assert opened.court not in listed(page)  # Karaganda is not his region


@pytest.mark.parametrize(("user", "expected"), [("chamber-vko", "vko"), ("root", "all")])
def test_other_officials_see_the_open_cases_of_their_scope(
    site: Site, opened: Opened, user: str, expected: str
) -> None:
    shown = listed(section(site.page(user, "/web/work").text, "open"))
    vko = [opened.party, opened.enforcement]
    assert sorted(shown) == (sorted(vko) if expected == "vko" else sorted([*vko, opened.court]))


def test_the_work_page_masks_subjects_for_roles_that_see_them_masked(
    site: Site, opened: Opened
) -> None:
    site.refer("coord-vko", party_referral(subject="Aigerim Serikova 061211600012 wages"))
    assert "061211600012" in site.page("coord-vko", "/web/work").text
    chamber = site.page("chamber-vko", "/web/work").text
    assert "061211600012" not in chamber and "[IIN]" in chamber


def test_a_party_still_has_no_pages(site: Site, opened: Opened) -> None:
    answer = site.page("party-aigerim", "/web/work")
    assert answer.status_code == 403 and 'id="no-pages"' in answer.text
