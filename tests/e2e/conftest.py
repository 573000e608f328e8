"""Fixtures for the CLI tests: a fresh SQLite file per test and a runner bound to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tatulasu.cli import app

Run = Callable[..., Result]

CLAIMANT = "claimant:Aigerim Serikova:061211600012:aigerim@example.kz:kk"
RESPONDENT = "respondent:Alma LLP:940140000385:+77011234567:ru"


def today_in_almaty() -> date:
    return datetime.now(ZoneInfo("Asia/Almaty")).date()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(db_url: str) -> Run:
    """`run("show", "1", "--json")`: invoke the CLI against this test's database."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env={"TATULASU_DATABASE_URL": db_url})

    return invoke


@pytest.fixture
def initialised(run: Run) -> Run:
    done = run("init")
    assert done.exit_code == 0, done.stderr
    return run


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def opened_case(initialised: Run) -> int:
    """A party's referral, accepted, with a mediator: ready to start mediation (version 3)."""
    run = initialised
    opened = as_json(
        run(
            "refer", "--actor", "aigerim", "--role", "party", "--region", "VKO",
            "--centre", "Oskemen Tatulasu centre", "--subject", "Wage arrears",
            "--party", CLAIMANT, "--party", RESPONDENT, "--json",
        )
    )  # fmt: skip
    case_id = int(opened["case_id"])
    as_json(run("fire", str(case_id), "accept", "--actor", "coord-1", "--role", "coordinator",
                "--json"))  # fmt: skip
    made = run("users", "create", "--id", "med-7", "--name", "Mediator", "--role", "mediator",
               "--region", "VKO", "--centre", "Oskemen Tatulasu centre")  # fmt: skip
    assert made.exit_code == 0, made.output
    as_json(run("fire", str(case_id), "assign_mediator", "--actor", "coord-1", "--role",
                "coordinator", "--field", "mediator=med-7", "--json"))  # fmt: skip
    return case_id
