"""The CLI refuses names and ids with hidden characters as the API does: exit 2, nothing stored."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CLAIMANT, RESPONDENT, Run


@pytest.mark.parametrize(
    "option, value, field",
    [("--name", "Saule\u202eA.", "name"), ("--id", "coord\u200b1", "id"),
     ("--centre", "Oskemen\ncentre", "centre")],
)  # fmt: skip
def test_a_user_with_a_hidden_character_is_refused_with_exit_2(
    initialised: Run, option: str, value: str, field: str
) -> None:
    given = {"--id": "coord-1", "--name": "Saule A.", "--centre": "Oskemen centre", option: value}
    args = [a for pair in given.items() for a in pair]
    done = initialised("users", "create", *args, "--role", "coordinator", "--region", "VKO")
    assert done.exit_code == 2, done.output
    assert f"{field}: must not contain" in done.stderr
    assert "coord" not in initialised("users", "list").stdout


def test_a_party_name_with_a_bidi_override_is_refused_with_exit_2(initialised: Run) -> None:
    claimant = CLAIMANT.replace("Aigerim Serikova", "Aigerim\u2066Serikova")
    done = initialised(
        "refer", "--actor", "aigerim", "--role", "party", "--region", "VKO",
        "--centre", "Oskemen Tatulasu centre", "--party", claimant, "--party", RESPONDENT,
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "parties[0].name: must not contain a bidirectional control character" in done.stderr


def test_kazakh_names_are_accepted_by_the_cli(initialised: Run) -> None:
    done = initialised(
        "users", "create", "--id", "coord-1", "--name", "Сәуле Әбілқызы Ңұрғалиева",
        "--role", "coordinator", "--region", "VKO", "--centre", "Өскемен орталығы",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
