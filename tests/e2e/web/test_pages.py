"""The supervisor pages over HTTP: signing in, roles and scopes, escaping, bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import states
from tatulasu.web import params
from tests.e2e.api.conftest import KARAGANDA
from tests.e2e.web.conftest import SCRIPT_SUBJECT, Opened, Site
from tests.tamper import drop_append_only_guard
from workflow import dates, queries, users
from workflow.schema import access_log, audit_events
from workflow.summary import summary

PAGES = ["/web/cases", "/web/overdue", "/web/lifecycle", "/web/reports", "/web/reports.csv"]
ALMATY = ZoneInfo("Asia/Almaty")


def test_pages_without_a_session_send_the_reader_to_sign_in(site: Site, opened: Opened) -> None:
    for url in [*PAGES, f"/web/cases/{opened.party}", "/web/cases?state=referred"]:
        answer = site.page(None, url)
        assert answer.status_code == 303, url
        assert answer.headers["location"].startswith("/web/login?next=%2Fweb%2F"), url


def test_a_deactivated_user_is_out_at_once(site: Site) -> None:
    assert site.page("sup-vko", "/web/cases").status_code == 200
    with site.wired.store.transaction() as conn:
        users.deactivate(conn, "sup-vko")
    assert site.page("sup-vko", "/web/cases").status_code == 303


@pytest.mark.parametrize("user", ["party-aigerim", "party-other"])
def test_roles_without_pages_get_a_403_page_saying_so_with_the_header(
    site: Site, opened: Opened, user: str
) -> None:
    for url in [*PAGES, f"/web/cases/{opened.party}"]:
        answer = site.page(user, url)
        assert answer.status_code == 403, url
        assert answer.headers["content-type"].startswith("text/html")
        assert 'action="/web/logout"' in answer.text  # signed in: the header's sign-out
        assert 'id="no-pages"' in answer.text and "<nav>" not in answer.text


def test_a_supervisor_sees_his_region_and_gets_403_for_another(site: Site, opened: Opened) -> None:
    listed = site.page("sup-kar", "/web/cases").text
    assert f'href="/web/cases/{opened.court}"' in listed
    assert f'href="/web/cases/{opened.party}"' not in listed
    refused = site.page("sup-kar", f"/web/cases/{opened.party}")
    assert refused.status_code == 403
    assert "outside the scope" in refused.text and "Aigerim" not in refused.text
    assert site.page("sup-kar", f"/web/cases/{opened.court}").status_code == 200
    assert site.page("sup-kar", "/web/cases/999").status_code == 404
    assert site.page("coord-vko", f"/web/cases/{opened.court}").status_code == 403


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/web/cases?page=0", "page", "greater than or equal to 1"),
        ("/web/cases?page=two", "page", "valid integer"),
        ("/web/cases?state=dancing", "state", "is not a state"),
        ("/web/cases?region=XX", "region", "is not one of"),
        ("/web/cases?overdue=maybe", "overdue", "valid boolean"),
        ("/web/cases/0", "case_id", "greater than or equal to 1"),
        ("/web/cases/99999999999", "case_id", "less than or equal to"),
        ("/web/overdue?days=-1", "days", "greater than or equal to 0"),
        ("/web/lifecycle?version=99", "version", "no lifecycle version 99"),
        ("/web/reports?since=2024-13-01", "since", "valid date"),
        ("/web/reports?since=1066-10-14", "since", "must be between"),
        ("/web/reports?since=2024-05-01&until=2024-04-01", "until", "must be after since"),
        ("/web/reports.csv?until=yesterday", "until", "valid date"),
        ("/web/cases?centre=a%00b", "centre", "NUL"),
    ],
)
def test_bad_input_is_a_422_page_naming_the_field_and_the_reason(
    site: Site, url: str, field: str, reason: str
) -> None:
    answer = site.page("root", url)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<code>{field}</code>" in answer.text
    assert reason in answer.text


def test_blank_form_fields_mean_not_given(site: Site, opened: Opened) -> None:
    cases = site.page("root", "/web/cases?state=&region=&centre=&page=1")
    assert cases.status_code == 200 and cases.text.count('href="/web/cases/') == 3
    report = site.page("root", "/web/reports?since=&until=&region=&centre=")
    assert report.status_code == 200


def test_a_subject_with_a_script_tag_is_shown_as_text(site: Site, opened: Opened) -> None:
    for url in ("/web/cases", f"/web/cases/{opened.party}"):
        page = site.page("sup-vko", url).text
        assert "<script>" not in page
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; unpaid wages" in page
    assert SCRIPT_SUBJECT.startswith("<script>")


def test_the_case_page_masks_parties_as_the_api_does(site: Site, opened: Opened) -> None:
    supervisor = site.page("sup-vko", f"/web/cases/{opened.party}").text
    assert "A. S." in supervisor and "Aigerim" not in supervisor and "Serikova" not in supervisor
    assert "0612******12" in supervisor and "061211600012" not in supervisor
    assert "Show it in full" in supervisor and 'name="reason" required' in supervisor
    reason = "?unmasked=true&reason=complaint+about+the+mediator"
    unmasked = site.page("sup-vko", f"/web/cases/{opened.party}{reason}").text
    assert "Aigerim Serikova" in unmasked and "061211600012" in unmasked
    coordinator = site.page("coord-vko", f"/web/cases/{opened.party}").text
    assert "Aigerim Serikova" in coordinator and "Show it in full" not in coordinator


def test_show_it_in_full_needs_a_reason_and_is_recorded(site: Site, opened: Opened) -> None:
    refused = site.page("sup-vko", f"/web/cases/{opened.party}?unmasked=true&reason=")
    assert refused.status_code == 422 and "<code>reason</code>" in refused.text
    assert "061211600012" not in refused.text
    site.page("sup-vko", f"/web/cases/{opened.party}?unmasked=true&reason=yearly+review")
    with site.wired.store.reading() as conn:
        (entry,) = conn.execute(sa.select(access_log)).all()
    assert (entry.actor, entry.role, entry.channel, entry.case_id, entry.reason) == (
        "sup-vko", "supervisor", "web", opened.party, "yearly review")  # fmt: skip


def test_the_case_page_shows_terms_in_almaty_time_and_who_acts_next(
    site: Site, opened: Opened
) -> None:
    with site.wired.store.reading() as conn:
        case = queries.get_case(conn, opened.party)
    assert case.term_due_at is not None and case.open_terms
    page = site.page("sup-vko", f"/web/cases/{opened.party}").text
    for term in case.open_terms:
        shown = dates.instant if term.kind == "reminder" else dates.until
        assert shown(term.due_at, ALMATY) in page
    reminder = case.open_terms[0].due_at
    assert reminder.astimezone(ALMATY).hour == 9  # reminders are due at 09:00 local
    assert f"{reminder:%d.%m.%Y} 04:00" not in page  # not the UTC spelling
    assert 'data-event="accept">The centre accepts the referral' in page
    assert "by coordinator" in page
    assert "Chain verified: 1 record links up" in page
    assert case.audit_head[:12] in page


def test_a_tampered_record_is_named_on_the_case_page(site: Site, opened: Opened) -> None:
    with site.wired.store.transaction() as conn:
        drop_append_only_guard(conn)  # as an attacker with DDL rights would
        conn.execute(
            audit_events.update()
            .where(audit_events.c.case_id == opened.enforcement)
            .values(actor="somebody-else")
        )
    page = site.page("sup-vko", f"/web/cases/{opened.enforcement}").text
    assert "Chain broken. First bad record: case" in page
    assert "content does not match its hash (altered)" in page
    assert '<li id="record-1" class="bad">' in page
    assert "Chain verified" in site.page("sup-vko", f"/web/cases/{opened.party}").text


def test_a_case_row_edited_beside_the_engine_is_named_on_its_page(
    site: Site, opened: Opened
) -> None:
    with site.wired.store.transaction() as conn:
        conn.execute(
            sa.text("UPDATE cases SET consultations = 5 WHERE id = :c"), {"c": opened.party}
        )
    page = site.page("sup-vko", f"/web/cases/{opened.party}").text
    assert "The case differs from its history: cases.consultations is 5;" in page
    assert "its history says 0" in page
    assert "Chain verified" in site.page("sup-vko", f"/web/cases/{opened.enforcement}").text


def listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/web/cases/(\d+)"', page)]


def test_overdue_lists_running_terms_by_due_date(site: Site, opened: Opened) -> None:
    assert "No running term" in site.page("sup-vko", "/web/overdue?days=0").text
    soon = site.page("sup-vko", "/web/overdue?days=7").text  # acceptance: 3 working days
    assert listed(soon) == [opened.party] and "overdue by" not in soon and "in 3 d" in soon
    site.clock.advance(timedelta(days=40))  # enforcement reconciliation: 30 days
    late = site.page("sup-vko", "/web/overdue?days=0").text
    with site.wired.store.reading() as conn:
        due = {n: queries.get_case(conn, n).term_due_at for n in (opened.party, opened.enforcement)}
    assert due[opened.party] < due[opened.enforcement]  # type: ignore[operator]
    assert listed(late) == [opened.party, opened.enforcement]  # not KAR's court case
    assert late.count("overdue by") == 2
    assert listed(site.page("sup-vko", "/web/cases?overdue=true&sort=due").text) == listed(late)


def test_the_case_list_filters_and_pages(
    site: Site, opened: Opened, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = site.page("root", "/web/cases?state=court_conciliation").text
    assert listed(page) == [opened.court]
    page = site.page("root", f"/web/cases?centre={KARAGANDA}").text
    assert listed(page) == [opened.court]
    monkeypatch.setattr(params, "PAGE_SIZE", 2)
    first = site.page("root", "/web/cases?region=VKO").text
    assert "page 1 of 1 · 2 cases" in first
    first = site.page("root", "/web/cases").text
    assert "page 1 of 2 · 3 cases" in first and 'rel="prev"' not in first
    second_link = re.search(r'rel="next" href="([^"]+)"', first)
    assert second_link is not None and "page=2" in second_link.group(1)
    second = site.page("root", "/web/cases?page=2").text
    assert listed(second) == [opened.party]  # newest first: the first referral comes last
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_reports_show_the_summary_of_the_readers_scope(site: Site, opened: Opened) -> None:
    site.client.post(
        f"/cases/{opened.party}/events", json={"event": "withdraw", "payload": {
            "reason": "settled_outside"}},
        headers={"Authorization": f"Bearer {site.tokens['coord-vko']}"},
    )  # fmt: skip
    with site.wired.store.reading() as conn:
        vko = summary(conn, region="VKO")
    page = site.page("sup-vko", "/web/reports").text
    assert f'<span class="n" id="cases">{vko.cases}</span>' in page
    assert f'<span class="n" id="closed">{vko.closed}</span>' in page
    outcomes = page.split('id="chart-outcomes"', 1)[1].split("</svg>", 1)[0]
    assert outcomes.count('class="bar"') == len(vko.outcomes) == 1
    origins = page.split('id="chart-origins"', 1)[1].split("</svg>", 1)[0]
    assert origins.count('class="bar"') == len(vko.by_origin) == 2
    assert site.page("sup-vko", "/web/reports?region=KAR").status_code == 403
    assert site.page("coord-vko", f"/web/reports?centre={KARAGANDA}").status_code == 403
    assert site.page("root", "/web/reports?region=KAR").status_code == 200


def test_the_report_csv_has_the_apis_figures_made_for_excel(site: Site, opened: Opened) -> None:
    page = site.page("sup-vko", "/web/reports?since=2024-01-01").text
    assert 'href="/web/reports.csv?since=2024-01-01"' in page
    csv = site.page("sup-vko", "/web/reports.csv?since=2024-01-01", lang="ru")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    api = site.client.get(
        "/reports/summary?since=2024-01-01",
        headers={"Authorization": f"Bearer {site.tokens['sup-vko']}"},
    ).json()
    assert csv.content.startswith(b"\xef\xbb\xbf")  # UTF-8's byte-order mark, for Excel
    rows = [line.split(";") for line in csv.text.lstrip("\ufeff").splitlines()]
    figures = {(r[0], r[1]): r[2] for r in rows}
    assert figures[("дела", "")] == str(api["cases"])
    assert figures[("доля дел с примирением, %", "национальный ориентир")] == "61,0"
    assert figures[("Регион", "")] == "Восточно-Казахстанская область"


def test_the_lifecycle_is_drawn_without_graphviz_in_the_readers_language(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tatulasu.diagram.shutil.which", lambda _name: None)
    page = site.page("coord-vko", "/web/lifecycle", lang="ru").text
    drawing = page.split('<figure class="diagram">', 1)[1].split("</figure>", 1)[0]
    assert drawing.count('class="state-box') == len(states.current().states) and "<svg" in drawing
    assert "Досудебная стадия" in drawing and "mermaid" not in page
    assert 'id="state-settled"' in page and 'data-event="reach_agreement"' in page


def test_the_pages_stay_out_of_the_openapi_document(site: Site) -> None:
    paths = site.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/web")]
    assert site.client.get("/web/static/web.css").status_code == 200


def test_the_history_is_complete_on_the_case_page(site: Site, opened: Opened) -> None:
    steps = (("accept", {}), ("assign_mediator", {"mediator": "med-vko"}),
             ("record_consultation", {}))  # fmt: skip
    for event, payload in steps:
        done = site.client.post(
            f"/cases/{opened.party}/events", json={"event": event, "payload": payload},
            headers={"Authorization": f"Bearer {site.tokens['coord-vko']}"},
        )  # fmt: skip
        assert done.status_code == 200, done.text
    page = site.page("sup-vko", f"/web/cases/{opened.party}").text
    with site.wired.store.reading() as conn:
        stored = conn.execute(
            sa.select(audit_events.c.hash).where(audit_events.c.case_id == opened.party)
        ).all()
    assert len(stored) == 4
    for (digest,) in stored:
        assert f">{digest[:12]}</code>" in page
    assert '<span class="what" title="assign_mediator">A mediator is assigned</span>' in page
    assert "<li>Mediator: Mediator East</li>" in page  # by name, not login
    tallies = (
        "consultations 1 · mediation sessions 0 · reminders 0 · escalations 0 · terms missed 0"
    )
    assert f">{tallies}<" in page
