"""The lifecycle diagram, drawn by the same `transitions` machine that validates it.

Mermaid text needs nothing installed and renders in GitLab/GitHub Markdown; SVG and PNG
need Graphviz's `dot` program, which pip cannot install, so its absence is reported as
an instruction rather than a stack trace.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from states import Lifecycle
from states.definition import build_machine
from workflow.errors import InvalidField

FORMATS = ("mermaid", "svg", "png")


class GraphvizMissing(InvalidField):
    """SVG or PNG was asked for, but the `dot` program is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "--format",
            "SVG and PNG need Graphviz's `dot` program, which is not installed: install "
            "graphviz (apt-get install graphviz, brew install graphviz, or "
            "https://graphviz.org/download/) or use --format mermaid",
        )


def _machine(lc: Lifecycle, engine: str) -> object:
    from transitions.extensions import GraphMachine

    return build_machine(
        lc,
        GraphMachine,
        graph_engine=engine,
        show_conditions=True,
        title=f"{lc.title} (version {lc.version})",
    )


def mermaid(lc: Lifecycle) -> str:
    text: str = _machine(lc, "mermaid").get_graph().draw(None)  # type: ignore[attr-defined]
    return text if text.endswith("\n") else text + "\n"


def image(lc: Lifecycle, fmt: str) -> bytes:
    """SVG or PNG bytes through Graphviz."""
    if fmt not in ("svg", "png"):
        raise InvalidField("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    if shutil.which("dot") is None:
        raise GraphvizMissing()
    graph = _machine(lc, "graphviz").get_graph()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"lifecycle.{fmt}"
        graph.draw(str(target), format=fmt, prog="dot")
        return target.read_bytes()
