"""How the CLI ends: one readable line on stderr and an exit code a script can test.

A user's mistake is not a crash, so errors tatulasu raises on purpose never print a
traceback. `CODES` groups the error tree of `workflow.errors` by what the caller should
do next, the nearest class of an error's MRO deciding (`tatulasu.errors.nearest`):

    0  done                      1  checked, and found a problem (audit verify)
    2  fix the input             3  refused now: reload, or do something else first
    4  no such case              5  the database or the definition failed: not your fault

A `--database-url` that is malformed or names a backend other than SQLite or PostgreSQL
is input to fix (2); a database that cannot be reached, or fails, is 5, and so is a
missing optional tool (Graphviz for `diagram --format svg`), a broken lifecycle or
calendar file, and what the server raises only inside itself (a replay's refusal, a
sink's). Credentials (never asked by the CLI) are input to fix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from tasks.errors import DeliveryError
from tatulasu.errors import Unauthenticated, nearest
from workflow.errors import (
    Conflict,
    InvalidDefinition,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReplayRefused,
    StoreMisconfigured,
    TatulasuError,
    Unavailable,
)

OK = 0
PROBLEM_FOUND = 1
BAD_INPUT = 2
REFUSED = 3
NOT_FOUND = 4
BROKEN = 5

P = ParamSpec("P")
R = TypeVar("R")

CODES: dict[type[TatulasuError], int] = {
    TatulasuError: BROKEN,  # a class under none of the branches below: a bug
    InvalidInput: BAD_INPUT,
    Unauthenticated: BAD_INPUT,
    NotAllowed: REFUSED,
    Conflict: REFUSED,
    NotFound: NOT_FOUND,
    Unavailable: BROKEN,
    StoreMisconfigured: BAD_INPUT,  # the user typed the URL (or its variable)
    InvalidDefinition: BROKEN,
    ReplayRefused: BROKEN,
    DeliveryError: BROKEN,
}


def exit_code(error: TatulasuError) -> int:
    return nearest(CODES, error)


def fail(message: str, code: int) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {message}", markup=True
    )
    return typer.Exit(code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn tatulasu's own errors raised by a command into one line and an exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TatulasuError as exc:
            raise fail(_escape(str(exc)), exit_code(exc)) from None

    return run


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
