"""The lifecycle diagram, drawn by the machine that validates the definition.

Graphviz's `dot` draws it as SVG when it is installed; without it the page shows the
Mermaid text (which GitLab, GitHub and many editors render) and says how to get SVG.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

import states
from tatulasu import diagram
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from workflow.errors import InvalidField

router = APIRouter(route_class=PageRoute)
Version = Annotated[int | None, Query(ge=1, le=1000)]


def inline_svg(drawn: bytes) -> Markup:
    """Graphviz's document without its XML prolog, to sit inside the page.

    Marked safe because Graphviz wrote it from our own definition file (and escapes the
    labels it draws); nothing a user typed reaches it.
    """
    text = drawn.decode("utf-8")
    return Markup(text[text.index("<svg") :])


@router.get("/lifecycle")
def lifecycle_page(request: Request, user: Viewer, version: Version = None) -> Response:
    if version is not None and version not in states.versions():
        raise InvalidField("version", f"there is no lifecycle version {version}")
    lc = states.current() if version is None else states.get(version)
    svg: Markup | None = None
    mermaid: str | None = None
    try:
        svg = inline_svg(diagram.image(lc, "svg"))
    except diagram.GraphvizMissing:
        mermaid = diagram.mermaid(lc)
    return render(
        request, "lifecycle.html", user,
        lifecycle=lc, versions=states.versions(), svg=svg, mermaid=mermaid,
    )  # fmt: skip
