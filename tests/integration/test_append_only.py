"""The history is append-only in the database itself: triggers, and a role without the rights."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from tatulasu.cli import app
from tests.conftest import PG_URL, Desk
from workflow import audit
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.engine import Engine
from workflow.errors import HistoryIsAppendOnly, InvalidField
from workflow.grants import app_role_statements, grant_app_role
from workflow.schema import audit_events
from workflow.store import Store


@pytest.fixture
def case_id(desk: Desk) -> int:
    return desk.to_state("pre_trial")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory' WHERE case_id = :c AND seq = 1",
        "UPDATE audit_events SET seq = seq + 10 WHERE case_id = :c",
        "DELETE FROM audit_events WHERE case_id = :c AND seq = 2",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_update_or_delete_history(
    desk: Desk, case_id: int, statement: str
) -> None:
    before = desk.history(case_id)
    with (
        pytest.raises(HistoryIsAppendOnly, match="audit_events is append-only"),
        desk.store.transaction() as conn,
    ):
        conn.execute(sa.text(statement), {"c": case_id})
    assert desk.history(case_id) == before
    with desk.store.reading() as conn:
        assert audit.verify(conn).ok


def test_core_update_and_delete_are_refused_too(desk: Desk, case_id: int) -> None:
    with (
        pytest.raises(HistoryIsAppendOnly, match="UPDATE refused"),
        desk.store.transaction() as conn,
    ):
        conn.execute(audit_events.update().values(role="admin"))
    with (
        pytest.raises(HistoryIsAppendOnly, match="DELETE refused"),
        desk.store.transaction() as conn,
    ):
        conn.execute(audit_events.delete().where(audit_events.c.case_id == case_id))


def test_appending_still_works(desk: Desk, case_id: int) -> None:
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("med-1"))
    assert [r.seq for r in desk.history(case_id)] == [1, 2, 3]
    with desk.store.reading() as conn:
        assert audit.verify(conn).ok


@pytest.mark.postgres
def test_truncate_is_refused_on_postgres(pg_store: Store, clock: SimulatedClock) -> None:
    Desk(Engine(pg_store, clock=clock), clock).refer()
    with (
        pytest.raises(HistoryIsAppendOnly, match="TRUNCATE refused"),
        pg_store.transaction() as conn,
    ):
        conn.exec_driver_sql("TRUNCATE audit_events CASCADE")


def test_the_migration_down_and_up_removes_and_restores_the_triggers(
    desk: Desk, case_id: int
) -> None:
    desk.store.downgrade("0004")
    with desk.store.transaction() as conn:
        conn.execute(audit_events.update().values(actor="anyone"))  # no guard at 0004
    desk.store.migrate()
    with pytest.raises(HistoryIsAppendOnly), desk.store.transaction() as conn:
        conn.execute(audit_events.update().values(actor="someone"))


# ---------------------------------------------------------------------------- the app role


@pytest.fixture
def app_role(pg_admin: sa.Engine) -> Iterator[str]:
    """A role of its own for this test (roles are cluster-wide), dropped afterwards."""
    role = f"tatulasu_app_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        yield role
    finally:
        with pg_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


def _schema(store: Store) -> str:
    with store.reading() as conn:
        return str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())


@pytest.mark.postgres
def test_the_app_role_may_append_to_the_history_but_not_change_it(
    pg_store: Store, app_role: str, clock: SimulatedClock, calendar: BusinessCalendar
) -> None:
    owner = Desk(Engine(pg_store, clock=clock, calendar=calendar), clock)
    first = owner.refer().case_id
    with pg_store.transaction() as conn:
        statements = grant_app_role(conn, app_role)
    assert f"GRANT SELECT, INSERT ON {_schema(pg_store)}.audit_events TO {app_role}" in (statements)

    # The application connects as its role: a whole lifecycle step works...
    options = quote(f"-csearch_path={_schema(pg_store)} -crole={app_role}")
    app_store = Store(f"{PG_URL}?options={options}", pool_size=2)
    try:
        with app_store.reading() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar_one() == app_role
        app = Desk(Engine(app_store, clock=clock, calendar=calendar), clock)
        second = app.refer().case_id
        app.fire(second, "accept", "coordinator")
        app.fire(first, "accept", "coordinator")
        with app_store.reading() as conn:
            assert audit.verify(conn).ok

        # ...but the history cannot be changed, even with the triggers gone.
        with pg_store.transaction() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        for statement in (
            "UPDATE audit_events SET actor = 'mallory'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events CASCADE",
            "ALTER TABLE audit_events ENABLE TRIGGER USER",
        ):
            with (
                pytest.raises(HistoryIsAppendOnly, match=r"permission denied|must be owner"),
                app_store.transaction() as conn,
            ):
                conn.exec_driver_sql(statement)
        # Within one session too, the way the issue describes it: SET ROLE, then try.
        with pg_store.transaction() as conn:
            conn.exec_driver_sql(f'SET LOCAL ROLE "{app_role}"')
            inserted = conn.execute(
                audit_events.insert().values(
                    audit.new_record(
                        "f" * 64, case_id=first, seq=99, event="note", actor="x", role="x",
                        at=clock.now(), from_state="s", to_state="s", payload="{}",
                    )
                )
            )  # fmt: skip
            assert inserted.inserted_primary_key is not None
            with (
                pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
                conn.begin_nested(),
            ):
                conn.exec_driver_sql("UPDATE audit_events SET actor = 'mallory'")
    finally:
        app_store.dispose()


@pytest.mark.postgres
def test_a_role_that_owns_the_tables_or_is_missing_is_refused(
    pg_store: Store, app_role: str
) -> None:
    with pg_store.transaction() as conn, pytest.raises(InvalidField, match="no role"):
        app_role_statements(conn, app_role + "_missing")
    with pg_store.transaction() as conn, pytest.raises(InvalidField, match="superuser"):
        app_role_statements(conn, "postgres")
    with pg_store.transaction() as conn:
        conn.exec_driver_sql("ALTER TABLE timers OWNER TO " + f'"{app_role}"')
    with pg_store.transaction() as conn, pytest.raises(InvalidField, match="must not own"):
        app_role_statements(conn, app_role)


def test_roles_are_refused_on_sqlite(sqlite_store: Store) -> None:
    with sqlite_store.transaction() as conn, pytest.raises(InvalidField, match="PostgreSQL"):
        app_role_statements(conn, "app")


@pytest.mark.postgres
def test_the_grant_command(pg_store: Store, app_role: str, run_on: Callable[..., Result]) -> None:
    dry = run_on(pg_store, "db", "grant-app-role", "--role", app_role, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert f"REVOKE ALL ON ALL TABLES IN SCHEMA {_schema(pg_store)} FROM {app_role};" in dry.stdout
    with pg_store.reading() as conn:
        assert not _may_update_history(conn, app_role)
        assert not _may_insert_history(conn, app_role)
    done = run_on(pg_store, "db", "grant-app-role", "--role", app_role)
    assert done.exit_code == 0, done.stderr
    assert f"granted {app_role!r}" in done.stderr
    with pg_store.reading() as conn:
        assert _may_insert_history(conn, app_role)
        assert not _may_update_history(conn, app_role)
    missing = run_on(pg_store, "db", "grant-app-role", "--role", "no_such_role_x")
    assert missing.exit_code == 2
    assert "no role 'no_such_role_x'" in missing.stderr


def _may(conn: Any, role: str, right: str) -> bool:
    return bool(
        conn.execute(
            sa.text("SELECT has_table_privilege(:r, 'audit_events', :p)"), {"r": role, "p": right}
        ).scalar_one()
    )


def _may_update_history(conn: Any, role: str) -> bool:
    return _may(conn, role, "UPDATE") or _may(conn, role, "DELETE")


def _may_insert_history(conn: Any, role: str) -> bool:
    return _may(conn, role, "INSERT")


@pytest.fixture
def run_on() -> Callable[..., Result]:
    """`run_on(store, "db", ...)`: the CLI against a store's database."""

    def invoke(store: Store, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env={"TATULASU_DATABASE_URL": store.url})

    return invoke
