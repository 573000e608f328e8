"""Bar charts as plain geometry, for a template to draw as inline SVG.

A chart is a handful of rectangles; computing them here keeps the arithmetic out of the
template and testable, and needs no charting library or script in the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

ROW = 30  # height of one bar's row
BAR = 20  # height of a bar
LABEL = 240  # width of the label column (Kazakh and Russian words are long)
PLOT = 360  # width of the longest bar
WIDTH = LABEL + PLOT + 90  # room for the value after the longest bar


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the value as printed beside the bar
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one a row, scaled to the largest value (or to `maximum`)."""

    id: str
    title: str
    bars: tuple[Bar, ...]

    width: ClassVar[int] = WIDTH
    label_width: ClassVar[int] = LABEL
    bar_height: ClassVar[int] = BAR

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * ROW


def short(title: str) -> str:
    """A title up to its first colon or semicolon: "Settled: agreement …" → "Settled"."""
    for mark in (":", ";"):
        title = title.split(mark, 1)[0]
    return title.strip()


def bar_chart(
    id: str,
    title: str,
    values: Mapping[str, float | None],
    *,
    maximum: float | None = None,
    unit: str = "",
) -> BarChart:
    """`values` in order; None is drawn as no bar and printed as a dash."""
    top = maximum if maximum is not None else max((v or 0 for v in values.values()), default=0)
    bars = tuple(
        Bar(
            label=label,
            shown="—" if value is None else f"{round(value, 1):g}{unit}",
            y=i * ROW + (ROW - BAR) / 2,
            width=round(PLOT * (value or 0) / top, 1) if top else 0.0,
        )
        for i, (label, value) in enumerate(values.items())
    )
    return BarChart(id=id, title=title, bars=bars)
