"""The shared checks behind names and CSV cells: what is refused, what passes."""

from __future__ import annotations

import csv
import io

import pytest

from workflow import names, spreadsheet
from workflow.errors import InvalidField

CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize(
    "chars, kind",
    [(CONTROLS, "a control character"), (ZERO_WIDTH, "a zero-width character"),
     (BIDI, "a bidirectional control character")],
    ids=["C0 and C1 controls", "zero-width", "bidi overrides and isolates"],
)  # fmt: skip
def test_every_hidden_character_is_refused_with_its_kind_and_position(
    chars: list[str], kind: str
) -> None:
    for char in chars:
        with pytest.raises(InvalidField) as refused:
            names.check("parties[0].name", f"Ab{char}c")
        assert refused.value.field == "parties[0].name"
        assert refused.value.reason.startswith(f"must not contain {kind} (U+{ord(char):04X}")
        assert refused.value.reason.endswith("at position 3)")


@pytest.mark.parametrize(
    "value",
    ["Әлия Ғабитқызы Қоңырбаева", "Өмірзақ Ұлықбек Үсенұлы", "Һәмит Ізбасарұлы",
     "Ёлкина Пётр", "Zhaksybekov-Müller O'Brien", "ТОО «Шығыс Энерджи» №2", "med-7", "A. B."],
)  # fmt: skip
def test_letters_of_every_script_pass(value: str) -> None:
    assert names.fault(value) is None


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_starting_like_a_formula_gets_a_quote(start: str) -> None:
    assert spreadsheet.neutral(f"{start}1+2") == f"'{start}1+2"
    line = spreadsheet.row([f"{start}x", -5, 2.5, None])
    assert next(csv.reader(io.StringIO(line))) == [f"'{start}x", "-5", "2.5", ""]


def test_other_cells_are_written_as_they_are() -> None:
    assert spreadsheet.row(["Өскемен", "a=b", "", 0, "x,y"]) == 'Өскемен,a=b,,0,"x,y"\n'


def test_a_cell_holding_a_carriage_return_is_quoted_so_no_row_starts_inside_it() -> None:
    assert spreadsheet.row(["a\r=1+2", "b\nc", 1]) == '"a\r=1+2","b\nc",1\n'
