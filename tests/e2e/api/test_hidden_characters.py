"""Names and ids refuse characters that hide or reorder text; every script's letters pass.

A control character, a zero-width character or a bidirectional override in a name or
an id would make what a person reads differ from what was stored. Each is refused with
422 naming the field and the reason, and nothing is written; Kazakh and Russian names
are stored exactly as given.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.api.conftest import Api, Cases, add_people, enforcement_referral
from tests.e2e.api.test_csv_import import ENGLISH, row, upload
from workflow.users import User

HIDDEN = {
    "line feed": ("\n", "a control character (U+000A"),
    "carriage return": ("\r", "a control character (U+000D"),
    "tab": ("\t", "a control character (U+0009"),
    "C1 next line": ("\x85", "a control character (U+0085"),
    "delete": ("\x7f", "a control character (U+007F"),
    "zero-width space": ("\u200b", "a zero-width character (U+200B ZERO WIDTH SPACE"),
    "zero-width joiner": ("\u200d", "a zero-width character (U+200D"),
    "word joiner": ("\u2060", "a zero-width character (U+2060"),
    "byte-order mark": ("\ufeff", "a zero-width character (U+FEFF"),
    "right-to-left override": ("\u202e", "a bidirectional control character (U+202E"),
    "left-to-right embedding": ("\u202a", "a bidirectional control character (U+202A"),
    "first strong isolate": ("\u2068", "a bidirectional control character (U+2068"),
    "pop directional isolate": ("\u2069", "a bidirectional control character (U+2069"),
}
# One of each kind per field (tests/unit/test_names.py tries every character).
ONE_OF_EACH = ["line feed", "tab", "zero-width space", "right-to-left override"]

# Where a referral carries a name or an id, and how to put a value there.
REFERRAL_FIELDS = {
    "parties[0].name": lambda body, value: body["parties"][0].update(name=value),
    "parties[1].name": lambda body, value: body["parties"][1].update(name=value),
    "centre": lambda body, value: body.update(centre=value),
    "enforcement_proceeding": lambda body, value: body.update(enforcement_proceeding=value),
    "proposed_mediator": lambda body, value: body.update(proposed_mediator=value),
}


def assert_refused(answer: Any, field: str, reason: str) -> None:
    assert answer.status_code == 422, answer.text
    doc = answer.json()
    assert doc["field"] == field
    assert reason in doc["detail"] and doc["detail"].startswith(f"{field}: must not contain")


@pytest.mark.parametrize("kind", ONE_OF_EACH)
@pytest.mark.parametrize("field", list(REFERRAL_FIELDS))
def test_a_hidden_character_in_a_referral_is_refused_naming_the_field(
    api: Api, field: str, kind: str
) -> None:
    char, reason = HIDDEN[kind]
    body = enforcement_referral()
    REFERRAL_FIELDS[field](body, f"Dana{char}Mukanova")
    assert_refused(api.post("bailiff-vko", "/cases", json=body), field, reason)
    assert api.get("root", "/cases").json()["total"] == 0


def test_a_hidden_character_in_a_mediator_id_of_an_event_is_refused(api: Api, cases: Cases) -> None:
    for char, reason in HIDDEN.values():
        answer = api.fire("coord-vko", cases.party, "assign_mediator", mediator=f"med{char}vko")
        assert_refused(answer, "payload.mediator", reason)
    assert api.get("root", f"/cases/{cases.party}").json()["version"] == 1


@pytest.mark.parametrize("column", ["debtor_name", "creditor_name", "centre"])
def test_a_hidden_character_in_a_file_row_is_reported_with_its_line(api: Api, column: str) -> None:
    """One good row, then a row per character; a quoted cell keeps its CR or LF."""
    at = ENGLISH.split(",").index(column)
    lines = [ENGLISH, row(0)]
    for n, (char, _) in enumerate(HIDDEN.values(), start=1):
        cells = row(n).split(",")
        cells[at] = f'"{cells[at][:3]}{char}{cells[at][3:]}"'
        lines.append(",".join(cells))
    answer = upload(api, "\n".join(lines) + "\n")
    assert answer.status_code == 422, answer.text
    bad = [(o["line"], e["field"], e["reason"]) for o in answer.json()["outcomes"]
           for e in o["errors"]]  # fmt: skip
    assert [field for _, field, _ in bad] == [column] * len(HIDDEN)
    lines_named = [line for line, _, _ in bad]  # the file's lines: a quoted LF takes two
    assert lines_named[0] == 3 and lines_named == sorted(set(lines_named))
    for (_, _, reason), (_, expected) in zip(bad, HIDDEN.values(), strict=True):
        assert expected in reason
    assert api.get("root", "/cases").json()["total"] == 0


KAZAKH_AND_RUSSIAN = [
    "Әлия Ғабитқызы Қоңырбаева",
    "Өмірзақ Ұлықбек Үсенұлы",
    "Һәмит Ізбасарұлы",
    "Ёлкина Пётр-Мария Ильинична",
    "ТОО «Шығыс Энерджи»",
]


@pytest.mark.parametrize("name", KAZAKH_AND_RUSSIAN)
def test_kazakh_and_russian_names_are_stored_as_given(api: Api, name: str) -> None:
    centre = "Өскемен «Татуласу» орталығы"
    add_people(api.wired, (User("coord-kk", "Үйлестіруші", "coordinator", "VKO", centre),))
    body = enforcement_referral()
    body["parties"][0]["name"] = name
    body["centre"] = centre
    case_id = api.refer("bailiff-vko", body)
    case = api.get("root", f"/cases/{case_id}?unmasked=true&reason=test").json()
    assert name in {p["name"] for p in case["parties"]}
    assert case["centre"] == "Өскемен «Татуласу» орталығы"
