"""The lifecycle's drawing: every state placed, no two titles on top of each other."""

from __future__ import annotations

import itertools

import pytest

import states
from tatulasu.web.lifecycle_layout import CHARS, PAD, columns, layout, moves, wrap

LETTER = 7.2  # a generous width of one letter at 12 px, Cyrillic included


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_no_two_state_boxes_overlap_and_each_title_fits_its_box(language: str) -> None:
    lc = states.current()
    drawing = layout(lc, language)
    assert {b.state for b in drawing.boxes} == set(lc.states)
    for a, b in itertools.combinations(drawing.boxes, 2):
        assert not a.overlaps(b), (a.state, b.state)
    for box in drawing.boxes:
        assert box.x >= 0 and box.x + box.width <= drawing.width
        assert box.y >= 0 and box.y + box.height <= drawing.height
        assert all(len(line) * LETTER <= box.width - 2 * PAD for line in box.lines), box.lines


def test_the_drawing_fits_a_desktop_page_without_scrolling() -> None:
    drawing = layout(states.current(), "ru")
    assert drawing.width <= 1366 - 48  # the page's width less its margins
    assert drawing.height <= 600


def test_states_are_in_columns_by_distance_and_the_final_ones_last() -> None:
    lc = states.current()
    found = columns(lc)
    assert found[0] == [lc.initial]
    assert set(found[-1]) == {s for s, spec in lc.states.items() if spec.terminal}
    assert sum(len(c) for c in found) == len(lc.states)


def test_every_move_that_changes_the_state_is_drawn_once() -> None:
    lc = states.current()
    drawing = layout(lc, "kk")
    drawn = [(a.source, a.target) for a in drawing.arrows]
    assert sorted(drawn) == sorted(moves(lc)) and len(set(drawn)) == len(drawn)
    assert ("agreement", "court_conciliation") in drawn  # a rejection goes back
    assert next(
        a for a in drawing.arrows if a.target == "court_conciliation" and a.source == "agreement"
    ).back


def test_a_long_title_is_wrapped_at_words_and_cut_with_an_ellipsis() -> None:
    lines = wrap("один " * 40)
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert all(len(line) <= CHARS for line in lines)
    assert wrap("Урегулировано") == ("Урегулировано",)
