"""Fixtures shared by the unit and integration tests.

`store` runs a test twice: on a fresh SQLite file and on a fresh PostgreSQL schema (a
throwaway schema in database `test`, selected with `search_path`, dropped afterwards).
When PostgreSQL cannot be reached, the PostgreSQL half is skipped loudly, or fails when
CI=true: a green CI run must have exercised the real server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import pytest
import sqlalchemy as sa

import states
from workflow import identifiers, users
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.commands import EventApplied, FireEvent, OpenCase, PartyInput
from workflow.engine import Engine
from workflow.schema import audit_events, cases, idempotency_keys, outbox, parties, timers
from workflow.store import Store
from workflow.users import User

PG_URL = os.environ.get("TATULASU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Known-valid identifiers (domain.md) and a few more made with their check digit.
IIN = "061211600012"
BIN_A = "940140000385"
BIN_B = "990140004654"

# Monday 22 April 2024, 09:00 in Almaty (UTC+5 since March 2024).
START = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)

TABLES = (cases, parties, audit_events, timers, outbox, idempotency_keys)


def make_iin(serial: int) -> str:
    """A valid IIN for someone born 12 Nov 1985 (century/sex digit 3) with this serial."""
    for n in range(serial, serial + 100):
        made = identifiers.make(f"8511123{n % 10000:04d}")
        if made is not None:
            return made
    raise AssertionError("no IIN found")


# ---------------------------------------------------------------------------- PostgreSQL

# The real parts a local run could not reach (part -> first reason), shown loudly at the
# end of the run; under CI=true a missing part fails the tests instead.
_NOT_RUN: dict[str, str] = {}


def unavailable(part: str, message: str) -> NoReturn:
    """Skip a test whose real part (PostgreSQL, Redis, Chromium) is missing here."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    _NOT_RUN.setdefault(part, message)
    pytest.skip(message)


def need_tool(program: str, install: str) -> str:
    """The path of a program a test runs (`dot`, `wrk`); skip loudly when it is missing."""
    path = shutil.which(program)
    if path is None:
        unavailable(program, f"`{program}` is not installed ({install}): tests NOT run")
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for part, message in _NOT_RUN.items():
        terminalreporter.write_sep("!", f"{part} tests were SKIPPED", red=True, bold=True)
        terminalreporter.write_line(message, red=True)


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def _try_start_pg() -> None:
    try:
        versions = os.listdir("/etc/postgresql")
    except OSError:
        return
    for version in versions:
        try:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    """An autocommit engine on database `test`, for creating and dropping schemas."""
    reason = _pg_reachable()
    if reason is not None:
        _try_start_pg()
        reason = _pg_reachable()
    if reason is not None:
        unavailable(
            "PostgreSQL", f"PostgreSQL at {PG_URL} is unreachable ({reason}): tests NOT run"
        )
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_store(pg_admin: sa.Engine) -> Iterator[Store]:
    """A migrated store in a fresh schema of its own."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    store = Store(f"{PG_URL}?options={quote(f'-csearch_path={schema}')}", pool_size=20)
    try:
        store.migrate()
        yield store
    finally:
        store.dispose()
        with pg_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'tatulasu.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- engine


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture(scope="session")
def calendar() -> BusinessCalendar:
    return BusinessCalendar()


def opens_version(request: pytest.FixtureRequest) -> int | None:
    """The version a test's new cases open under: `@pytest.mark.lifecycle(1)` for a test
    of version 1's rules (its cases live on after version 2), else the newest."""
    marker = request.node.get_closest_marker("lifecycle")
    return None if marker is None else int(marker.args[0])


