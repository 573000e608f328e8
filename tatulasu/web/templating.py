"""Rendering a page: one Jinja2 environment, autoescaped, strict about missing names.

Instants are stored in UTC and shown in the deployment's time zone (`Asia/Almaty` by
default), so the zone is passed to every template with the user reading it; dates are
written `07.12.2026` and a term's end as `workflow.dates.until` says it, as in the CLI.
Every page is in the reader's language (`lang`, chosen by `language`): its words through
`_`, the lifecycle's items through `title(kind, name)`, other codes through
`word(table, code)`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from states.definition import Kind
from tatulasu.web import i18n, words
from tatulasu.wiring import App
from workflow import dates
from workflow.users import User

HASH_SHOWN = 12


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    """`03.03.2025 14:00` in `tz`; a dash for no instant."""
    return dates.instant(moment, tz)


@jinja2.pass_context
def until(context: Context, moment: datetime | None, tz: ZoneInfo) -> str:
    """When a term ends, in the page's language: "until 07.12.2026 inclusive"."""
    return dates.until(moment, tz, i18n.translations(_lang(context)).gettext)


@jinja2.pass_context
def span(context: Context, delta: timedelta) -> str:
    """A length of time as a person says it: `3 d 4 h`, `5 h 10 min`."""
    gettext = i18n.translations(_lang(context)).gettext
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)d min") % {"minutes": minutes}


@jinja2.pass_context
def title(context: Context, kind: Kind, name: str) -> str:
    """The lifecycle's title of a state, event, term, reason or procedure."""
    return words.title(kind, name, _lang(context))


@jinja2.pass_context
def word(context: Context, table: str, code: str | None) -> str:
    """A role, origin, timer kind, language or region, in the page's language."""
    return "—" if code is None else words.word(table, code, _lang(context))


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
    env.filters.update(local=local, day=dates.day, until=until, span=span, compact=compact)
    env.globals.update(
        hash_shown=HASH_SHOWN, title=title, word=word, languages=tuple(i18n.languages())
    )
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    return env


# The page's language is in its context (`lang`, set by `render`), so one environment
# serves every reader at once; `_`, `gettext`, `ngettext`, `pgettext` and `{% trans %}`
# all go through these. A macro needs it imported `with context`.
@jinja2.pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.translations(_lang(context)).gettext(message)


@jinja2.pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(_lang(context)).ngettext(singular, plural, n)


@jinja2.pass_context
def _pgettext(context: Context, ctx: str, message: str) -> str:
    return str(i18n.translations(_lang(context)).pgettext(ctx, message))


def _lang(context: Context) -> str:
    return i18n.known(context.get("lang")) or i18n.DEFAULT


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
    lang = language(request, viewer)
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request,
        template,
        # `csrf`: the session's token for the page's forms (`web.csrf`); the sign-in page
        # passes its own.
        {
            "viewer": viewer,
            "tz": app.calendar.tz,
            "lang": lang,
            "csrf": getattr(request.state, "csrf", ""),
            **context,
        },
        status_code=status,
    )
    response.headers["Content-Language"] = lang
    response.headers.append("Vary", "Accept-Language, Cookie")
    return response


def language(request: Request, viewer: User | None) -> str:
    """The language of the page: the switch's cookie, the profile's, the browser's, Kazakh."""
    return i18n.choose(
        request.cookies.get(i18n.COOKIE),
        viewer.language if viewer is not None else None,
        request.headers.get("accept-language"),
    )
