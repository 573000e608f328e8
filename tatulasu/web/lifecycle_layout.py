"""The lifecycle drawn without Graphviz: states in columns, arrows between them.

Graphviz made a drawing three screens tall whose labels overlapped, and the server
rarely has it. Here the layout is computed in Python and drawn as inline SVG by the
template: a state's column is its distance from the initial state over the moves that
change the state (the final states share the last column, where a reader looks for the
outcomes), and within a column the states are ordered by the rows of the states that
lead to them, so that arrows cross less. Only the boxes carry text, each title wrapped
to the box, so no two labels can meet; the events are named in the list under the
drawing ("state → event → next state"), which is also what a screen reader reads.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from states import Lifecycle
from tatulasu.web.charts import short

BOX_WIDTH = 200  # the widest a box is drawn; narrower when many columns must fit
GAP_X = 64  # between columns: room for the arrows
MIN_GAP_X = 40
FIT_WIDTH = 1366 - 48  # a desktop page less its margins: the drawing never scrolls there
LETTER = 7.2  # a generous width of one letter at 12 px, Cyrillic included
GAP_Y = 18
LINE = 16  # one line of a title
PAD = 8
CHARS = 24  # characters of a title on one line of a box (12 px; about 7 px a letter)
MAX_LINES = 4
MARGIN = 12


@dataclass(frozen=True)
class Box:
    """A state's rectangle, with its title broken into lines."""

    state: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    terminal: bool
    initial: bool

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x + self.width <= other.x
            or other.x + other.width <= self.x
            or self.y + self.height <= other.y
            or other.y + other.height <= self.y
        )


@dataclass(frozen=True)
class Arrow:
    """A move from one state to another, as an SVG path (`d`)."""

    source: str
    target: str
    path: str
    back: bool  # it goes to an earlier column (or its own): drawn dashed


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


def moves(lc: Lifecycle) -> list[tuple[str, str]]:
    """Each (state, next state) pair some event leads along, once, in definition order."""
    seen: dict[tuple[str, str], None] = {}
    for event in lc.events.values():
        for route in event.routes:
            for source in route.sources:
                if route.target is not None and route.target != source:
                    seen.setdefault((source, route.target), None)
    return list(seen)


def columns(lc: Lifecycle) -> list[list[str]]:
    """The states by distance from the initial one; the final states in the last column."""
    edges = moves(lc)
    distance = {lc.initial: 0}
    queue = deque([lc.initial])
    while queue:
        state = queue.popleft()
        for source, target in edges:
            if source == state and target not in distance:
                distance[target] = distance[state] + 1
                queue.append(target)
    final = [s for s in lc.states if lc.states[s].terminal]
    working = [s for s in lc.states if s not in final]
    count = 1 + max((distance.get(s, 0) for s in working), default=0)
    found: list[list[str]] = [[] for _ in range(count)]
    for state in working:  # a state no move reaches stays in the first column
        found[distance.get(state, 0)].append(state)
    return [c for c in found if c] + ([final] if final else [])


def wrap(text: str, width: int = CHARS, most: int = MAX_LINES) -> tuple[str, ...]:
    """`text` in lines of at most `width` characters, words kept whole; "…" when cut."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word if len(word) <= width else word[: width - 1] + "…")
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return tuple(lines) or ("",)


def layout(lc: Lifecycle, language: str) -> Drawing:
    """Where each state's box goes and the path of each arrow, for `language`'s titles."""
    cols = _ordered(columns(lc), moves(lc))
    box_width, gap = _fitted(len(cols))
    chars = int((box_width - 2 * PAD) / LETTER)
    boxes: dict[str, Box] = {}
    for i, column in enumerate(cols):
        y = float(MARGIN)
        for state in column:
            spec = lc.states[state]
            lines = wrap(short(spec.titles.get(language, spec.title)), chars)
            tall = len(lines) * LINE + 2 * PAD
            boxes[state] = Box(
                state, MARGIN + i * (box_width + gap), y, box_width, tall, lines,
                spec.terminal, state == lc.initial,
            )  # fmt: skip
            y += tall + GAP_Y
    width = MARGIN * 2 + len(cols) * box_width + (len(cols) - 1) * gap
    height = max(b.y + b.height for b in boxes.values()) + MARGIN
    column_of = {s: i for i, c in enumerate(cols) for s in c}
    arrows = tuple(_arrows(moves(lc), boxes, column_of))
    return Drawing(width, height, tuple(boxes.values()), arrows)


def _fitted(count: int) -> tuple[int, int]:
    """The boxes' width and the gap between columns for `count` columns to fit the page:
    the gap narrows first, then the boxes (their titles wrap to more lines)."""
    room = FIT_WIDTH - 2 * MARGIN
    for gap in (GAP_X, MIN_GAP_X):
        width = (room - (count - 1) * gap) // count
        if width >= BOX_WIDTH:
            return BOX_WIDTH, gap
    return max(int(width), 120), MIN_GAP_X


def _ordered(cols: list[list[str]], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Each column ordered by the mean row of the states leading to it (fewer crossings)."""
    row = {s: float(i) for i, s in enumerate(cols[0])}
    out = [cols[0]]
    for column in cols[1:]:

        def rank(state: str) -> float:
            rows = [row[s] for s, t in edges if t == state and s in row]
            return sum(rows) / len(rows) if rows else float("inf")

        ordered = sorted(column, key=lambda s: (rank(s), column.index(s)))
        row.update({s: float(i) for i, s in enumerate(ordered)})
        out.append(ordered)
    return out


def _port(box: Box, index: int, count: int) -> float:
    """The height on `box`'s side where the `index`-th of `count` arrows meets it."""
    return box.y + box.height * (index + 1) / (count + 1)


def _arrows(
    edges: list[tuple[str, str]], boxes: dict[str, Box], column_of: dict[str, int]
) -> list[Arrow]:
    """Forward arrows leave a box's right side and enter the next one's left side, each at
    its own height (ordered by where the other end is, so they do not cross at the box);
    an arrow back (to an earlier column or its own) goes round below, dashed."""
    forward = [(s, t) for s, t in edges if column_of[t] > column_of[s]]
    outgoing = {
        s: sorted((t for a, t in forward if a == s), key=lambda t: boxes[t].y) for s, _ in forward
    }
    incoming = {
        t: sorted((a for a, b in forward if b == t), key=lambda a: boxes[a].y) for _, t in forward
    }
    found = []
    for source, target in edges:
        a, b = boxes[source], boxes[target]
        if (source, target) in forward:
            x1 = a.x + a.width
            y1 = _port(a, outgoing[source].index(target), len(outgoing[source]))
            x2 = b.x
            y2 = _port(b, incoming[target].index(source), len(incoming[target]))
            bend = (x2 - x1) / 2
            path = f"M{x1:g},{y1:g} C{x1 + bend:g},{y1:g} {x2 - bend:g},{y2:g} {x2:g},{y2:g}"
            found.append(Arrow(source, target, path, back=False))
        else:
            x1, y1 = a.x + a.width * 0.35, a.y + a.height
            x2, y2 = b.x + b.width * 0.65, b.y + b.height
            low = max(y1, y2) + GAP_Y * 0.8
            path = f"M{x1:g},{y1:g} C{x1:g},{low:g} {x2:g},{low:g} {x2:g},{y2:g}"
            found.append(Arrow(source, target, path, back=True))
    return found
