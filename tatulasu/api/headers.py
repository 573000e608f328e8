"""Security headers, and redirects that never name the host a request claimed.

Every answer gets `X-Content-Type-Options: nosniff` and a `Referrer-Policy`. The pages
(`/web`, their error pages included) also get a Content-Security-Policy that allows no
script at all and no framing, and, but for the stylesheet, `Cache-Control: no-store`:
signed-in pages show personal data, and the sign-in page a one-time token. The pages
never send anyone to another site, so an absolute `Location` under `/web` (Starlette's
trailing-slash redirect builds one from the request's `Host`) is cut down to its path
and query: a forged `Host` never becomes a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES = "/web"
STATIC = "/web/static/"
EVERYWHERE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
ON_PAGES = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'; img-src 'self' data:"
    ),
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_page(path: str) -> bool:
    return path == PAGES or path.startswith(PAGES + "/")


def secure(headers: MutableHeaders, path: str) -> None:
    """Add the headers an answer to `path` needs."""
    for name, value in EVERYWHERE.items():
        headers.setdefault(name, value)
    if not is_page(path):
        return
    for name, value in ON_PAGES.items():
        headers[name] = value
    if not path.startswith(STATIC):
        headers["Cache-Control"] = "no-store"
    location = headers.get("location")
    if location:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            headers["location"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class SecurityHeaders:
    """Plain ASGI middleware adding `secure`'s headers to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message), path)
            await send(message)

        await self.app(scope, receive, send_secured)
