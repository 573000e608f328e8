"""A bailiff's day on the pages: send a file, check it, confirm it, follow it, read outcomes."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import pytest

from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.web.session import COOKIE
from tests.e2e.api.conftest import enforcement_referral
from tests.e2e.api.test_csv_import import ENGLISH, good_file, row
from tests.e2e.web.conftest import Site
from tests.e2e.web.forms import csrf_of
from workflow import import_jobs, upload_previews, users
from workflow.schema import import_jobs as import_jobs_table

PREVIEW = re.compile(r"/web/referrals/preview/([A-Za-z0-9_-]+)$")


@dataclass
class Browser:
    """One signed-in person on the pages: his session's cookie and CSRF token."""

    site: Site
    user: str
    lang: str = "en"

    def __post_init__(self) -> None:
        started = self.site.session(self.user)
        self.token, self.csrf = started.token, started.csrf

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.token}; {LANGUAGE_COOKIE}={self.lang}"}

    def get(self, url: str) -> httpx2.Response:
        return self.site.client.get(url, headers=self.headers(), follow_redirects=False)

    def post(self, url: str, csrf: bool = True, **kwargs: Any) -> httpx2.Response:
        data = {**kwargs.pop("data", {}), **({"csrf": self.csrf} if csrf else {})}
        return self.site.client.post(
            url, data=data, headers=self.headers(), follow_redirects=False, **kwargs
        )

    def upload(self, text: str | bytes, mode: str = "all", csrf: bool = True) -> httpx2.Response:
        data = text.encode("utf-8") if isinstance(text, str) else text
        files = {"file": ("referrals.csv", data, "text/csv")}
        return self.post("/web/referrals/upload", csrf=csrf, data={"mode": mode}, files=files)

    def preview(self, text: str | bytes, mode: str = "all") -> tuple[str, httpx2.Response]:
        """Upload `text`; the preview's token and its page."""
        sent = self.upload(text, mode)
        assert sent.status_code == 303, sent.text
        found = PREVIEW.search(sent.headers["location"])
        assert found is not None, sent.headers["location"]
        return found.group(1), self.get(sent.headers["location"])


def count_cases(site: Site) -> int:
    answer = site.client.get("/cases", headers={"Authorization": f"Bearer {site.tokens['root']}"})
    return int(answer.json()["total"])


def cells(page: str, css_class: str) -> list[str]:
    """The text of each `<td>` of the table with `css_class`, tags removed."""
    table = page.split(f'<table class="{css_class}">', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]


def test_a_good_file_is_previewed_and_nothing_is_opened_until_confirmed(site: Site) -> None:
    bailiff = Browser(site, "bailiff-vko")
    form = bailiff.get("/web/referrals/upload")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert csrf_of(form.text) == bailiff.csrf
    token, page = bailiff.preview(good_file(3))
    assert page.status_code == 200, page.text
    assert '<dd id="rows">3</dd>' in page.text and '<dd id="good">3</dd>' in page.text
    assert "Confirm: open 3 cases" in page.text
    assert "Enforcement proceeding number" in page.text  # the columns recognised, titled
    assert count_cases(site) == 0
    with site.wired.store.reading() as conn:
        assert upload_previews.find(conn, token, "bailiff-vko") is not None
        bailiff_user = users.by_id(conn, "bailiff-vko")
        assert bailiff_user is not None and import_jobs.mine(conn, bailiff_user) == []


def test_bad_rows_are_each_named_with_the_column_in_the_readers_language(site: Site) -> None:
    text = "\n".join([ENGLISH, row(0), row(1, iin="123"), row(2, proceeding="EP-0")]) + "\n"
    bailiff = Browser(site, "bailiff-vko", lang="ru")
    _, page = bailiff.preview(text)
    assert '<dd id="rejected">2</dd>' in page.text and '<dd id="good">1</dd>' in page.text
    found = cells(page.text, "bad-rows")
    assert found[0:2] == ["3", "ИИН/БИН должника"]
    assert found[3:6] == [
        "4",
        "Номер исполнительного производства",
        "повторяет строку 2 этого файла",
    ]
    assert "Открыть только 1 правильную строку" in page.text  # all or nothing: nothing opens
    assert count_cases(site) == 0


