"""Each role's day, end to end through the pages only, in Kazakh and in Russian, on a
desktop (1366 px) and on a phone (390 px).

    an agreement    a bailiff's file is checked, confirmed and opened; the coordinator
                    assigns a mediator; the mediator records a consultation, a session
                    and the agreement; the court approves it; the bailiff reads the outcome
    a failure       the mediator records that conciliation failed, with its reason; the
                    case returns to the bailiff, first in his list, with that reason
    an escalation   an agreement waits for the court past its term; days pass; the
                    supervisor finds the case overdue and escalated, reads its timeline
                    and its chain check
    no reply        the coordinator accepts a party's referral, sends the offer to
                    mediate and records its receipt; ten days pass without a reply and
                    the clock closes the case without agreement (lifecycle version 2)

People only click, type and choose files; the test does what the clock would (the import
job, the daily sweep, `journeys.Served`). Every page state reached is checked
(`journeys.Desk.check`): axe-core finds no violation, and on the phone the page is no
wider than the screen. A bailiff's referral is reconciled at the enforcement stage, so it
is neither accepted nor started by a mediation contract (`test_browser_steps.py` takes
those steps on a party's referral).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN_A, make_iin
from tests.e2e.api.conftest import OSKEMEN
from tests.e2e.web.journeys import (
    Desk,
    Served,
    open_desk,
    referral_file,
    said,
    serve,
    sign_in,
)
from workflow.commands import OpenCase, PartyInput

pytestmark = pytest.mark.slow
LANGS = ["kk", "ru"]
WIDTHS = [1366, 390]
RECORDED = "Recorded: %(event)s. The case is at the stage “%(state)s”, version %(version)d."
# What the lifecycle calls the failure's reason, in each language (states/lifecycle_v1.toml).
UNREACHABLE = {"ru": "Не удалось связаться со стороной", "kk": "Тараппен байланысу мүмкін болмады"}
ESCALATED = {
    "ru": "Срок истёк: дело передано вышестоящему должностному лицу",
    "kk": "Мерзім өтті: іс жоғары тұрған лауазымды адамға жіберілді",
}
Desks = Callable[[str], Desk]


@pytest.fixture
def served(tmp_path: Path, lang: str) -> Iterator[Served]:
    yield from serve(f"sqlite:///{tmp_path / 'journey.db'}", lang)


@pytest.fixture
def desk(chromium: Any, served: Served, lang: str, width: int) -> Iterator[Desks]:
    """`desk(user)`: a new browser signed in as `user` in `lang` at `width`."""
    opened: list[Desk] = []

    def signed_in(user: str) -> Desk:
        desk = open_desk(chromium, served, lang, width)
        opened.append(desk)
        sign_in(desk, user)
        return desk

    yield signed_in
    for desk in opened:
        desk.page.context.close()


def recorded(lang: str) -> str:
    """The start of the banner that confirms a step, in `lang`."""
    return said(lang, RECORDED).split("%(event)s")[0]


def send_file(bailiff: Desk, served: Served, proceedings: tuple[str, ...]) -> dict[str, int]:
    """The bailiff sends his file, checks it, confirms it; the cases opened, by proceeding."""
    page, lang = bailiff.page, bailiff.lang
    bailiff.go(said(lang, "My referrals"), "**/web/referrals", "my referrals")
    bailiff.go(said(lang, "Send a file of referrals"), "**/web/referrals/upload", "upload")
    text = referral_file(lang, proceedings)
    page.set_input_files(
        "#file", files=[{"name": "ip.csv", "mimeType": "text/csv", "buffer": text}]
    )
    page.click("form.upload button[type=submit]")
    page.wait_for_url("**/web/referrals/preview/*")
    bailiff.check("preview")
    assert page.locator("#good").inner_text() == str(len(proceedings))
    page.click("#confirm")
    page.wait_for_url("**/web/imports/*")
    bailiff.check("import queued")
    assert served.run_imports() == 1  # the clock's import lane
    page.reload()  # as the page's own refresh would, a few seconds later
    assert page.locator("#status").get_attribute("data-status") == "done"
    assert page.locator("#imported").inner_text() == str(len(proceedings))
    bailiff.check("import done")
    bailiff.go(said(lang, "Back to my referrals"), "**/web/referrals", "my referrals")
    rows = page.locator("table.referrals tbody tr")
    opened = {}
    for n in range(rows.count()):
        cells = rows.nth(n).locator("td")
        opened[cells.nth(0).inner_text()] = int(cells.nth(1).inner_text().lstrip("#"))
    assert set(opened) == set(proceedings)
    return opened


def open_from_work(desk: Desk, case_id: int, section: str = "") -> None:
    """From "My work", the case (in `section` when given) and its page."""
    desk.go(said(desk.lang, "My work"), "**/web/work", "my work")
    row = desk.page.locator(f'{section} tr[data-case="{case_id}"]'.strip())
    assert row.count() == 1, f"case {case_id} is not in {section or 'my work'}"
    row.locator("a").click()
    desk.page.wait_for_url(f"**/web/cases/{case_id}")
    desk.check("case")


def assign_mediator(desk: Desks, case_id: int) -> None:
    coordinator = desk("coord")
    open_from_work(coordinator, case_id, "#centre")
    coordinator.take("assign_mediator", recorded(coordinator.lang), mediator="med")
    assert coordinator.page.locator('[data-role="mediator"]').inner_text() == "Аскар Жаксылыков"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_bailiffs_file_ends_in_an_agreement_the_court_approves(
    desk: Desks, served: Served, lang: str, width: int
) -> None:
    bailiff = desk("bailiff")
    case_id = send_file(bailiff, served, ("ИП-2026-1", "ИП-2026-2"))["ИП-2026-1"]
    assert served.case(case_id).state == "enforcement_reconciliation"

    assign_mediator(desk, case_id)

    mediator = desk("med")
    open_from_work(mediator, case_id, "#mine")
    today = served.today().isoformat()
    done = recorded(lang)
    mediator.take("record_consultation", done, held_on=today)
    mediator.take("record_session", done, held_on=today)
    mediator.take("reach_agreement", done, agreement_ref="Соглашение № 17 / Келісім № 17")
    assert served.case(case_id).state == "agreement"

    court = desk("court")
    open_from_work(court, case_id, "#approval")
    court.take("approve", done, ruling_ref="Определение № 2-1234/2026", ruling_prepared_on=today)
    assert served.case(case_id).state == "approved"  # the ruling takes effect later
    agreed_on = served.today()
    served.let_days_pass(16)  # ten working days, and the clock settles the case
    case = served.case(case_id)
    assert (case.state, case.consultations, case.sessions) == ("settled", 1, 1)

    bailiff = desk("bailiff")  # days later: a new session
    bailiff.go(said(lang, "My referrals"), "**/web/referrals", "my referrals")
    row = bailiff.page.locator(f'table.referrals tr:has(a[href="/web/cases/{case_id}"])')
    assert row.get_attribute("data-state") == "settled"
    agreed = said(lang, "agreement of %(day)s") % {"day": agreed_on.strftime("%d.%m.%Y")}
    assert row.locator("td").nth(5).inner_text() == agreed


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_case_returns_to_the_bailiff_first_in_his_list_with_its_reason(
    desk: Desks, served: Served, lang: str, width: int
) -> None:
    bailiff = desk("bailiff")
    case_id = send_file(bailiff, served, ("ИП-7", "ИП-8"))["ИП-8"]
    assign_mediator(desk, case_id)

    mediator = desk("med")
    open_from_work(mediator, case_id, "#mine")
    done = recorded(lang)
    mediator.take("record_consultation", done, held_on=served.today().isoformat())
    mediator.take("fail", done, reason="party_not_contactable")
    assert served.case(case_id).state == "returned_to_bailiff"

    bailiff.go(said(lang, "My referrals"), "**/web/referrals", "my referrals")
    first = bailiff.page.locator("table.referrals tbody tr").first
    assert first.get_attribute("data-state") == "returned_to_bailiff"
    assert first.locator("td").nth(0).inner_text() == "ИП-8"
    assert first.locator("td").nth(5).inner_text() == UNREACHABLE[lang]
    first.locator("a").click()
    bailiff.page.wait_for_url(f"**/web/cases/{case_id}")
    bailiff.check("returned case")
    assert UNREACHABLE[lang] in bailiff.page.locator("ol.timeline").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_supervisor_finds_an_overdue_case_and_its_escalation(
    desk: Desks, served: Served, lang: str, width: int
) -> None:
    bailiff = desk("bailiff")
    case_id = send_file(bailiff, served, ("ИП-31",))["ИП-31"]
    assign_mediator(desk, case_id)
    mediator = desk("med")
    open_from_work(mediator, case_id, "#mine")
    mediator.take("reach_agreement", recorded(lang), agreement_ref="Келісім № 3")

    # The court lets its approval term (10 working days) run out, and 3 more days.
    assert served.let_days_pass(21) >= 3  # a reminder and two escalations
    case = served.case(case_id)
    assert (case.state, case.escalations) == ("agreement", 2)

    supervisor = desk("sup")  # a new day: a new session
    open_from_work(supervisor, case_id, "#late")
    supervisor.go(said(lang, "Overdue terms"), "**/web/overdue", "overdue")
    late = supervisor.page.locator(f'table.overdue tr:has(a[href="/web/cases/{case_id}"])')
    assert late.get_attribute("class") == "late-row"
    late.locator("a").click()
    page = supervisor.page
    page.wait_for_url(f"**/web/cases/{case_id}")
    supervisor.check("overdue case")
    sentences = page.locator("ol.timeline p.sentence").all_inner_texts()
    escalated = [s for s in sentences if ESCALATED[lang] in s]
    assert len(escalated) == 2 and all(said(lang, "The system") in s for s in escalated)
    assert page.locator("#chain").get_attribute("class") == "banner good"
    last = page.locator(f"#record-{len(sentences)}")
    last.locator("details.raw summary").click()
    assert last.locator("details.raw code").first.inner_text() == "escalate"
    supervisor.check("record as stored")


# What lifecycle version 2 says when the other side never replies to the offer.
NO_REPLY = {
    "ru": "Ответ на предложение не поступил в срок",
    "kk": "Ұсынысқа белгіленген мерзімде жауап берілмеді",
}
CLOSED = {
    "ru": "Закрыто без соглашения; стороны вправе обратиться в суд",
    "kk": "Келісімсіз жабылды; тараптар сотқа жүгіне алады",
}


def a_partys_referral(served: Served) -> int:
    """A claimant's referral, as it reaches the centre from the party's side."""
    opened = served.wired.engine.open_case(
        OpenCase(
            event="refer", actor="aigerim", role="party", region="VKO", centre=OSKEMEN,
            subject="Задолженность по заработной плате",
            parties=(
                PartyInput("claimant", "Серикова Айгерим", make_iin(60)),
                PartyInput("respondent", "ТОО Алтай", BIN_A),
            ),
        )
    )  # fmt: skip
    return opened.case_id


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
def test_an_offer_received_and_never_answered_closes_the_case(
    desk: Desks, served: Served, lang: str, width: int
) -> None:
    case_id = a_partys_referral(served)
    coordinator = desk("coord")
    open_from_work(coordinator, case_id, "#centre")
    done = recorded(lang)
    today = served.today().isoformat()
    coordinator.take("accept", done)
    coordinator.take("assign_mediator", done, mediator="med")
    coordinator.take("send_offer", done, offer_sent_on=today)
    assert served.case(case_id).state == "offer_sent"
    # The respondent signed for the letter: the coordinator records the receipt.
    coordinator.take("receive_offer", done, offer_received_on=today)
    case = served.case(case_id)
    assert (case.state, case.term_name) == ("offer_received", "reply_to_offer")

    served.let_days_pass(16)  # ten calendar days (a last day off moves), then the clock
    assert served.case(case_id).state == "closed_no_agreement"
    coordinator = desk("coord")  # days later: a new session
    coordinator.page.goto(f"/web/cases/{case_id}")
    coordinator.check("closed case")
    assert CLOSED[lang] in coordinator.page.locator("main").inner_text()
    assert NO_REPLY[lang] in coordinator.page.locator("ol.timeline").inner_text()
