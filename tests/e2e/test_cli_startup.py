"""`tatulasu --help` and the read commands start fast: they leave the heavy libraries unloaded.

Each command runs in a fresh interpreter, which then reports which of the libraries of
the server, the workers, migrations, the diagram and the working-day count it loaded.
Nothing is timed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import CLAIMANT, RESPONDENT, Run, as_json

HEAVY = (
    "alembic",
    "celery",
    "fastapi",
    "graphviz",
    "holidays",
    "httpx",
    "jinja2",
    "kombu",
    "prometheus_client",
    "psycopg",
    "psycopg2",
    "redis",
    "starlette",
    "transitions.extensions.diagrams",
    "uvicorn",
)

RUN_AND_LIST_LOADED = f"""
import sys
from tatulasu.cli import app
try:
    app(sys.argv[1:], prog_name="tatulasu")
except SystemExit as done:
    assert not done.code, done.code
print(" ".join(m for m in {HEAVY!r} if m in sys.modules) or "none")
"""


def heavy_modules_loaded(db_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_LOADED, *args],
        env={**os.environ, "TATULASU_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize("command", [("--help",), ("serve", "--help"), ("worker", "--help")])
def test_cli_help_imports_no_server_or_worker_libraries(
    db_url: str, command: tuple[str, ...]
) -> None:
    assert heavy_modules_loaded(db_url, *command) == "none"


@pytest.mark.parametrize("command", [("show", "1"), ("history", "1"), ("list",)])
def test_read_commands_import_no_server_worker_or_calendar_libraries(
    initialised: Run, db_url: str, command: tuple[str, ...]
) -> None:
    referred = as_json(
        initialised(
            "refer", "--actor", "aigerim", "--role", "party", "--region", "VKO",
            "--centre", "Oskemen Tatulasu centre", "--party", CLAIMANT, "--party", RESPONDENT,
            "--json",
        )
    )  # fmt: skip
    assert referred["case_id"] == 1
    assert heavy_modules_loaded(db_url, *command, "--json") == "none"
