"""The lifecycle diagram, drawn by the same `transitions` machine that validates it.

Mermaid text needs nothing installed and renders in GitLab/GitHub Markdown; SVG and PNG
need two things: Graphviz's `dot` program, which pip cannot install, and the Python
`graphviz` package (the `tatulasu[graphviz]` extra). Without the package `transitions`
quietly falls back to Mermaid text, which would then be written under an `.svg` name, so
both are checked first and a missing one is reported as an instruction.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from states import Lifecycle
from states.definition import build_machine
from tatulasu.errors import GraphvizMissing
from workflow.errors import InvalidField

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "GraphvizMissing",
    "format_for",
    "image",
    "mermaid",
    "missing_for_images",
]

FORMATS = ("mermaid", "svg", "png")
# What each format's file is called, and how its content begins.
SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg", ".png": "png"}
_MAGIC = {"svg": (b"<?xml", b"<svg"), "png": (b"\x89PNG",)}

_DOT = (
    "Graphviz's `dot` program (apt-get install graphviz, brew install graphviz, "
    "or https://graphviz.org/download/)"
)
_PACKAGE = "the Python package graphviz (pip install 'tatulasu[graphviz]')"


def missing_for_images() -> list[str]:
    """What SVG and PNG still need on this machine (nothing: they can be drawn)."""
    missing = [] if shutil.which("dot") is not None else [_DOT]
    if importlib.util.find_spec("graphviz") is None:
        missing.append(_PACKAGE)
    return missing


def format_for(given: str | None, output: Path | None) -> str:
    """The format to draw: the one asked for, else the one `output`'s suffix names, else Mermaid.

    A suffix naming another format than the one asked for is refused, not obeyed: either
    way the user meant something else than what he typed.
    """
    named = SUFFIXES.get(output.suffix.lower()) if output is not None else None
    if given is None:
        return named or "mermaid"
    if given not in FORMATS:
        raise InvalidField("--format", f"{given!r} is not one of {', '.join(FORMATS)}")
    if output is not None and named is not None and named != given:
        usual = next(s for s, f in SUFFIXES.items() if f == given)
        raise InvalidField(
            "--output",
            f"{output.name} is named for {named}, but --format is {given}: "
            f"name it *{usual}, or leave --format out to draw {named}",
        )
    return given


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
    missing = missing_for_images()
    if missing:
        raise GraphvizMissing(missing)
    graph = _machine(lc, "graphviz").get_graph()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"lifecycle.{fmt}"
        graph.draw(str(target), format=fmt, prog="dot")
        data = target.read_bytes()
    if not data.lstrip().startswith(_MAGIC[fmt]):  # never another format under this name
        raise GraphvizMissing([_PACKAGE])
    return data
