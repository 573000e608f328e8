"""The lifecycle in words: the committed texts are what the engine's lifecycle says.

`docs/lifecycle.md` (English), `docs/lifecycle.ru.md` and `docs/lifecycle.kk.md` are
written by `tatulasu lifecycle describe`; a change of the lifecycle file that is not
written out again fails here, so the text a lawyer checks never drifts from the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import states
from tatulasu.cli import app
from tatulasu.lifecycle_text import describe

ROOT = Path(__file__).resolve().parents[2]
DOCS = {"en": "docs/lifecycle.md", "ru": "docs/lifecycle.ru.md", "kk": "docs/lifecycle.kk.md"}


@pytest.mark.parametrize("language", sorted(DOCS))
def test_the_committed_text_is_the_one_the_lifecycle_writes(language: str) -> None:
    committed = (ROOT / DOCS[language]).read_text(encoding="utf-8")
    assert committed == describe(states.current(), language), (
        f"run: tatulasu lifecycle describe --language {language} --output {DOCS[language]}"
    )


@pytest.mark.parametrize("language", sorted(DOCS))
def test_every_stage_its_term_its_source_and_its_expiry_are_told(language: str) -> None:
    lc = states.current()
    text = describe(lc, language)
    for spec in lc.states.values():
        if spec.name == lc.initial:
            assert f"`{spec.name}`" not in text  # not a stage a case is ever at
            continue
        assert f"## {spec.titles[language]}\n\n`{spec.name}`" in text
        if spec.term is not None:
            assert spec.term.titles[language] in text and spec.term.source in text
            for step in spec.term.on_expiry:
                assert lc.events[step.event].titles[language] in text


def test_the_russian_text_counts_days_as_russian_does() -> None:
    text = describe(states.current(), "ru")
    assert "3 рабочих дня, со дня поступления дела на эту стадию" in text
    assert "10 календарных дней" in text
    assert "через 2 рабочих дня: Срок истёк" in text
    assert "Здесь дело завершается." in text


def stage(state: str, language: str) -> str:
    """The text of one stage of the current lifecycle, in `language`."""
    lc = states.current()
    text = describe(lc, language)
    return text.split("## " + lc.states[state].titles[language])[1].split("\n## ")[0]


def test_a_stage_lists_what_people_may_do_there_but_not_the_clocks_own_steps() -> None:
    lc = states.current()
    pre_trial = stage("pre_trial", "en")
    assert "(coordinator, mediator) → " + lc.states["in_mediation"].titles["en"] in pre_trial
    assert "- " + lc.events["remind"].titles["en"] not in pre_trial  # told under the term
    offer = stage("offer_received", "en")
    assert "Reminders, days before it runs out: 3, 1; to: mediator, party" in offer
    assert "moves to the next working day" in offer


def test_a_waiting_period_is_told_apart_from_a_deadline() -> None:
    approved = stage("approved", "ru")
    assert "Период ожидания, а не срок" in approved
    assert "ruling_prepared_on" in approved


def test_the_command_knows_the_languages_of_the_catalogues() -> None:
    from tatulasu import lifecycle_commands
    from tatulasu.web import i18n

    assert set(lifecycle_commands.LANGUAGES) == set(i18n.LANGUAGES)


def test_the_command_writes_the_text_and_refuses_a_language_it_lacks(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "lifecycle.md"
    done = runner.invoke(app, ["lifecycle", "describe", "--language", "kk", "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8") == describe(states.current(), "kk")
    shown = runner.invoke(app, ["lifecycle", "describe", "--language", "en"])
    assert shown.exit_code == 0 and shown.stdout == describe(states.current(), "en")
    refused = runner.invoke(app, ["lifecycle", "describe", "--language", "de"])
    assert refused.exit_code == 2 and "--language" in refused.stderr
    unknown = runner.invoke(app, ["lifecycle", "describe", "--lifecycle-version", "99"])
    assert unknown.exit_code == 2 and "no lifecycle version 99" in unknown.stderr
