"""`tatulasu users set-password`: a person's password for the pages, from a prompt or stdin."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from typer.testing import CliRunner

from tatulasu.cli import app
from tatulasu.settings import Settings
from tatulasu.wiring import build
from tests.e2e.conftest import Run
from workflow import passwords, web_sessions
from workflow.schema import users


def stored_hash(db_url: str, user: str) -> str | None:
    wired = build(Settings(database_url=db_url))
    try:
        with wired.store.reading() as conn:
            return conn.scalar(sa.select(users.c.password_hash).where(users.c.id == user))
    finally:
        wired.close()


def test_set_password_reads_stdin_stores_an_argon2id_hash_and_ends_sessions(
    initialised: Run, db_url: str
) -> None:
    made = initialised("users", "create", "--id", "admin-1", "--name", "Admin", "--role", "admin")
    assert made.exit_code == 0, made.output
    wired = build(Settings(database_url=db_url))
    try:
        with wired.store.transaction() as conn:
            lives = web_sessions.Lifetimes(
                idle=timedelta(minutes=30), absolute=timedelta(minutes=600)
            )
            started = web_sessions.start(conn, "admin-1", wired.engine.clock.now(), lives)
    finally:
        wired.close()
    done = CliRunner().invoke(
        app, ["users", "set-password", "admin-1", "--password-stdin"],
        input="a long enough password\n", env={"TATULASU_DATABASE_URL": db_url},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    stored = stored_hash(db_url, "admin-1")
    assert stored is not None and stored.startswith("$argon2id$")
    assert "a long enough password" not in stored
    assert passwords.verify(stored, "a long enough password").ok
    wired = build(Settings(database_url=db_url))
    try:
        with wired.store.reading() as conn:
            assert web_sessions.find(conn, started.token) is None
    finally:
        wired.close()


def test_set_password_prompts_twice_and_refuses_a_short_one_or_an_unknown_user(
    initialised: Run, db_url: str
) -> None:
    initialised("users", "create", "--id", "sup-1", "--name", "Sup", "--role", "supervisor",
                "--region", "VKO")  # fmt: skip
    env = {"TATULASU_DATABASE_URL": db_url}
    runner = CliRunner()
    typed = runner.invoke(
        app, ["users", "set-password", "sup-1"], input="twelve chars ok\ntwelve chars ok\n", env=env
    )
    assert typed.exit_code == 0, typed.output
    assert passwords.verify(stored_hash(db_url, "sup-1"), "twelve chars ok").ok
    short = runner.invoke(app, ["users", "set-password", "sup-1", "--password-stdin"],
                          input="short\n", env=env)  # fmt: skip
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    unknown = runner.invoke(app, ["users", "set-password", "ghost", "--password-stdin"],
                            input="long enough password\n", env=env)  # fmt: skip
    assert unknown.exit_code != 0 and "ghost" in unknown.output
