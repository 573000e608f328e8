"""The language switch: a link in the header remembers the reader's choice in a cookie.

A GET, because choosing a language changes no data; the choice outranks the profile's
language and the browser's (`i18n.choose`) and is kept for a year.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.responses import RedirectResponse

from tatulasu.web import i18n
from tatulasu.web.errors import PageRoute
from workflow.errors import InvalidField

router = APIRouter(route_class=PageRoute)
YEAR = 365 * 24 * 3600
PAGES = "/web"  # the cookie's path, as the session's
HOME = "/web/cases"
Lang = Annotated[str, Query(max_length=5)]
Next = Annotated[str | None, Query(max_length=500)]


@router.get("/language")
def choose_language(request: Request, lang: Lang, next: Next = None) -> Response:
    """Remember `lang` and go back to the page the reader was on."""
    if i18n.known(lang) is None:
        raise InvalidField("lang", f"{lang!r} is not one of {', '.join(i18n.LANGUAGES)}")
    target = next if next and next.startswith(PAGES + "/") else HOME
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        i18n.COOKIE,
        lang,
        max_age=YEAR,
        path=PAGES,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
