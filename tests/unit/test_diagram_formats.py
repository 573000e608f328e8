"""The diagram is drawn in the format asked for, or not at all: never one under another's name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import states
from tatulasu import diagram
from tatulasu.diagram import GraphvizMissing, format_for
from workflow.errors import InvalidField, MissingDependency


@pytest.mark.parametrize(
    ("given", "output", "chosen"),
    [
        (None, None, "mermaid"),
        (None, "lifecycle.svg", "svg"),
        (None, "lifecycle.PNG", "png"),
        (None, "lifecycle.mmd", "mermaid"),
        (None, "lifecycle.txt", "mermaid"),
        ("svg", "lifecycle.svg", "svg"),
        ("svg", "lifecycle.out", "svg"),
        ("mermaid", None, "mermaid"),
    ],
)
def test_the_format_is_the_one_asked_for_else_the_one_the_suffix_names(
    given: str | None, output: str | None, chosen: str
) -> None:
    assert format_for(given, Path(output) if output else None) == chosen


def test_a_suffix_naming_another_format_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        format_for("mermaid", Path("x.svg"))
    assert caught.value.field == "--output"
    assert "x.svg is named for svg, but --format is mermaid" in caught.value.reason


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidField, match="--format: 'gif' is not one of mermaid, svg, png"):
        format_for("gif", None)


def _without(monkeypatch: pytest.MonkeyPatch, *, dot: bool, package: bool) -> None:
    """Pretend `dot` and/or the Python `graphviz` package are not installed."""
    if not package:
        monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` fails
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None if not dot else f"/bin/{name}")


def test_svg_without_the_python_graphviz_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without(monkeypatch, dot=True, package=False)
    with pytest.raises(GraphvizMissing) as caught:
        diagram.image(states.current(), "svg")
    assert isinstance(caught.value, MissingDependency)
    assert "pip install 'tatulasu[graphviz]'" in str(caught.value)
    assert "dot" not in str(caught.value)


def test_svg_without_dot_or_the_package_names_both(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, dot=False, package=False)
    with pytest.raises(GraphvizMissing) as caught:
        diagram.image(states.current(), "png")
    message = str(caught.value)
    assert "apt-get install graphviz" in message and "tatulasu[graphviz]" in message
    assert message.endswith("install them, or use --format mermaid")