def test_only_the_first_hundred_bad_rows_are_listed_and_the_rest_counted(site: Site) -> None:
    text = "\n".join([ENGLISH, *(row(n, iin="123") for n in range(105))]) + "\n"
    _, page = Browser(site, "bailiff-vko").preview(text, mode="good")
    assert len(cells(page.text, "bad-rows")) == 3 * 100
    assert "…and 5 more bad rows, not shown here." in page.text
    assert 'id="confirm"' not in page.text  # no good row: nothing to confirm


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (good_file(2).encode("cp1251").replace(b"Debtor", "Должник".encode("cp1251")),
         "it looks like Windows-1251"),
        (
            b"enforcement_proceeding,centre,debtor_name\nEP-1,Oskemen Tatulasu centre,X\n",
            "The file has no column for: Date the proceeding was opened, Debtor&#39;s IIN/BIN",
        ),
    ],
)  # fmt: skip
def test_an_unreadable_file_is_said_on_the_form_not_as_an_error_page(
    site: Site, data: bytes, said: str
) -> None:
    page = Browser(site, "bailiff-vko").upload(data)
    assert page.status_code == 422
    assert (
        "Send a file of referrals" in page.text and 'class="banner bad error-summary"' in page.text
    )
    assert said in page.text
    with site.wired.store.reading() as conn:
        assert conn.execute(upload_previews.upload_previews.select()).first() is None


def test_a_confirmed_file_becomes_a_job_whose_page_shows_it_done(site: Site) -> None:
    bailiff = Browser(site, "bailiff-vko")
    token, _ = bailiff.preview(good_file(3))
    confirmed = bailiff.post(f"/web/referrals/preview/{token}/confirm")
    assert confirmed.status_code == 303
    job_url = confirmed.headers["location"]
    assert re.fullmatch(r"/web/imports/\d+", job_url)
    queued = bailiff.get(job_url)
    assert queued.status_code == 200 and 'data-status="queued"' in queued.text
    assert 'http-equiv="refresh"' not in queued.text  # WCAG F41: a link, not a reload
    assert f'<a id="again" href="{job_url}">' in queued.text
    assert 'id="report"' not in queued.text
    assert import_jobs.run_due(site.wired.engine) == 1
    done = bailiff.get(job_url)
    assert 'data-status="done"' in done.text and '<dd id="imported">3</dd>' in done.text
    assert 'id="again"' not in done.text
    report = bailiff.get(job_url + "/report.csv")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(report.text)))) == 3
    assert count_cases(site) == 3
    again = bailiff.post(f"/web/referrals/preview/{token}/confirm")  # the preview is gone
    assert again.status_code == 404


def test_all_or_nothing_with_bad_rows_may_still_open_only_the_good_ones(site: Site) -> None:
    text = "\n".join([ENGLISH, row(0), row(1, iin="123")]) + "\n"
    bailiff = Browser(site, "bailiff-vko")
    token, _ = bailiff.preview(text)
    job_url = bailiff.post(
        f"/web/referrals/preview/{token}/confirm", data={"good_only": "true"}
    ).headers["location"]
    import_jobs.run_due(site.wired.engine)
    done = bailiff.get(job_url)
    assert '<dd id="imported">1</dd>' in done.text and '<dd id="rejected">1</dd>' in done.text
    assert "Debtor&#39;s IIN/BIN" in done.text


def test_an_expired_preview_is_refused_and_nothing_is_queued(site: Site) -> None:
    bailiff = Browser(site, "bailiff-vko")
    token, _ = bailiff.preview(good_file(1))
    site.clock.advance(upload_previews.LIFETIME + timedelta(seconds=1))
    bailiff = Browser(site, "bailiff-vko")  # a new session: the old one went idle
    shown = bailiff.get(f"/web/referrals/preview/{token}")
    assert shown.status_code == 410 and "This check has expired" in shown.text
    confirmed = bailiff.post(f"/web/referrals/preview/{token}/confirm")
    assert confirmed.status_code == 410
    with site.wired.store.reading() as conn:
        assert conn.execute(import_jobs_table.select()).first() is None


def test_another_bailiffs_preview_and_job_are_not_found(site: Site) -> None:
    owner, other = Browser(site, "bailiff-vko"), Browser(site, "bailiff-2")
    token, _ = owner.preview(good_file(1))
    assert other.get(f"/web/referrals/preview/{token}").status_code == 404
    assert other.post(f"/web/referrals/preview/{token}/confirm").status_code == 404
    job_url = owner.post(f"/web/referrals/preview/{token}/confirm").headers["location"]
    assert other.get(job_url).status_code == 404
    assert other.get(job_url + "/report.csv").status_code == 404
    assert Browser(site, "sup-vko").get(job_url).status_code == 200  # his region's
    assert Browser(site, "sup-kar").get(job_url).status_code == 404
    assert Browser(site, "coord-vko").get("/web/referrals/upload").status_code == 403


