"""What the code needs to know of events and states is declared in the lifecycle file.

The code finds the reminder, the escalation, the agreement, the delivery receipt, the
counted events, the reconciled state and the events that open a case by their kind in
the file, never by name: a version that renames an event cannot silently break the
report, the clock or the dispatcher. A file that lacks a kind, or doubles one, is
refused at load, naming what is wrong.
"""

from __future__ import annotations

import ast
import copy
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import states
from states import vocabulary
from states.definition import parse
from states.errors import InvalidDefinition

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = Path(states.__file__).parent / "lifecycle_v1.toml"
RAW: dict[str, Any] = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


def test_the_shipped_lifecycle_declares_what_the_code_finds_by_kind() -> None:
    lc = states.current()
    assert lc.event_of_kind("reminder") == "remind"
    assert lc.event_of_kind("escalation") == "escalate"
    assert lc.event_of_kind("agreement_signed") == "reach_agreement"
    assert lc.event_of_kind("delivery_receipt") == "record_delivery"
    assert lc.tally_columns == {
        "record_consultation": "consultations",
        "record_session": "sessions",
        "remind": "reminders",
        "escalate": "escalations",
    }
    assert lc.expiry_moves == {"fail", "no_consent"}
    assert lc.state_of_kind("reconciled") == "settled"
    assert lc.state_of_kind("returned") == "returned_to_bailiff"
    assert lc.state_of_kind("awaiting_approval") == "agreement"
    assert {role: lc.opening_event_for(role) for role in ("party", "coordinator", "court",
            "bailiff", "mediator")} == {
        "party": "refer", "coordinator": "refer", "court": "court_refer",
        "bailiff": "refer_enforcement", "mediator": None,
    }  # fmt: skip


def test_an_opening_event_says_who_opened_the_case_by_the_role_that_fired_it() -> None:
    lc = states.current()
    refer = lc.events["refer"].opens
    assert refer is not None
    assert (refer.origin_for("party"), refer.origin_for("coordinator")) == ("party", "centre")
    assert refer.origin_for("mediator") == ""  # may not open it: the engine refuses
    enforcement = lc.events["refer_enforcement"].opens
    assert enforcement is not None and enforcement.proceeding
    assert enforcement.parties == ("debtor", "creditor")
    assert enforcement.procedure == "enforcement_reconciliation"


def test_every_term_fires_its_reminders_by_the_lifecycles_reminder_event() -> None:
    lc = states.current()
    terms = [s.term for s in lc.states.values() if s.term is not None]
    assert terms and {t.reminder_event for t in terms} == {lc.event_of_kind("reminder")}


def _without_kind(kind: str) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        for spec in raw["events"].values():
            if spec.get("kind") == kind:
                del spec["kind"]

    return change


@pytest.mark.parametrize("kind", sorted(vocabulary.SINGLE_EVENT_KINDS))
def test_a_lifecycle_without_an_event_of_a_needed_kind_is_refused(kind: str) -> None:
    with pytest.raises(InvalidDefinition, match=f"exactly one event must be of kind '{kind}'"):
        parse(broken(_without_kind(kind)))


def test_two_events_of_a_single_kind_are_refused_naming_both() -> None:
    raw = broken(lambda r: r["events"]["escalate"].update(kind="agreement_signed"))
    with pytest.raises(InvalidDefinition, match="found 2: reach_agreement, escalate"):
        parse(raw)


def test_two_states_of_one_kind_are_refused() -> None:
    raw = broken(lambda r: r["states"]["judgment"].update(kind="reconciled"))
    with pytest.raises(InvalidDefinition, match="at most one state may be of kind 'reconciled'"):
        parse(raw)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda r: r["events"]["record_session"].update(kind="chat"), "unknown kind"),
        (lambda r: r["states"]["court"].update(kind="lost"), "unknown kind"),
        (lambda r: r["events"]["refer"].pop("opens"), "opens a case: say what it opens"),
        (
            lambda r: r["events"]["accept"].update(
                opens={"origin": "party", "procedure": "participatory"}
            ),
            "has opens but does not leave 'new'",
        ),
        (lambda r: r["events"]["court_refer"]["opens"].update(origin="judge"), "unknown origins"),
        (
            lambda r: r["events"]["refer"]["opens"].update(origin={"party": "party"}),
            "origin must name each of the roles",
        ),
        (
            lambda r: r["events"]["refer"]["opens"].update(procedure="arbitration"),
            "procedure must be one of",
        ),
        (
            lambda r: r["events"]["refer_enforcement"]["opens"].update(parties=["heir"]),
            "unknown party roles",
        ),
        (lambda r: r["events"]["refer"]["opens"].update(speed="fast"), "unknown keys"),
        (
            lambda r: r["events"]["court_refer"].update(roles=["court", "bailiff"]),
            "role 'bailiff' already opens cases by 'court_refer'",
        ),
    ],
)
def test_a_wrong_kind_or_opening_is_refused_by_name(
    change: Callable[[dict[str, Any]], None], refusal: str
) -> None:
    with pytest.raises(InvalidDefinition, match=refusal):
        parse(broken(change))


# --------------------------------------------------------------- no names in the code

# Code that may name events and states: the demo plays a year of this lifecycle, and the
# migrations are frozen history (0004 filled the tallies by the names of its day).
ALLOWED = ("tatulasu/demo/", "workflow/migrations/versions/")
# Words that are events' or states' names and also the vocabulary's (a role, a
# procedure): the code says them for what they are there.
SHARED_WORDS = vocabulary.ROLES | vocabulary.PROCEDURES | vocabulary.RECIPIENTS


def _names() -> set[str]:
    found: set[str] = set()
    for version in states.versions():
        lc = states.get(version)
        found |= set(lc.events) | set(lc.states)
    return found - SHARED_WORDS


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """The string constants of a module, but for documentation (OpenAPI `examples=…`)
    and, in the lifecycle's parser, the keys of the file it reads (`spec.get("remind")`:
    the term's key that lists whom to remind, not the event)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "examples":
            skipped |= {id(n) for n in ast.walk(node.value)}
        if _reads_a_key(node):
            skipped.add(id(node.args[0]))  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
        ):
            yield node.lineno, node.value


def _reads_a_key(node: ast.AST) -> bool:
    """`spec.get("…")` or `raw.get("…")`: the parser reading a key of the file."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
        return False
    receiver = node.func.value
    return (
        node.func.attr == "get"
        and isinstance(receiver, ast.Name)
        and receiver.id in ("spec", "raw")
    )


def _code() -> Iterator[Path]:
    for room in ("workflow", "tasks", "tatulasu", "states"):
        for path in sorted((ROOT / room).rglob("*.py")):
            if not str(path.relative_to(ROOT)).startswith(ALLOWED):
                yield path


def test_the_code_names_no_event_and_no_state_of_the_lifecycle() -> None:
    names = _names()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in _code()
        for line, text in _literals(path)
        if text in names
    ]
    assert found == []


def test_the_templates_name_no_event_and_no_state_either() -> None:
    names = _names()
    found = [
        f"{path.relative_to(ROOT)}: {name!r}"
        for path in sorted((ROOT / "tatulasu/web/templates").glob("*.html"))
        for name in sorted(names)
        if f'"{name}"' in (text := path.read_text(encoding="utf-8")) or f"'{name}'" in text
    ]
    assert found == []
