"""The case list as people use it (sort, open only, part of a centre's name, the regions
of one's scope) and the page an unknown address under /web answers."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.e2e.web.conftest import Opened, Site

SELECT_REGION = re.compile(r'<select name="region">(.*?)</select>', re.S)


def listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="[^"]*"><a href="/web/cases/(\d+)"', page)]


def test_the_list_is_newest_first_and_sorts_as_asked(site: Site, opened: Opened) -> None:
    everything = [opened.court, opened.enforcement, opened.party]
    assert listed(site.page("root", "/web/cases").text) == everything
    assert listed(site.page("root", "/web/cases?sort=opened").text) == everything[::-1]
    by_term = listed(site.page("root", "/web/cases?sort=due").text)
    assert by_term[0] == opened.party  # acceptance: 3 working days, the first to end
    site.clock.advance(timedelta(hours=1))
    site.client.post(
        f"/cases/{opened.party}/events", json={"event": "record_consultation", "payload": {}},
        headers={"Authorization": f"Bearer {site.tokens['coord-vko']}"},
    )  # fmt: skip
    assert listed(site.page("root", "/web/cases?sort=changed").text)[0] == opened.party
    assert site.page("root", "/web/cases?sort=sideways").status_code == 422


def test_open_only_leaves_out_the_closed_cases(site: Site, opened: Opened) -> None:
    answer = site.client.post(
        f"/cases/{opened.party}/events",
        json={"event": "withdraw", "payload": {"reason": "settled_outside"}},
        headers={"Authorization": f"Bearer {site.tokens['coord-vko']}"},
    )
    assert answer.status_code == 200, answer.text
    page = site.page("root", "/web/cases?open=true").text
    assert listed(page) == [opened.court, opened.enforcement]
    assert 'name="open" value="true" checked' in page


def test_the_centre_is_found_by_part_of_its_name_in_any_case(site: Site, opened: Opened) -> None:
    assert listed(site.page("root", "/web/cases?centre=TATULASU").text) == [
        opened.enforcement, opened.party,
    ]  # fmt: skip
    assert listed(site.page("root", "/web/cases?centre=mediation off").text) == [opened.court]
    assert listed(site.page("root", "/web/cases?centre=%25").text) == []  # % is a letter here
    assert listed(site.page("root", "/web/cases?centre=_").text) == []


def test_a_supervisor_is_offered_only_his_region(site: Site, opened: Opened) -> None:
    regional = SELECT_REGION.search(site.page("sup-vko", "/web/cases").text)
    assert regional is not None
    assert re.findall(r'<option value="(\w+)"', regional.group(1)) == ["VKO"]
    national = SELECT_REGION.search(site.page("root", "/web/cases").text)
    assert national is not None and len(re.findall(r'<option value="\w+"', national.group(1))) > 15


def test_an_unknown_page_is_a_404_page_with_the_readers_header(site: Site) -> None:
    answer = site.page("sup-vko", "/web/no/such/page", lang="ru")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-language"] == "ru"
    assert "По этому адресу страницы нет." in answer.text
    assert 'aria-label="Меню"' in answer.text and "Supervisor East" in answer.text
    signed_out = site.page(None, "/web/nowhere", lang="kk")
    assert signed_out.status_code == 404 and "Бұл мекенжайда бет жоқ." in signed_out.text
    assert 'aria-label="Мәзір"' not in signed_out.text  # no menu without a session


def test_the_apis_unknown_addresses_keep_their_problem_documents(site: Site) -> None:
    answer = site.client.get("/no/such/thing")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_an_error_page_keeps_the_signed_in_header(site: Site, opened: Opened) -> None:
    answer = site.page("sup-vko", f"/web/cases/{opened.court}")  # KAR: outside his region
    assert answer.status_code == 403
    assert 'aria-label="Menu"' in answer.text and 'action="/web/logout"' in answer.text
