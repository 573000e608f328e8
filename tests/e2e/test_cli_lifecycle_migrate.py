"""`tatulasu lifecycle migrate`: a deployment's version 1 cases moved from the command line.

The cases are opened by the CLI under version 1 (`TATULASU_LIFECYCLE_VERSION=1`, as a
deployment that held the new version back); the dry run prints what would change and
writes nothing; the move prints the same, records the move in the case's history, and
`audit verify` stays green; a wrong version is one line on stderr.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.lifecycle(1)


def test_the_dry_run_then_the_move_of_an_open_case(initialised: Run, opened_case: int) -> None:
    run, case = initialised, str(opened_case)
    assert as_json(run("show", case, "--json"))["definition_version"] == 1
    dry = run("lifecycle", "migrate", "--from", "1", "--to", "2", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would move 1 open case(s)" in dry.stdout
    assert f"case {case}: pre_trial -> offer_sent (rule pre_trial, terms restarted)" in dry.stdout
    assert as_json(run("show", case, "--json"))["definition_version"] == 1  # nothing written

    moved = as_json(
        run("lifecycle", "migrate", "--from", "1", "--to", "2", "--actor", "ops-1", "--json")
    )
    assert (moved["moved"], moved["unplaced"], moved["dry_run"]) == (1, [], False)
    assert moved["rules"] == [
        {"rule": "pre_trial", "from_state": "pre_trial", "to_state": "offer_sent",
         "terms": "restarted", "cases": 1},
    ]  # fmt: skip
    shown = as_json(run("show", case, "--json"))
    assert (shown["definition_version"], shown["state"]) == (2, "offer_sent")
    last = as_json(run("history", case, "--json"))[-1]
    assert (last["event"], last["actor"], last["role"]) == ("change_lifecycle", "ops-1", "admin")
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.stdout + verified.stderr

    again = run("lifecycle", "migrate", "--from", "1", "--to", "2")
    assert again.exit_code == 0 and "moved 0 open case(s)" in again.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "7", "--to", "2"], "--from"),
        (["--from", "2", "--to", "2"], "declares no move from version 2"),
        (["--from", "1", "--to", "2", "--case", "999"], "case 999"),
    ],
)
def test_a_wrong_request_is_one_line_and_changes_nothing(
    initialised: Run, args: list[str], says: str
) -> None:
    done = initialised("lifecycle", "migrate", *args)
    assert done.exit_code in (2, 4), done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
