"""The lifecycle: a drawing of its states and moves, and what each state allows.

The drawing is laid out here (`lifecycle_layout`) and drawn as inline SVG in the
reader's language; the server needs no Graphviz (the CLI's `tatulasu diagram` still
draws with it). Under the drawing, each state lists its events and where they lead
("state → event → next state"), which reads on a phone and to a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

import states
from states import Lifecycle
from tatulasu.web.errors import PageRoute
from tatulasu.web.lifecycle_layout import columns, layout
from tatulasu.web.session import Viewer
from tatulasu.web.templating import language, render
from workflow.errors import InvalidField

router = APIRouter(route_class=PageRoute)
Version = Annotated[int | None, Query(ge=1, le=1000)]


@dataclass(frozen=True)
class Move:
    """An event possible in a state: where it leads (None: the state stays) and who."""

    event: str
    target: str | None
    roles: tuple[str, ...]


def moves_by_state(lc: Lifecycle) -> dict[str, list[Move]]:
    """For each state in the drawing's order, its events in the definition's order."""
    found: dict[str, list[Move]] = {s: [] for c in columns(lc) for s in c}
    for event in lc.events.values():
        for route in event.routes:
            roles = tuple(sorted(route.roles or event.roles))
            for source in route.sources:
                target = None if route.target == source else route.target
                found[source].append(Move(event.name, target, roles))
    return found


@router.get("/lifecycle")
def lifecycle_page(request: Request, user: Viewer, version: Version = None) -> Response:
    if version is not None and version not in states.versions():
        raise InvalidField("version", f"there is no lifecycle version {version}")
    lc = states.current() if version is None else states.get(version)
    return render(
        request, "lifecycle.html", user,
        lifecycle=lc, versions=states.versions(),
        drawing=layout(lc, language(request, user)), moves=moves_by_state(lc),
    )  # fmt: skip