@pytest.fixture(autouse=True)
def _lifecycle_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for the processes a test starts (`TATULASU_LIFECYCLE_VERSION`)."""
    version = opens_version(request)
    if version is not None:
        monkeypatch.setenv("TATULASU_LIFECYCLE_VERSION", str(version))


@pytest.fixture
def engine(
    request: pytest.FixtureRequest,
    store: Store,
    clock: SimulatedClock,
    calendar: BusinessCalendar,
) -> Engine:
    return Engine(store, clock=clock, calendar=calendar, opens_version=opens_version(request))


@dataclass
class Desk:
    """Open cases and fire events the way the users of each role would."""

    engine: Engine
    clock: SimulatedClock

    @property
    def store(self) -> Store:
        return self.engine.store

    # -- opening

    def refer(self, **overrides: Any) -> EventApplied:
        """A party refers a labour dispute to a centre (state: referred)."""
        fields: dict[str, Any] = {
            "event": "refer",
            "actor": "aigerim",
            "role": "party",
            "region": "VKO",
            "centre": "Oskemen Tatulasu centre",
            "subject": "unpaid wages",
            "parties": (
                PartyInput("claimant", "Aigerim S.", IIN, email="aigerim@example.kz"),
                PartyInput("respondent", "Altai LLP", BIN_A, phone="+77011234567"),
            ),
        }
        fields.update(overrides)
        return self.engine.open_case(OpenCase(**fields))

    def court_refer(self, **overrides: Any) -> EventApplied:
        """A court sends a case in proceedings to conciliation (state: court_conciliation)."""
        fields: dict[str, Any] = {
            "event": "court_refer",
            "actor": "judge-1",
            "role": "court",
            "region": "KAR",
            "centre": "Karaganda mediation office",
            "parties": (
                PartyInput("claimant", "Bolat K.", make_iin(1), email="bolat@example.kz"),
                PartyInput("respondent", "Saryarka JSC", BIN_B, email="law@saryarka.kz"),
            ),
        }
        fields.update(overrides)
        return self.engine.open_case(OpenCase(**fields))

    def refer_enforcement(self, proceeding: str = "EP-2024-0001", **overrides: Any) -> EventApplied:
        """A bailiff refers a debtor and a creditor (state: enforcement_reconciliation)."""
        fields: dict[str, Any] = {
            "event": "refer_enforcement",
            "actor": "bailiff-7",
            "role": "bailiff",
            "region": "VKO",
            "centre": "Oskemen Tatulasu centre",
            "enforcement_proceeding": proceeding,
            "parties": (
                PartyInput("debtor", "Dana M.", make_iin(2), phone="+77017654321"),
                PartyInput("creditor", "Altai LLP", BIN_A, email="debt@altai.kz"),
            ),
        }
        fields.update(overrides)
        return self.engine.open_case(OpenCase(**fields))

    # -- people

    def register(
        self,
        user_id: str,
        role: str = "mediator",
        region: str | None = "VKO",
        centre: str | None = "Oskemen Tatulasu centre",
        iin_bin: str | None = None,
    ) -> str:
        """Register a user once (a mediator of the Oskemen centre by default); his id.

        The engine looks at people for some checks: only a registered mediator of the
        case's centre is assigned, and a party's event may need him to be its claimant.
        """
        if role == "party":
            region, centre = None, None
        with self.store.transaction() as conn:
            if users.by_id(conn, user_id) is None:
                person = User(user_id, user_id, role, region=region, centre=centre, iin_bin=iin_bin)
                users.create(conn, person, self.clock.now())
        return user_id

    # -- firing

    def fire(
        self,
        case_id: int,
        event: str,
        role: str,
        actor: str | None = None,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        **payload: Any,
    ) -> EventApplied:
        return self.engine.fire(
            FireEvent(
                case_id=case_id,
                event=event,
                actor=actor or f"{role}-1",
                role=role,
                payload=payload,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
            )
        )

    def fire_filled(self, case_id: int, event: str, role: str, **given: Any) -> EventApplied:
        """`fire`, the event's other required fields filled as its case's version asks
        (version 2 asks an extension for the parties' consent, a bailiff's replacement
        for the finding of a breach): dates today, texts a reference."""
        with self.store.reading() as conn:
            version = conn.execute(
                sa.select(cases.c.definition_version).where(cases.c.id == case_id)
            ).scalar_one()
        spec = states.get(version).events[event]
        filled = {
            name: self.today() if kind == "date" else f"{name.upper()}-1"
            for name, kind in spec.payload.items()
            if name not in given
        }
        return self.fire(case_id, event, role, **filled, **given)

    def today(self) -> str:
        return self.engine.calendar.local_date(self.clock.now()).isoformat()

    def to_state(self, state: str) -> int:
        """A new case in `state`, by the shortest ordinary path; returns its id."""
        if state == "court_conciliation":
            return self.court_refer().case_id
        if state == "enforcement_reconciliation":
            return self.refer_enforcement().case_id
        if state == "agreement":
            case_id = self.court_refer().case_id
            self.fire(case_id, "reach_agreement", "mediator", agreement_ref="MA-1")
            return case_id
        if state == "approved":
            case_id = self.to_state("agreement")
            self.fire_filled(case_id, "approve", "court")
            return case_id
        if state == "court":  # conciliation the court ordered failed: back to the court
            case_id = self.court_refer().case_id
            self.fire(case_id, "fail", "court", reason="no_agreement")
            return case_id
        case_id = self.refer().case_id
        if state == "referred":
            return case_id
        self.fire(case_id, "accept", "coordinator")
        if state == "pre_trial":
            return case_id
        self.fire(case_id, "assign_mediator", "coordinator", mediator=self.register("med-1"))
        if state in ("offer_sent", "offer_received"):
            self.fire(case_id, "send_offer", "coordinator", offer_sent_on=self.today())
            if state == "offer_received":
                self.fire(case_id, "receive_offer", "coordinator", offer_received_on=self.today())
            return case_id
        self.fire(case_id, "start_mediation", "mediator", contract_signed_on=self.today())
        if state == "in_mediation":
            return case_id
        raise AssertionError(f"no path to {state!r}")

    # -- reading

    def case(self, case_id: int) -> Any:
        with self.store.reading() as conn:
            return conn.execute(sa.select(cases).where(cases.c.id == case_id)).one()

    def history(self, case_id: int) -> list[Any]:
        with self.store.reading() as conn:
            return list(
                conn.execute(
                    sa.select(audit_events)
                    .where(audit_events.c.case_id == case_id)
                    .order_by(audit_events.c.seq)
                )
            )

    def timers(self, case_id: int, *, open_only: bool = False) -> list[Any]:
        query = sa.select(timers).where(timers.c.case_id == case_id)
        if open_only:
            query = query.where(timers.c.fired_at.is_(None))
        with self.store.reading() as conn:
            return list(conn.execute(query.order_by(timers.c.due_at, timers.c.id)))

    def outbox(self, case_id: int) -> list[Any]:
        with self.store.reading() as conn:
            return list(
                conn.execute(
                    sa.select(outbox).where(outbox.c.case_id == case_id).order_by(outbox.c.id)
                )
            )

    def snapshot(self) -> Mapping[str, list[tuple[Any, ...]]]:
        """Every row of every table in key order: two equal snapshots prove nothing changed."""
        found: dict[str, list[tuple[Any, ...]]] = {}
        with self.store.reading() as conn:
            for table in TABLES:
                order = list(table.primary_key.columns)
                rows = conn.execute(sa.select(table).order_by(*order))
                found[table.name] = [tuple(r) for r in rows]
        return found

    def advance(self, days: float = 0, **kwargs: float) -> datetime:
        return self.clock.advance(timedelta(days=days, **kwargs))


@pytest.fixture
def desk(engine: Engine, clock: SimulatedClock) -> Desk:
    return Desk(engine, clock)
