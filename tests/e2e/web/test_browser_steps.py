"""A coordinator and then a mediator take their steps in Chromium, through the pages only,
in Russian: the forms the lifecycle generates, without a line of script in the pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tatulasu.settings import Settings
from tatulasu.wiring import build
from tests.conftest import BIN_A, IIN
from tests.e2e.served import uvicorn_api
from tests.e2e.web.journeys import send_form
from workflow import passwords, queries, users
from workflow.commands import OpenCase, PartyInput
from workflow.users import User

pytestmark = pytest.mark.slow
CENTRE = "Oskemen Tatulasu centre"
PASSWORD = "a password long enough"
PEOPLE = (
    User("coord-1", "Гульнара Ахметова", "coordinator", region="VKO", centre=CENTRE),
    User("med-1", "Аскар Жаксылыков", "mediator", region="VKO", centre=CENTRE),
)


@dataclass(frozen=True)
class Seeded:
    url: str
    case_id: int


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    url = f"sqlite:///{tmp_path_factory.mktemp('steps') / 'steps.db'}"
    wired = build(Settings(database_url=url))
    try:
        wired.store.migrate()
        with wired.store.transaction() as conn:
            for person in PEOPLE:  # Kazakh profiles: the switch chooses Russian
                users.create(conn, person, datetime.now(UTC))
                passwords.set_password(conn, person.id, PASSWORD)
        opened = wired.engine.open_case(
            OpenCase(
                event="refer", actor="coord-1", role="coordinator", region="VKO", centre=CENTRE,
                subject="Задолженность по заработной плате",
                parties=(
                    PartyInput("claimant", "Aigerim Serikova", IIN, email="aigerim@example.kz"),
                    PartyInput("respondent", "Altai LLP", BIN_A, phone="+77011234567"),
                ),
            )
        )  # fmt: skip
    finally:
        wired.close()
    return Seeded(url, opened.case_id)


@pytest.fixture(scope="module")
def server(seeded: Seeded) -> Iterator[str]:
    with uvicorn_api(seeded.url) as base:
        yield base


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=server, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"


def sign_in(page: Any, user: str) -> None:
    page.goto("/web/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/web/cases")


def take(page: Any, event: str, **fields: str) -> None:
    """Open the step's form, fill it in, send it, and see it confirmed."""
    page.click(f'li[data-event="{event}"] summary')
    send_form(page, event, fields)
    assert page.locator("#done").inner_text().startswith("Зафиксировано:")


def state(url: str, case_id: int) -> Any:
    wired = build(Settings(database_url=url))
    try:
        with wired.store.reading() as conn:
            return queries.get_case(conn, case_id)
    finally:
        wired.close()


def test_a_coordinator_then_a_mediator_take_their_steps_in_russian(
    page: Any, seeded: Seeded
) -> None:
    sign_in(page, "coord-1")
    page.click('nav.languages a[lang="ru"]')
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.click('header nav >> text="Мои дела"')
    page.wait_for_url("**/web/work")
    page.click(f'a[href="/web/cases/{seeded.case_id}"]')
    page.wait_for_url(f"**/web/cases/{seeded.case_id}")
    take(page, "accept")
    assert "Досудебная стадия" in page.locator("h1").inner_text()
    options = page.locator("#assign_mediator-mediator option").all_text_contents()
    assert "Аскар Жаксылыков" in options
    take(page, "assign_mediator", mediator="med-1")
    assert page.locator('[data-role="mediator"]').inner_text() == "Аскар Жаксылыков"
    page.click("form.who button")
    page.wait_for_url("**/web/login")

    sign_in(page, "med-1")  # the switch's cookie stays: still Russian
    assert page.locator("html").get_attribute("lang") == "ru"
    page.goto("/web/work")
    assert page.locator(f'#mine tr[data-case="{seeded.case_id}"]').count() == 1
    page.click(f'#mine a[href="/web/cases/{seeded.case_id}"]')
    today = datetime.now(ZoneInfo("Asia/Almaty")).date()
    take(page, "record_consultation", held_on=today.isoformat())
    signed = today - timedelta(days=1)
    take(page, "start_mediation", contract_signed_on=signed.isoformat())
    case = state(seeded.url, seeded.case_id)
    assert (case.state, case.mediator, case.consultations) == ("in_mediation", "med-1", 1)
    sentences = page.locator("ol.timeline p.sentence").all_inner_texts()
    assert len(sentences) == 5
    assert "Медиатор Аскар Жаксылыков: Проведена консультация" in sentences[3]
    assert "Координатор Гульнара Ахметова: Центр принимает обращение" in sentences[1]
    assert (
        f"Дата заключения договора о медиации: {signed:%d.%m.%Y}"
        in page.locator("#record-5").inner_text()
    )
    page.click("#record-5 details.raw summary")
    assert '"contract_signed_on"' in page.locator("#record-5 details.raw").inner_text()
