"""A bailiff's file, end to end in Chromium: upload in Russian, preview, confirm, done, listed.

The server is a real uvicorn process on a SQLite file; the import job is run from the
test (as the clock's import lane would) while the job's page waits; its link shows it done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tatulasu.settings import Settings
from tatulasu.wiring import build
from tests.e2e.api.conftest import OSKEMEN
from tests.e2e.api.test_csv_import import RUSSIAN, row
from tests.e2e.served import uvicorn_api
from workflow import import_jobs, passwords, users
from workflow.users import User

pytestmark = pytest.mark.slow
PASSWORD = "a password long enough"


@dataclass(frozen=True)
class Store:
    url: str


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    url = f"sqlite:///{tmp_path_factory.mktemp('bailiff') / 'pages.db'}"
    wired = build(Settings(database_url=url))
    try:
        wired.store.migrate()
        now = datetime.now(UTC)
        with wired.store.transaction() as conn:
            users.create(conn, User("coord", "Coordinator", "coordinator", region="VKO",
                                    centre=OSKEMEN), now)  # fmt: skip
            users.create(conn, User("bailiff-ru", "Судебный исполнитель Восток", "bailiff",
                                    region="VKO", language="ru"), now)  # fmt: skip
            passwords.set_password(conn, "bailiff-ru", PASSWORD)
    finally:
        wired.close()
    return Store(url)


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[str]:
    with uvicorn_api(store.url) as base:
        yield base


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    context = chromium.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


def run_the_import(url: str) -> int:
    wired = build(Settings(database_url=url))
    try:
        return import_jobs.run_due(wired.engine)
    finally:
        wired.close()


def test_a_bailiff_sends_a_russian_file_confirms_it_and_finds_his_cases(
    page: Any, store: Store, tmp_path: Path
) -> None:
    page.goto("/web/login")
    page.fill("#username", "bailiff-ru")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    page.click("header nav >> text=Мои направления")
    page.wait_for_url("**/web/referrals")
    page.click("text=Отправить файл направлений")
    page.wait_for_url("**/web/referrals/upload")

    text = "\n".join([RUSSIAN, row(1, sep=";"), row(2, sep=";")]) + "\n"
    page.set_input_files(
        "#file", files=[{"name": "ип.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.click("form.upload button[type=submit]")
    page.wait_for_url("**/web/referrals/preview/*")
    assert page.locator("h1").inner_text() == "Проверьте файл перед открытием дел"
    assert page.locator("#rows").inner_text() == "2"
    assert page.locator("#good").inner_text() == "2"
    assert "Сумма долга" in page.locator("#ignored").inner_text()
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)

    page.click("#confirm")
    page.wait_for_url("**/web/imports/*")
    assert page.locator("#status").get_attribute("data-status") in ("queued", "done")
    assert run_the_import(store.url) in (0, 1)  # 0: the server's own clock ran it first
    page.click("#again")  # the page does not reload itself: its link shows where it stands
    assert page.locator("#status").get_attribute("data-status") == "done"
    assert page.locator("#imported").inner_text() == "2"
    with page.expect_download() as download:
        page.click("#report")
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert report.count("imported") == 2

    page.click("text=Назад к моим направлениям")
    page.wait_for_url("**/web/referrals")
    listed = page.locator("table.referrals tbody").inner_text()
    assert "EP-1" in listed and "EP-2" in listed
    page.screenshot(path=str(tmp_path / "referrals.png"), full_page=True)
