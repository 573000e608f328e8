"""The failed notifications page: read by supervisors and admins, sent again by admins."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tasks.dispatch import Dispatcher
from tatulasu.web import i18n
from tests.e2e.web.conftest import Opened, Site
from tests.e2e.web.forms import csrf_of, give_password, sign_in
from tests.integration.test_failed_notices import POLICY, FakeSink
from workflow.schema import outbox


@pytest.fixture
def failed(site: Site, opened: Opened) -> list[int]:
    """Every message of the three cases failed for good, newest failure first."""
    refusing = FakeSink("permanent")
    Dispatcher(site.wired.engine, {"email": refusing, "sms": refusing}, policy=POLICY).run_once()
    with site.wired.store.reading() as conn:
        rows = conn.execute(outbox.select().where(outbox.c.status == "failed")).all()
    return sorted((r.id for r in rows), reverse=True)


def signed_in(site: Site, user: str, lang: str = "en") -> TestClient:
    give_password(site, user)
    client = site.client
    client.cookies.set(i18n.COOKIE, lang)
    assert sign_in(client, user).status_code == 303
    return client


def ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="only" value="(\d+)"', page)]


def test_an_admin_sees_every_failure_with_buttons_to_send_again(
    site: Site, failed: list[int]
) -> None:
    page = site.page("root", "/web/notifications")
    assert page.status_code == 200
    assert "<h1>Failed notifications</h1>" in page.text
    assert ids_on(page.text) == failed  # every region, newest first
    assert 'aria-current="page">Failed notifications</a>' in page.text
    assert "aigerim@example.kz" not in page.text and "+77011234567" not in page.text
    assert "a******@example.kz" in page.text and "claimant · A. S." in page.text
    assert 'data-label="Last error"' in page.text and "[e-mail]" in page.text


def test_a_supervisor_reads_his_regions_failures_without_buttons(
    site: Site, opened: Opened, failed: list[int]
) -> None:
    page = site.page("sup-vko", "/web/notifications")
    assert page.status_code == 200
    assert f'href="/web/cases/{opened.party}"' in page.text
    assert f'href="/web/cases/{opened.court}"' not in page.text  # Karaganda's
    assert (
        'name="only"' not in page.text
        and '<form method="post" action="/web/notifications/retry"' not in page.text
    )
    assert "Only an administrator can send them again." in page.text


@pytest.mark.parametrize("user", ["coord-vko", "bailiff-vko", "court-kar", "chamber-vko"])
def test_other_roles_get_a_refusal_and_no_menu_link(site: Site, user: str) -> None:
    assert site.page(user, "/web/notifications").status_code == 403
    assert "/web/notifications" not in site.page(user, "/web/cases").text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("kk", ("Жеткізілмеген хабарламалар", "Қайта жіберу", "Соңғы қате", "хабарлама")),
        ("ru", ("Недоставленные уведомления", "Отправить снова", "Последняя ошибка", "уведомлени")),
    ],
)
def test_the_page_is_in_kazakh_and_russian(
    site: Site, failed: list[int], lang: str, words: tuple[str, ...]
) -> None:
    page = site.page("root", "/web/notifications", lang=lang)
    assert page.headers["Content-Language"] == lang
    for word in words:
        assert word in page.text, word
    assert "Failed notifications" not in page.text


def test_an_admin_sends_one_again_and_the_banner_says_so(site: Site, failed: list[int]) -> None:
    admin = signed_in(site, "root", "ru")
    page = admin.get("/web/notifications")
    sent = admin.post(
        "/web/notifications/retry",
        data={"csrf": csrf_of(page.text), "only": str(failed[0]), "id": [str(failed[1])]},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/web/notifications?retried=1"
    after = admin.get(sent.headers["location"])
    assert "1 уведомление будет отправлено снова." in after.text
    assert ids_on(after.text) == failed[1:]  # only the row's own one; the chosen box waits


def test_the_chosen_ones_go_together_in_russian_plurals(site: Site, failed: list[int]) -> None:
    admin = signed_in(site, "root", "ru")
    token = csrf_of(admin.get("/web/notifications").text)
    chosen = [str(i) for i in failed[:5]]
    sent = admin.post("/web/notifications/retry", data={"csrf": token, "id": chosen})
    assert "5 уведомлений будут отправлены снова." in sent.text
    assert ids_on(sent.text) == failed[5:]


def test_every_failed_one_of_a_case_goes_at_once(
    site: Site, opened: Opened, failed: list[int]
) -> None:
    admin = signed_in(site, "root", "kk")
    page = admin.get(f"/web/notifications?case={opened.court}")
    assert f'name="case" value="{opened.court}"' in page.text
    count = len(ids_on(page.text))
    sent = admin.post(
        "/web/notifications/retry", data={"csrf": csrf_of(page.text), "case": str(opened.court)}
    )
    assert f"{count} хабарлама қайта жіберіледі." in sent.text
    assert f'href="/web/cases/{opened.court}"' not in sent.text


def test_sending_again_one_that_is_no_longer_failed_says_why_and_changes_nothing(
    site: Site, failed: list[int]
) -> None:
    admin = signed_in(site, "root", "ru")
    token = csrf_of(admin.get("/web/notifications").text)
    admin.post("/web/notifications/retry", data={"csrf": token, "only": str(failed[0])})
    again = admin.post(
        "/web/notifications/retry", data={"csrf": token, "id": [str(failed[0]), str(failed[1])]}
    )
    assert again.status_code == 409
    assert f"Уведомление {failed[0]} не отправлено снова: оно уже ждёт отправки." in again.text
    assert failed[1] in ids_on(again.text)  # the batch was refused whole
    nothing = admin.post("/web/notifications/retry", data={"csrf": token})
    assert nothing.status_code == 422 and "Выберите хотя бы одно уведомление." in nothing.text


def test_a_supervisor_may_not_send_again_and_a_form_without_its_token_is_refused(
    site: Site, failed: list[int]
) -> None:
    supervisor = signed_in(site, "sup-vko")
    token = csrf_of(supervisor.get("/web/notifications").text)  # the sign-out form's
    refused = supervisor.post("/web/notifications/retry", data={"csrf": token, "only": failed[0]})
    assert refused.status_code == 403
    forged = supervisor.post("/web/notifications/retry", data={"only": failed[0]})
    assert forged.status_code == 403
    assert ids_on(site.page("root", "/web/notifications").text) == failed
