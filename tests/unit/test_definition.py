"""Loading a lifecycle definition: the shipped one loads, broken ones are refused by name."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import states
from states.definition import load, parse
from states.errors import InvalidDefinition

SHIPPED = Path(states.__file__).parent / "lifecycle_v1.toml"
RAW: dict[str, Any] = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def titled(text: str) -> dict[str, str]:
    """A title in every language the definition asks for."""
    return {"en": text, "ru": text, "kk": text}


def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


def test_the_shipped_definition_loads() -> None:
    lc = load(SHIPPED)
    assert lc.version == 1
    assert lc.initial == "new"
    assert set(lc.opening_events()) == {"refer", "court_refer", "refer_enforcement"}
    assert {s for s, spec in lc.states.items() if spec.terminal} == {
        "settled",
        "closed_no_agreement",
        "judgment",
        "returned_to_bailiff",
        "withdrawn",
    }


def test_the_package_serves_the_shipped_definition_as_current() -> None:
    assert states.versions() == [1, 2]
    assert states.current() is states.get(2)  # new cases open under the newest
    with pytest.raises(InvalidDefinition, match="no such lifecycle"):
        states.get(99)


def test_star_in_from_means_every_open_state_but_not_the_initial_or_terminal_ones() -> None:
    lc = states.get(1)
    withdraw_from = lc.events["withdraw"].sources()
    assert withdraw_from == frozenset(lc.open_states())
    assert "new" not in withdraw_from
    assert "settled" not in withdraw_from


def test_terms_of_the_shipped_definition_are_data_with_their_source() -> None:
    lc = states.get(1)
    expected = {
        "referred": (3, "working"),
        "pre_trial": (10, "calendar"),
        "in_mediation": (30, "calendar"),
        "court_conciliation": (10, "working"),
        "enforcement_reconciliation": (30, "calendar"),
        "agreement": (10, "working"),
    }
    found = {
        name: (s.term.days, s.term.counted_in)
        for name, s in lc.states.items()
        if s.term is not None
    }
    assert found == expected
    assert all(s.term.source for s in lc.states.values() if s.term is not None)
    mediation = lc.states["in_mediation"].term
    assert mediation is not None and mediation.extension is not None
    assert (mediation.extension.days, mediation.extension.times) == (30, 1)


def _reject(raw: dict[str, Any], where: str, reason: str) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        parse(raw, source="broken.toml")
    assert caught.value.source == "broken.toml"
    assert caught.value.where == where, caught.value
    assert reason in caught.value.reason, caught.value
    assert str(caught.value).startswith(f"broken.toml: {where}: ")


def test_an_unknown_state_in_from_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["accept"].update({"from": ["refered"]}))
    _reject(raw, "event 'accept'", "unknown state 'refered'")


def test_an_unknown_state_in_to_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["accept"].update({"to": "pretrial"}))
    _reject(raw, "event 'accept'", "unknown state 'pretrial'")


def test_an_unknown_state_in_a_route_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["fail"]["routes"][0].update({"to": "courtroom"}))
    _reject(raw, "event 'fail'", "unknown state 'courtroom'")


def test_an_unreachable_state_is_rejected_naming_it() -> None:
    raw = broken(
        lambda r: r["states"].update({"archived": {"title": titled("x"), "terminal": True}})
    )
    _reject(raw, "state 'archived'", "unreachable")


def test_a_terminal_state_with_an_exit_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["judge"].update({"from": ["court", "settled"]}))
    _reject(raw, "event 'judge'", "terminal state 'settled' cannot have an exit")


def test_a_terminal_state_with_a_term_is_rejected() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["settled"]["term"] = copy.deepcopy(r["states"]["pre_trial"]["term"])

    _reject(broken(change), "state 'settled'", "terminal state cannot have a term")


def _add_limbo(r: dict[str, Any]) -> None:
    """A non-terminal state `limbo` entered from pre_trial; "*" would give it a way out."""
    r["events"]["withdraw"]["from"] = states.get(1).open_states()
    r["states"]["limbo"] = {"title": titled("no way out")}
    r["events"]["park"] = {
        "from": ["pre_trial"],
        "to": "limbo",
        "roles": ["coordinator"],
        "title": titled("park"),
    }


def test_a_non_terminal_dead_end_is_rejected_naming_the_state() -> None:
    _reject(broken(_add_limbo), "state 'limbo'", "not terminal but has no way out")


def test_star_events_give_every_open_state_a_way_out() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["limbo"] = {"title": titled("left only by withdrawal")}
        r["events"]["park"] = {
            "from": ["pre_trial"],
            "to": "limbo",
            "roles": ["coordinator"],
            "title": titled("park"),
        }

    assert "limbo" in parse(broken(change)).events["withdraw"].sources()


def test_a_state_whose_only_events_stay_put_is_a_dead_end() -> None:
    def change(r: dict[str, Any]) -> None:
        _add_limbo(r)
        r["events"]["note"] = {"from": ["limbo"], "roles": ["coordinator"]}

    _reject(broken(change), "state 'limbo'", "no way out")


def test_an_unknown_guard_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["extend"].update({"guards": ["full_moon"]}))
    _reject(raw, "event 'extend'", "unknown guards ['full_moon']")


def test_an_unknown_effect_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["extend"].update({"effects": ["close_all_cases"]}))
    _reject(raw, "event 'extend'", "unknown effects ['close_all_cases']")


def test_an_unknown_effect_in_a_route_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["fail"]["routes"][1].update({"effects": ["resume_all"]}))
    _reject(raw, "event 'fail'", "unknown effects ['resume_all']")


def test_an_unknown_role_is_rejected_naming_the_event() -> None:
    raw = broken(lambda r: r["events"]["approve"].update({"roles": ["court", "king"]}))
    _reject(raw, "event 'approve'", "unknown roles ['king']")


def test_a_route_role_the_event_does_not_have_is_rejected() -> None:
    def change(r: dict[str, Any]) -> None:
        r["events"]["assign_mediator"]["routes"][0]["roles"] = ["bailiff"]

    _reject(broken(change), "event 'assign_mediator'", "route roles ['bailiff']")


def test_an_unknown_party_role_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["withdraw"].update({"parties": ["claimant", "heir"]}))
    _reject(raw, "event 'withdraw'", "unknown party roles ['heir']")


def test_party_roles_on_an_event_no_party_fires_are_rejected() -> None:
    raw = broken(lambda r: r["events"]["accept"].update({"parties": ["claimant"]}))
    _reject(raw, "event 'accept'", "parties narrows the role 'party'")


def test_an_event_without_roles_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["approve"].update({"roles": []}))
    _reject(raw, "event 'approve'", "at least one role")


def test_an_unknown_recipient_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["approve"].update({"notify": ["party", "press"]}))
    _reject(raw, "event 'approve'", "unknown recipients ['press']")


def test_an_unknown_field_type_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["approve"].update({"payload": {"ruling_ref": "blob"}}))
    _reject(raw, "event 'approve'", "unknown field types")


def test_an_unknown_reason_list_is_rejected() -> None:
    raw = broken(lambda r: r["events"]["decline"].update({"reasons": "excuses"}))
    _reject(raw, "event 'decline'", "unknown reason list 'excuses'")


def test_an_expiry_event_that_cannot_fire_from_its_state_is_rejected() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["pre_trial"]["term"]["on_expiry"][0]["event"] = "approve"

    _reject(broken(change), "state 'pre_trial' term", "expiry event 'approve' cannot fire here")


def test_an_expiry_event_that_does_not_exist_is_rejected() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["pre_trial"]["term"]["on_expiry"][0]["event"] = "give_up"

    _reject(broken(change), "state 'pre_trial' term", "expiry event 'give_up' cannot fire here")


def test_an_expiry_event_the_system_role_may_not_fire_is_rejected() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["referred"]["term"]["on_expiry"][0]["event"] = "decline"

    _reject(broken(change), "event 'decline'", "system role must be allowed")


def test_a_term_without_expiry_steps_is_rejected() -> None:
    raw = broken(lambda r: r["states"]["pre_trial"]["term"].update({"on_expiry": []}))
    _reject(raw, "state 'pre_trial' term", "on_expiry")


@pytest.mark.parametrize("days_before", [0, 10, 11, -1])
def test_a_reminder_outside_the_term_is_rejected(days_before: int) -> None:
    raw = broken(lambda r: r["states"]["pre_trial"]["term"].update({"reminders": [days_before]}))
    _reject(raw, "state 'pre_trial' term", f"reminder {days_before} days before")


@pytest.mark.parametrize("counted_in", ["weekdays", "", None])
def test_a_term_counted_in_unknown_days_is_rejected(counted_in: str | None) -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["pre_trial"]["term"]["counted_in"] = counted_in

    _reject(broken(change), "state 'pre_trial' term", "counted_in must be one of")


@pytest.mark.parametrize("days", [0, -3, "10"])
def test_a_term_of_no_days_is_rejected(days: object) -> None:
    raw = broken(lambda r: r["states"]["pre_trial"]["term"].update({"days": days}))
    _reject(raw, "state 'pre_trial' term", "days must be a whole number")


def test_an_initial_state_that_is_not_declared_is_rejected() -> None:
    _reject(broken(lambda r: r.update({"initial": "start"})), "initial", "'start'")


@pytest.mark.parametrize("version", [0, "1", None])
def test_a_missing_or_bad_version_is_rejected(version: object) -> None:
    _reject(broken(lambda r: r.update({"version": version})), "version", "whole number")


def test_a_file_that_is_not_toml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "lifecycle_v2.toml"
    path.write_text("version = 2\n[states\n", encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load(path)
    assert caught.value.where == "file"
    assert "not valid TOML" in caught.value.reason


def test_the_shipped_file_round_trips_through_parse_unchanged() -> None:
    assert parse(copy.deepcopy(RAW)).events.keys() == load(SHIPPED).events.keys()


def test_an_expiry_payload_its_event_would_refuse_is_rejected_on_load() -> None:
    def change(r: dict[str, Any]) -> None:
        r["states"]["pre_trial"]["term"]["on_expiry"][0]["payload"] = {"reason": "bogus"}

    _reject(broken(change), "state 'pre_trial' term", "reason 'bogus' is not in the list")


def test_an_expiry_event_missing_its_required_reason_is_rejected_on_load() -> None:
    def change(r: dict[str, Any]) -> None:
        del r["states"]["in_mediation"]["term"]["on_expiry"][0]["payload"]

    _reject(broken(change), "state 'in_mediation' term", "not accepted")


# ---------------------------------------------------------------------------- guards in words


def test_every_guard_of_the_shipped_file_is_explained_in_english_russian_and_kazakh() -> None:
    lc = states.get(1)
    used = {g for e in lc.events.values() for r in e.routes for g in r.guards}
    assert used <= set(lc.guards)
    for guard in lc.guards.values():
        assert set(guard.needs) == {"en", "ru", "kk"}, guard.name
        assert all(text.strip() for text in guard.needs.values()), guard.name
    assert lc.guards["has_mediator"].explained() == (
        "a mediator assigned first (guard has_mediator): fire assign_mediator"
    )


def test_a_guard_without_an_explanation_is_a_definition_error() -> None:
    _reject(broken(lambda r: r["guards"].pop("has_mediator")), "guard 'has_mediator'",
            "has no explanation")  # fmt: skip


def test_a_guard_explained_in_only_some_languages_is_a_definition_error() -> None:
    raw = broken(lambda r: r["guards"]["is_suspended"]["needs"].pop("kk"))
    _reject(raw, "guard 'is_suspended'", "no explanation in kk")


def test_a_guard_whose_remedy_is_not_an_event_is_a_definition_error() -> None:
    raw = broken(lambda r: r["guards"]["has_mediator"].update({"fire": "find_mediator"}))
    _reject(raw, "guard 'has_mediator'", "unknown event 'find_mediator'")


def test_an_explanation_for_a_guard_outside_the_vocabulary_is_a_definition_error() -> None:
    raw = broken(lambda r: r["guards"].update({"full_moon": {"needs": {"en": "a full moon"}}}))
    _reject(raw, "guard 'full_moon'", "unknown guards ['full_moon']")


# ---------------------------------------------------------------------------- titles


def test_every_item_of_the_shipped_definition_has_a_title_in_each_language() -> None:
    lc = states.get(1)
    assert lc.title_of("state", "returned_to_bailiff", "ru") == (
        "Возвращено судебному исполнителю; исполнительное производство возобновляется"
    )
    assert lc.title_of("term", "mediation", "kk") == "Медиация"
    assert lc.title_of("reason", "no_reply", "en") == "No reply to the offer within the term"
    assert lc.title_of("procedure", "settlement_agreement", "ru") == "Мировое соглашение"
    assert lc.events["refer"].title == lc.title_of("event", "refer", "en")


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (lambda r: r["states"]["court"]["title"].pop("kk"), "state 'court'", "no title in kk"),
        (lambda r: r["events"]["fail"].pop("title"), "event 'fail'", "no title in en, ru, kk"),
        (
            lambda r: r["states"]["pre_trial"]["term"]["title"].update(ru=" "),
            "term 'reply_to_offer'",
            "no title in ru: add title.ru",
        ),
        (
            lambda r: r["reason_titles"].pop("no_reply"),
            "reason 'no_reply'",
            "add [reason_titles] no_reply.en",
        ),
        (
            lambda r: r["procedures"]["participatory"].pop("ru"),
            "procedure 'participatory'",
            "add [procedures] participatory.ru",
        ),
        (lambda r: r["title"].pop("en"), "lifecycle", "no title in en"),
    ],
)
def test_a_missing_title_is_refused_naming_the_item_and_the_language(
    change: Callable[[dict[str, Any]], None], where: str, reason: str
) -> None:
    _reject(broken(change), where, reason)


def test_a_title_in_an_unknown_language_or_for_nothing_is_refused() -> None:
    raw = broken(lambda r: r["states"]["court"]["title"].update(de="Vor Gericht"))
    _reject(raw, "state 'court'", "unknown languages ['de']")
    raw = broken(lambda r: r["reason_titles"].update(no_reason=titled("typo")))
    _reject(raw, "reason 'no_reason'", "no reason is called so")


def test_titles_are_presentation_and_change_no_decision() -> None:
    lc = states.get(1)
    renamed = parse(broken(lambda r: r["events"]["fail"]["title"].update(ru="Провал")))
    assert renamed.table == lc.table
    assert renamed.events["fail"].routes == lc.events["fail"].routes
