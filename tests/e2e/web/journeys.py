"""A day's work through the pages: a served app on a clock the test moves, and its people.

uvicorn runs on a thread of the test process (not in a process of its own, as
`tests/e2e/served.py` starts it) so that the app and the test share one
`SimulatedClock`: a journey lets days pass by moving it, and then does the clock's work
itself (import jobs, the timer sweep) as the clock lanes of `tatulasu serve` would. Every
page state a journey reaches is checked where it is: axe-core finds nothing, the page is
in the reader's language, and on a phone nothing is wider than the screen.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from tatulasu.api import create_app
from tatulasu.settings import Settings
from tatulasu.web.i18n import translations
from tatulasu.wiring import App, build
from tests.conftest import BIN_A, make_iin
from tests.e2e.api.conftest import OSKEMEN
from tests.e2e.web.axe import assert_accessible, axe_script
from tests.integration.clock.sinks import free_port
from workflow import import_jobs, passwords, queries, timers, users
from workflow.clock import SimulatedClock
from workflow.users import User

PASSWORD = "a password long enough"
PHONE = 390
# The column names a bailiff's system exports, in each language of the pages.
HEADERS = {
    "ru": "№ ИП;Дата возбуждения;Центр примирения;ФИО должника;ИИН/БИН должника;Взыскатель;"
    "ИИН/БИН взыскателя",
    "kk": "Атқарушылық іс жүргізу нөмірі;Қозғалған күні;Татуласу орталығы;Борышкер;"
    "Борышкердің ЖСН/БСН;Өндіріп алушы;Өндіріп алушының ЖСН/БСН",
}
DEBTORS = {"ru": ("Серикова Дана", "Ахметов Ерлан"), "kk": ("Серікова Дана", "Ахметов Ерлан")}
# The innermost elements whose right edge is past the window's, to say what spills over.
SPILLING = """(() => {
  const out = e => e.getBoundingClientRect().right > window.innerWidth + 1;
  return [...document.querySelectorAll('main *')]
    .filter(e => out(e) && ![...e.children].some(out)).slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
})()"""


def send_form(page: Any, event: str, fields: Mapping[str, str]) -> None:
    """Fill in the open form of `event` (a choice is selected, a text typed) and send it."""
    for name, value in fields.items():
        target = page.locator(f"#{event}-{name}")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    page.click(f"#form-{event} button[type=submit]")
    page.wait_for_url(f"**done={event}*")


def said(lang: str, english: str) -> str:
    """What the pages say for `english` in `lang` (its catalogue's translation)."""
    return str(translations(lang).gettext(english))


def people(lang: str) -> tuple[User, ...]:
    """One official of each role a referral meets, all reading the pages in `lang`."""
    vko = {"region": "VKO", "language": lang}
    return (
        User("bailiff", "Нурлан Бекенов", "bailiff", **vko),
        User("coord", "Гульнара Ахметова", "coordinator", centre=OSKEMEN, **vko),
        User("med", "Аскар Жаксылыков", "mediator", centre=OSKEMEN, **vko),
        User("court", "Өскемен қалалық соты", "court", **vko),
        User("sup", "Мария Ким", "supervisor", **vko),
    )


def referral_file(lang: str, proceedings: tuple[str, ...]) -> bytes:
    """A bailiff's CSV: one row per proceeding, with the column names in `lang`."""
    rows = [HEADERS[lang]]
    for n, proceeding in enumerate(proceedings):
        debtor = DEBTORS[lang][n % 2]
        rows.append(
            f"{proceeding};01.03.2024;{OSKEMEN};{debtor};{make_iin(40 + n)};ТОО Алтай;{BIN_A}"
        )
    return ("\n".join(rows) + "\n").encode("utf-8")


@dataclass
class Served:
    """The app on a thread, its store, and the clock both the app and the test read."""

    base: str
    wired: App
    clock: SimulatedClock

    def run_imports(self) -> int:
        """What the clock's import lane does: run the jobs that are due."""
        return import_jobs.run_due(self.wired.engine)

    def let_days_pass(self, days: int) -> int:
        """Move the clock a day at a time, sweeping each day as the clock would; timers fired."""
        fired = 0
        for _ in range(days):
            self.clock.advance(timedelta(days=1))
            fired += timers.sweep(self.wired.engine).fired
        return fired

    def case(self, case_id: int) -> Any:
        with self.wired.store.reading() as conn:
            return queries.get_case(conn, case_id)

    def today(self) -> date:
        return self.clock.now().astimezone(self.wired.calendar.tz).date()


@dataclass
class _Thread:
    server: uvicorn.Server
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def serve(url: str, lang: str, start_within: float = 60) -> Iterator[Served]:
    """A fresh store with the people of `people(lang)`, served on 127.0.0.1 until closed."""
    clock = SimulatedClock(datetime.now(UTC))
    wired = build(Settings(database_url=url), clock=clock)
    wired.store.migrate()
    with wired.store.transaction() as conn:
        for person in people(lang):
            users.create(conn, person, clock.now())
            passwords.set_password(conn, person.id, PASSWORD)
    port = free_port()
    config = uvicorn.Config(create_app(wired), host="127.0.0.1", port=port, log_level="warning")
    running = _Thread(uvicorn.Server(config))
    running.thread.start()
    try:
        deadline = time.monotonic() + start_within
        while not running.server.started:
            assert running.thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, f"uvicorn did not start in {start_within} s"
            time.sleep(0.05)
        yield Served(f"http://127.0.0.1:{port}", wired, clock)
    finally:
        running.server.should_exit = True
        running.thread.join(timeout=30)
        wired.close()


@dataclass
class Desk:
    """One person's browser: a page in his language at one width, checked at every step."""

    page: Any
    lang: str
    width: int
    who: str = ""
    visited: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """axe-core finds nothing, the page speaks the reader's language, nothing spills over."""
        where = f"{name} ({self.lang}, {self.width} px)"
        self.visited.append(name)
        assert self.page.locator("html").get_attribute("lang") == self.lang, where
        assert_accessible(self.page, where)
        if self.width <= PHONE:
            wide, window = self.page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide <= window, f"{where}: {wide} px wide on a {window} px screen: " + str(
                self.page.evaluate(SPILLING)
            )
        shots = os.environ.get("TATULASU_SCREENSHOTS")
        if shots:  # to read the pages as the journey saw them
            Path(shots).mkdir(parents=True, exist_ok=True)
            name = f"{self.who}-{len(self.visited):02d}-{name.replace(' ', '-')}"
            name += f"-{self.lang}-{self.width}"
            self.page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

    def go(self, link: str, url: str, name: str) -> None:
        """Follow the link whose text is `link` (the first such) and check the page."""
        self.page.get_by_role("link", name=link, exact=True).first.click()
        self.page.wait_for_url(url)
        self.check(name)

    def take(self, event: str, done: str, **fields: str) -> None:
        """Open a step's form on the case page, fill it in, send it, and see it recorded."""
        self.page.click(f'li[data-event="{event}"] summary')
        self.check(f"form {event}")
        send_form(self.page, event, fields)
        assert self.page.locator("#done").inner_text().startswith(done)
        self.check(f"recorded {event}")


def open_desk(chromium: Any, served: Served, lang: str, width: int) -> Desk:
    """A new browser (no cookies) at `width`, scripts of its own allowed for axe-core only."""
    axe_script()  # skip (or fail under CI) before any page is opened
    context = chromium.new_context(
        base_url=served.base,
        viewport={"width": width, "height": 844 if width <= PHONE else 900},
        bypass_csp=True,
        accept_downloads=True,
        locale={"kk": "kk-KZ", "ru": "ru-RU"}[lang],  # the browser asks for his language
    )
    context.set_default_timeout(20_000)
    return Desk(context.new_page(), lang, width)


def sign_in(desk: Desk, user: str) -> None:
    """Sign in on the form, as the person would; he lands on the case list."""
    page = desk.page
    desk.who = user
    page.goto("/web/login")
    desk.check("sign-in")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/web/cases")
    desk.check("cases")
