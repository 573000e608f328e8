"""The words a lifecycle may use (states.vocabulary) and the engine that implements them agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

import states
from states import vocabulary
from workflow import effects, rules
from workflow.calendar import BusinessCalendar
from workflow.errors import InvalidField

NOW = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)
LC = states.current()


def _row(**overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "state": "in_mediation",
        "term_due_at": NOW + timedelta(days=20),
        "term_days_left": 5,
        "extensions_used": 0,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_every_guard_in_the_vocabulary_is_implemented_and_no_other() -> None:
    assert set(rules.GUARDS) == set(vocabulary.GUARDS)


def test_every_guard_the_shipped_definition_uses_is_in_the_vocabulary() -> None:
    used = {g for e in LC.events.values() for r in e.routes for g in r.guards}
    assert used <= vocabulary.GUARDS


def _before(payload: dict[str, Any]) -> effects.Before:
    row = _row()
    return effects.Before(row, LC.states[row.state].term, payload, NOW, BusinessCalendar())


def test_the_effects_table_is_the_vocabulary() -> None:
    assert set(effects.EFFECTS) == set(vocabulary.EFFECTS)


@pytest.mark.parametrize("effect", sorted(vocabulary.EFFECTS))
def test_every_effect_in_the_vocabulary_is_handled_by_the_engine(effect: str) -> None:
    payload = {"mediator": "m-2", "bailiff": "b-2", "court": "c-2", "procedure": "participatory"}
    values = effects.apply(effect, _before(payload))
    assert isinstance(values, dict)
    assert values, f"effect {effect!r} changed nothing"


def test_an_effect_outside_the_vocabulary_is_not_silently_ignored() -> None:
    with pytest.raises(AssertionError, match="not implemented"):
        effects.apply("teleport", _before({}))


def test_every_field_type_in_the_vocabulary_is_checked() -> None:
    samples = {
        "text": "ok",
        "date": "2024-04-20",
        "procedure": "mediation_public",
        "reason": "no_agreement",
        "receipts": [
            {"key": "1:2:party:3", "channel": "sms", "status": "delivered", "reference": "g-1"}
        ],
    }
    assert set(samples) == set(vocabulary.FIELD_TYPES)
    spec = LC.events["fail"]
    for kind, value in samples.items():
        assert rules._check_field("f", kind, value, spec, LC.reasons, date(2024, 4, 22)) == value


def test_every_role_recipient_and_procedure_the_definition_names_is_in_the_vocabulary() -> None:
    assert {r for e in LC.events.values() for r in e.roles} <= vocabulary.ROLES
    assert {n for e in LC.events.values() for n in e.notify} <= vocabulary.RECIPIENTS
    assert vocabulary.RECIPIENTS <= vocabulary.ROLES


def test_procedure_fields_only_take_procedures_of_the_vocabulary() -> None:
    spec = LC.events["refer_to_mediation"]
    with pytest.raises(InvalidField, match="is not one of"):
        rules.validate_payload(spec, LC.reasons, {"procedure": "trial_by_combat"}, NOW.date())
