"""The pages in Kazakh, Russian and English: who chooses, and titles and dates, not codes."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from tatulasu import render
from tatulasu.web.i18n import COOKIE as LANGUAGE
from tests.e2e.web.conftest import Opened, Site
from workflow import queries
from workflow.schema import users

ALMATY = ZoneInfo("Asia/Almaty")


def speaks(site: Site, user: str, language: str) -> None:
    with site.wired.store.transaction() as conn:
        conn.execute(users.update().where(users.c.id == user).values(language=language))


def lang_of(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found is not None
    return found.group(1)


def test_without_a_user_a_russian_browser_gets_russian_and_others_kazakh(site: Site) -> None:
    site.client.cookies.clear()
    russian = site.client.get("/web/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert lang_of(russian.text) == "ru" and russian.headers["content-language"] == "ru"
    assert "Вход" in russian.text
    german = site.client.get("/web/login", headers={"Accept-Language": "de-DE"})
    assert lang_of(german.text) == "kk" and "Кіру" in german.text
    english = site.client.get("/web/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert lang_of(english.text) == "en"


def test_the_profile_language_wins_over_the_browser(site: Site, opened: Opened) -> None:
    page = site.page("sup-vko", "/web/cases", lang=None, headers={"Accept-Language": "en"})
    assert lang_of(page.text) == "kk" and "<h1>Істер</h1>" in page.text
    speaks(site, "sup-vko", "ru")
    page = site.page("sup-vko", "/web/cases", lang=None, headers={"Accept-Language": "kk, en"})
    assert lang_of(page.text) == "ru" and "<h1>Дела</h1>" in page.text


def test_the_switch_sets_a_cookie_that_outranks_the_profile(site: Site, opened: Opened) -> None:
    page = site.page("sup-vko", "/web/cases?state=referred", lang=None).text
    link = re.search(r'href="(/web/language\?[^"]*lang=ru[^"]*)"', page)
    assert link is not None
    switched = site.client.get(link.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/web/cases?state=referred"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith(f"{LANGUAGE}=ru;") and "Path=/web" in cookie
    page = site.page("sup-vko", "/web/cases", lang="ru").text  # the cookie, as a browser sends it
    assert lang_of(page) == "ru" and "<h1>Дела</h1>" in page
    assert site.client.get("/web/language?lang=de", follow_redirects=False).status_code == 422
    elsewhere = site.client.get(
        "/web/language?lang=kk&next=https://evil.example/", follow_redirects=False
    )
    assert elsewhere.headers["location"] == "/web/cases"


def test_lists_show_titles_not_codes(site: Site, opened: Opened) -> None:
    failed = site.client.post(
        f"/cases/{opened.enforcement}/events",
        json={"event": "fail", "payload": {"reason": "party_not_contactable"}},
        headers={"Authorization": f"Bearer {site.tokens['coord-vko']}"},
    )
    assert failed.status_code == 200, failed.text
    for lang, returned in (
        ("ru", "Возвращено судебному исполнителю"),
        ("kk", "Сот орындаушысына қайтарылды"),
        ("en", "Returned to the bailiff"),
    ):
        page = site.page("root", "/web/cases", lang=lang).text
        assert f'<span class="state" data-state="returned_to_bailiff">{returned}' in page, lang
        shown = re.sub(r'(value|data-state|title)="[^"]*"', "", page)
        for code in ("returned_to_bailiff", "enforcement_reconciliation", "court_conciliation"):
            assert code not in shown, (lang, code)


def test_the_case_page_speaks_russian_with_titles_and_local_dates(
    site: Site, opened: Opened
) -> None:
    page = site.page("sup-vko", f"/web/cases/{opened.party}", lang="ru").text
    assert lang_of(page) == "ru"
    assert "Передано в центр примирения, ожидает принятия" in page  # the state
    assert "Принятие обращения" in page  # the term
    assert "Центр принимает обращение" in page  # what may happen next
    assert "может: координатор" in page
    with site.wired.store.reading() as conn:
        case = queries.get_case(conn, opened.party)
    assert case.term_due_at is not None
    local = case.term_due_at.astimezone(ALMATY)
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", page)
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page)
    assert local.hour == 0  # a term ends at midnight, which is said as the day before
    assert "включительно" in page and "24:00" not in page


def test_the_cli_and_the_page_say_the_same_end_of_a_term(site: Site, opened: Opened) -> None:
    with site.wired.store.reading() as conn:
        case = queries.get_case(conn, opened.party)
    said = render.until(case.term_due_at, ALMATY)  # what `tatulasu show` prints
    assert said.startswith("until ") and said.endswith(" inclusive")
    assert said in site.page("sup-vko", f"/web/cases/{opened.party}").text
    assert said in site.page("sup-vko", "/web/cases").text
    assert said in site.page("sup-vko", "/web/overdue?days=30").text


def test_the_lifecycle_and_the_report_are_titled_in_the_readers_language(
    site: Site, opened: Opened
) -> None:
    lifecycle = site.page("root", "/web/lifecycle", lang="kk").text
    assert "Тараптарды татуластыру" in lifecycle
    assert "3 жұмыс күні" in lifecycle and "30 күнтізбелік күн" in lifecycle
    lifecycle_ru = site.page("root", "/web/lifecycle", lang="ru").text
    assert "3 рабочих дня" in lifecycle_ru and "10 календарных дней" in lifecycle_ru
    report = site.page("root", "/web/reports", lang="ru").text
    assert "Итоги по закрытым делам" in report and "Обращения по инициатору" in report
    origins = report.split('id="chart-origins"', 1)[1].split("</svg>", 1)[0]
    assert "сторона" in origins or "центр" in origins


def test_the_error_page_is_in_the_readers_language(site: Site, opened: Opened) -> None:
    page = site.page("sup-vko", "/web/cases?state=nowhere", lang="ru")
    assert page.status_code == 422 and lang_of(page.text) == "ru"
    assert "Запрос некорректен" in page.text
    page = site.page("sup-vko", "/web/cases?state=nowhere", lang="kk")
    assert "Сұрау дұрыс емес" in page.text
