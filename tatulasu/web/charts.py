"""Bar charts as plain geometry, for a template to draw as inline SVG.

A chart is a handful of rectangles; computing them here keeps the arithmetic out of the
template and testable, and needs no charting library or script in the browser. Each
bar's label is written above it, not beside it, so a chart is narrow (it scales to a
phone's width with its text still readable) and a long Kazakh or Russian label never
runs into its bar. A chart may carry a reference line (the national share reconciled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

LABEL = 16  # height of a label's line above its bar
BAR = 16  # height of a bar
ROW = LABEL + BAR + 8  # one bar's row
PLOT = 300  # width of the longest bar
WIDTH = PLOT + 80  # room for the value after the longest bar
TOP = 20  # above the first row, when a reference line is labelled there


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the value as printed beside the bar
    y: float  # the bar's top; its label's baseline is `LABEL - 4` above it
    width: float


@dataclass(frozen=True)
class Reference:
    """A vertical line at `x` across the chart, named at its top ("national: 61 %")."""

    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one a row, scaled to the largest value (or to `maximum`)."""

    id: str
    title: str
    bars: tuple[Bar, ...]
    reference: Reference | None = None

    width: ClassVar[int] = WIDTH
    bar_height: ClassVar[int] = BAR
    label_height: ClassVar[int] = LABEL

    @property
    def height(self) -> int:
        return self.top + max(1, len(self.bars)) * ROW

    @property
    def top(self) -> int:
        return TOP if self.reference else 0


def short(title: str) -> str:
    """A title up to its first colon or semicolon: "Settled: agreement …" → "Settled"."""
    for mark in (":", ";"):
        title = title.split(mark, 1)[0]
    return title.strip()


def shown(value: float | None, unit: str = "") -> str:
    """A value as printed: one decimal at most, a dash for none."""
    return "—" if value is None else f"{round(value, 1):g}{unit}"


def bar_chart(
    id: str,
    title: str,
    values: Mapping[str, float | None],
    *,
    maximum: float | None = None,
    unit: str = "",
    reference: tuple[float, str] | None = None,
) -> BarChart:
    """`values` in order; None is drawn as no bar and printed as a dash.

    `reference` (value, label) draws a line at that value, on the same scale.
    """
    top = maximum if maximum is not None else max((v or 0 for v in values.values()), default=0)
    if reference is not None and maximum is None:
        top = max(top, reference[0])
    start = TOP if reference else 0
    bars = tuple(
        Bar(
            label=label,
            shown=shown(value, unit),
            y=start + i * ROW + LABEL,
            width=round(PLOT * (value or 0) / top, 1) if top else 0.0,
        )
        for i, (label, value) in enumerate(values.items())
    )
    line = None
    if reference is not None and top:
        line = Reference(round(PLOT * reference[0] / top, 1), reference[1])
    return BarChart(id=id, title=title, bars=bars, reference=line)


# A trend: one row a month, two thin bars in it (referrals, agreements).
MONTH = 64  # width of the month's label on the left
PAIR_BAR = 10
PAIR_ROW = 2 * PAIR_BAR + 8
PAIR_PLOT = 250
LEGEND = 22


@dataclass(frozen=True)
class Pair:
    label: str
    y: float
    widths: tuple[float, float]
    shown: tuple[str, str]


@dataclass(frozen=True)
class TrendChart:
    """Two series by month, drawn side by side in each month's row, with a legend."""

    id: str
    title: str
    names: tuple[str, str]
    rows: tuple[Pair, ...]

    width: ClassVar[int] = MONTH + PAIR_PLOT + 50
    label_width: ClassVar[int] = MONTH
    bar_height: ClassVar[int] = PAIR_BAR
    legend: ClassVar[int] = LEGEND

    @property
    def height(self) -> int:
        return LEGEND + max(1, len(self.rows)) * PAIR_ROW


def trend_chart(
    id: str, title: str, names: tuple[str, str], rows: Sequence[tuple[str, int, int]]
) -> TrendChart:
    """`rows` of (month's label, first value, second value), in order; one scale for both."""
    top = max((max(a, b) for _, a, b in rows), default=0)

    def width(value: int) -> float:
        return round(PAIR_PLOT * value / top, 1) if top else 0.0

    pairs = tuple(
        Pair(label, LEGEND + i * PAIR_ROW + 4, (width(a), width(b)), (str(a), str(b)))
        for i, (label, a, b) in enumerate(rows)
    )
    return TrendChart(id=id, title=title, names=names, rows=pairs)
