"""Rendering a page: one Jinja2 environment, autoescaped, strict about missing names.

Instants are stored in UTC and shown in the deployment's time zone (`Asia/Almaty` by
default), so the zone is passed to every template with the user reading it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from tatulasu.wiring import App
from workflow.users import User

HASH_SHOWN = 12


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    """`2025-03-03 14:00` in `tz`; a dash for no instant."""
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def span(delta: timedelta) -> str:
    """A length of time as a person says it: `3 d 4 h`, `5 h 10 min`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def compact(value: Any) -> str:
    """A payload on one line, keys sorted, non-ASCII kept readable."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tatulasu.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local=local, span=span, compact=compact)
    env.globals["hash_shown"] = HASH_SHOWN
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    viewer: User | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page `template` for `viewer` (None on the sign-in and error pages)."""
    app: App = request.app.state.tatulasu
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "tz": app.calendar.tz, **context},
        status_code=status,
    )
    return response
