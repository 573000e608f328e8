"""Every command meets a database it cannot use with one line on stderr and an exit code.

The commands are read from the Typer app itself, so a new command that takes
`--database-url` is checked too (give it its required arguments in `ARGUMENTS`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from tatulasu.cli import app

# Required arguments of the commands that have some; `{csv}` and `{key}` are files the
# fixture `files` makes (an import file, an Ed25519 signing key).
ARGUMENTS: dict[str, list[str]] = {
    "refer": ["--actor", "a", "--region", "VKO", "--centre", "C"],
    "fire": ["1", "accept", "--actor", "a", "--role", "coordinator"],
    "show": ["1"],
    "history": ["1"],
    "import": ["{csv}", "--actor", "bailiff-1"],
    "audit export-heads": ["--key", "{key}"],
    "outbox retry": ["1"],
    "users create": ["--id", "x", "--name", "X", "--role", "admin"],
    "users token": ["x"],
    "users deactivate": ["x"],
    "users set-password": ["x", "--password-stdin"],
    "db grant-app-role": ["--role", "tatulasu_app"],
    "lifecycle migrate": ["--from", "1", "--to", "2"],
}
# `demo` builds a fresh SQLite file and refuses any other URL as input to fix.
UNREACHABLE_EXIT = {"demo": 2}


def _commands() -> list[str]:
    """Every command (`audit verify`, ...) that takes --database-url."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                yield from walk(command.get_command(None, name), [*path, name])
        else:
            yield " ".join(path), command

    root = typer.main.get_command(app)
    return [
        name
        for name, command in walk(root, [])
        if any("--database-url" in p.opts for p in command.params)
    ]


COMMANDS = _commands()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("inputs")
    csv = where / "referrals.csv"
    csv.write_text("debtor_iin,creditor_iin\n", encoding="utf-8")
    key, public = where / "signing.pem", where / "public.pem"
    made = CliRunner().invoke(app, ["audit", "keygen", "--private-key", str(key),
                                    "--public-key", str(public)])  # fmt: skip
    assert made.exit_code == 0, made.stderr
    return {"csv": str(csv), "key": str(key)}


@pytest.fixture(autouse=True)
def _no_broker_or_database_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TATULASU_DATABASE_URL", "TATULASU_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)


def _invoke(command: str, url: str, files: dict[str, str]) -> Any:
    args = [a.format(**files) for a in ARGUMENTS.get(command, [])]
    return CliRunner().invoke(app, [*command.split(), *args, "--database-url", url])


def _assert_one_line(result: Any, code: int, says: str) -> None:
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"uncaught {result.exception!r}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exit_code == code, result.stderr


def test_the_commands_found_include_every_kind() -> None:
    for command in ("init", "fire", "serve", "worker", "beat", "audit verify", "users list"):
        assert command in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_against_an_unreachable_database_prints_one_line_and_exits_5(
    command: str, files: dict[str, str]
) -> None:
    result = _invoke(command, f"postgresql://postgres@127.0.0.1:{closed_port()}/x", files)
    code = UNREACHABLE_EXIT.get(command, 5)
    _assert_one_line(result, code, "database unavailable" if code == 5 else "--database-url")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "names the 'mysql' backend; tatulasu supports SQLite"),
        ("not a url", "is not a valid URL; tatulasu supports SQLite"),
    ],
    ids=["mysql", "malformed"],
)
def test_every_command_given_an_unusable_url_prints_one_line_and_exits_2(
    command: str, url: str, says: str, files: dict[str, str]
) -> None:
    result = _invoke(command, url, files)
    _assert_one_line(result, 2, "SQLite" if command == "demo" else says)


def test_the_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """CliRunner catches what escapes; `python -m tatulasu` shows what a user would see."""
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/x"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    done = subprocess.run(
        [sys.executable, "-m", "tatulasu", "show", "1", "--database-url", url],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: database unavailable: "), done.stderr