def test_a_multipart_upload_without_its_csrf_token_is_refused(site: Site) -> None:
    bailiff = Browser(site, "bailiff-vko")
    refused = bailiff.upload(good_file(1), csrf=False)
    assert refused.status_code == 403 and "was not sent from a page of this site" in refused.text
    wrong = bailiff.site.client.post(
        "/web/referrals/upload",
        data={"csrf": "x" * 43, "mode": "all"},
        files={"file": ("r.csv", good_file(1).encode(), "text/csv")},
        headers=bailiff.headers(),
    )
    assert wrong.status_code == 403
    token, _ = bailiff.preview(good_file(1))
    assert bailiff.post(f"/web/referrals/preview/{token}/confirm", csrf=False).status_code == 403
    with site.wired.store.reading() as conn:
        assert conn.execute(import_jobs_table.select()).first() is None


def test_his_referrals_list_the_returned_ones_first(site: Site) -> None:
    first = site.refer("bailiff-vko", enforcement_referral("EP-1"))
    returned = site.refer("bailiff-vko", enforcement_referral("EP-2"))
    last = site.refer("bailiff-vko", enforcement_referral("EP-3"))
    site.refer("bailiff-2", enforcement_referral("EP-9"))  # another bailiff's
    fire(site, "coord-vko", returned, "fail", reason="party_not_contactable")
    page = Browser(site, "bailiff-vko").get("/web/referrals")
    assert page.status_code == 200
    shown = [int(n) for n in re.findall(r'<a href="/web/cases/(\d+)">', page.text)]
    assert shown == [returned, last, first]
    assert "A party could not be reached" in page.text and "EP-9" not in page.text
    closed = Browser(site, "bailiff-vko").get("/web/referrals?status=closed")
    assert re.findall(r'<a href="/web/cases/(\d+)">', closed.text) == [str(returned)]
    opened = Browser(site, "bailiff-vko").get("/web/referrals?status=open")
    assert str(returned) not in re.findall(r'<a href="/web/cases/(\d+)">', opened.text)


def test_the_outcomes_csv_has_a_bom_semicolons_and_neutral_cells(site: Site) -> None:
    evil = site.refer("bailiff-vko", enforcement_referral("=HYPERLINK(1)"))
    returned = site.refer("bailiff-vko", enforcement_referral("EP-2"))
    fire(site, "coord-vko", returned, "fail", reason="party_not_contactable")
    answer = Browser(site, "bailiff-vko", lang="ru").get("/web/referrals/outcomes.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [
        "enforcement_proceeding", "case_id", "state", "state_title", "opened", "closed",
        "agreed", "outcome",
    ]  # fmt: skip
    by_case = {int(line[1]): line for line in lines[1:]}
    assert by_case[evil][0] == "'=HYPERLINK(1)"
    back = by_case[returned]
    assert back[2] == "returned_to_bailiff" and back[3].startswith("Возвращено судебному")
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", back[4]) and back[5] == back[4]
    assert back[7] == "Не удалось связаться со стороной"
    assert [int(line[1]) for line in lines[1:]] == [returned, evil]


def fire(site: Site, user: str, case_id: int, event: str, **payload: Any) -> None:
    answer = site.client.post(
        f"/cases/{case_id}/events",
        json={"event": event, "payload": payload},
        headers={"Authorization": f"Bearer {site.tokens[user]}"},
    )
    assert answer.status_code == 200, answer.text


def test_only_a_bailiffs_session_may_send_a_file_larger_than_a_form(site: Site) -> None:
    """A stranger's (or another role's) upload is held to the forms' limit, unread."""
    big = (good_file(1) + (" " * 1023 + "\n") * 1100).encode()  # ~1.1 MB, over the 1 MB
    files = {"file": ("r.csv", big, "text/csv")}
    stranger = site.client.post(
        "/web/referrals/upload", data={"mode": "all"}, files=files, follow_redirects=False
    )
    assert stranger.status_code == 413 and "TATULASU_MAX_JSON_BODY_BYTES" in stranger.text
    coordinator = Browser(site, "coord-vko")
    assert coordinator.post("/web/referrals/upload", files=files).status_code == 413
    bailiff = Browser(site, "bailiff-vko")
    assert (
        bailiff.post("/web/referrals/upload", data={"mode": "all"}, files=files).status_code == 303
    )
