"""The centres page: admins read every region, supervisors theirs, other roles none; each
centre's people and cases counted, the centre nobody accepts referrals for flagged."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.e2e.api.conftest import KARAGANDA, OSKEMEN
from tests.e2e.web.conftest import Opened, Site
from workflow import users
from workflow.users import User

CENTRES = "/web/centres"


def row_of(page: str, centre: str) -> str:
    """The table row of `centre`, from its attributes to the next row."""
    rows = [row for row in page.split("<tr") if 'data-label="' in row and centre in row]
    assert len(rows) == 1, f"{centre}: {len(rows)} rows"
    return rows[0]


def counts(page: str, centre: str) -> list[int]:
    """The numbers of `centre`'s row: coordinators, mediators, bailiffs, open, overdue."""
    return [int(n) for n in re.findall(r'class="num">(\d+)</td>', row_of(page, centre))]


def test_an_admin_sees_each_centre_with_its_people_and_its_open_and_overdue_cases(
    site: Site, opened: Opened
) -> None:
    site.clock.advance(timedelta(days=10))  # the party's referral was not accepted in time
    page = site.page("root", CENTRES, lang="kk")
    assert page.status_code == 200 and page.headers["Content-Language"] == "kk"
    assert "<h1>Орталықтар</h1>" in page.text
    assert "Шығыс Қазақстан облысы · 1 орталық" in page.text
    assert "Қарағанды облысы · 1 орталық" in page.text
    assert counts(page.text, OSKEMEN) == [1, 1, 0, 2, 1]  # the enforcement case is in time
    assert counts(page.text, KARAGANDA)[:4] == [1, 0, 0, 1]
    assert "Белсенді үйлестіруші жоқ" not in page.text
    assert 'aria-current="page">Орталықтар</a>' in page.text


def test_a_centre_with_open_cases_and_no_active_coordinator_is_flagged(
    site: Site, opened: Opened
) -> None:
    with site.wired.store.transaction() as conn:
        users.deactivate(conn, "coord-kar")
    page = site.page("root", CENTRES, lang="ru")
    assert page.headers["Content-Language"] == "ru"
    assert (
        "1 центр с открытыми делами не имеет действующего координатора: "
        "его направления никто не принимает." in page.text
    )
    flagged = row_of(page.text, KARAGANDA)
    assert flagged.startswith(' class="bad"')
    assert "Нет действующего координатора: направления этого центра никто не принимает." in flagged
    assert "новые дела здесь открыть нельзя" in flagged  # its only person has left
    assert 'href="/web/people/new">Зарегистрировать координатора</a>' in flagged
    assert counts(page.text, KARAGANDA) == [0, 0, 0, 1, 0]
    assert "Нет действующего координатора" not in row_of(page.text, OSKEMEN)


def test_a_region_without_a_centre_says_how_to_register_one(site: Site) -> None:
    page = site.page("root", CENTRES, lang="ru")
    astana = page.text.split('id="region-AST"', 1)[1].split("</section>", 1)[0]
    assert "Астана · 0 центров" in astana
    assert "В этом регионе пока нет ни одного центра." in astana
    assert 'href="/web/people/new">Зарегистрировать сотрудника центра</a>' in astana
    assert page.text.count('<section class="region"') == 20


def test_a_supervisor_reads_his_own_region_without_links_to_register(
    site: Site, opened: Opened
) -> None:
    page = site.page("sup-vko", CENTRES, lang="kk")
    assert page.status_code == 200
    assert counts(page.text, OSKEMEN) == [1, 1, 0, 2, 0]
    assert KARAGANDA not in page.text and 'id="region-KAR"' not in page.text
    assert "/web/people/new" not in page.text
    assert 'href="/web/centres"' in page.text  # the menu's link


def test_a_supervisor_of_a_region_without_a_centre_is_told_who_registers_one(site: Site) -> None:
    with site.wired.store.transaction() as conn:
        users.create(conn, User("sup-ast", "S", "supervisor", region="AST"), site.clock.now())
    page = site.page("sup-ast", CENTRES, lang="kk")
    assert "Бұл өңірде әзірге бірде-бір орталық тіркелмеген." in page.text
    assert "Орталық қызметкерлерін әкімші тіркейді." in page.text
    assert "/web/people/new" not in page.text


@pytest.mark.parametrize(
    "user", ["coord-vko", "med-vko", "bailiff-vko", "court-kar", "chamber-vko"]
)
def test_other_roles_are_refused_and_get_no_menu_link(site: Site, user: str) -> None:
    assert site.page(user, CENTRES).status_code == 403
    assert CENTRES not in site.page(user, "/web/cases").text


def test_signing_in_comes_first(site: Site) -> None:
    answer = site.page(None, CENTRES)
    assert answer.status_code in (302, 303) and "/web/login" in answer.headers["location"]
