"""Who is asking and how much he sends, settled before a request's body is read.

FastAPI reads and parses a request's body before it resolves any dependency, so the
bearer-token check of `auth` came after the body: a 200 MB JSON with a bogus token was
read and parsed whole before its 401. This plain ASGI middleware runs first:

- on a route that needs a token, a request with a body but no `Authorization: Bearer`
  is answered 401 at once. When the body may be large (declared above
  `EAGER_AUTH_BYTES`, or sent chunked) the token is also looked up here, and an unknown
  one is answered 401 unread. A small body with an unknown token is read (at most
  `EAGER_AUTH_BYTES`) and refused by the route's own check: the busiest route, an
  event of a few hundred bytes, does not look its caller up twice.
- a body larger than its route's limit (`TATULASU_MAX_CSV_BODY_BYTES` for a CSV upload,
  `TATULASU_MAX_JSON_BODY_BYTES` for everything else, the pages' forms included) is
  answered 413: at once when `Content-Length` says so, else as soon as the bytes
  received pass the limit, without reading further.

Early answers carry `Connection: close`: the client may still be sending the body.
"""

from __future__ import annotations

from collections.abc import Collection
from http.cookies import CookieError, SimpleCookie

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tatulasu.api.auth import UNKNOWN_TOKEN
from tatulasu.api.problems import from_error
from tatulasu.errors import BodyTooLarge, Unauthenticated
from workflow import users, web_sessions
from workflow.errors import TatulasuError
from workflow.store import Store

EAGER_AUTH_BYTES = 64 * 1024
SESSION_COOKIE = "tatulasu_session"  # tatulasu.web.session.COOKIE (not imported: a cycle)
# The API's upload and the bailiff's upload page (`tatulasu.web.referral_pages`).
CSV_UPLOADS = frozenset({"/referrals/import", "/web/referrals/upload"})
# Paths that need no bearer token: health, metrics (its own token), the gateway's delivery
# reports (signed), the API's documents and the pages (a session cookie, checked by them).
PUBLIC = (
    "/healthz", "/metrics", "/delivery-reports", "/openapi.json", "/docs", "/redoc", "/web",
)  # fmt: skip
NO_TOKEN = "send `Authorization: Bearer <token>`"


def size(limit: int) -> str:
    """`1 MB`, `64 KB` or `1000 bytes`: the limit as an operator would set it."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if limit >= unit and limit % unit == 0:
            return f"{limit // unit} {name}"
    return f"{limit} bytes"


def too_large(limit: int, setting: str) -> BodyTooLarge:
    """The refusal of a body past `limit`, naming the setting that sets it."""
    detail = f"the body is larger than the limit of {size(limit)} ({limit} bytes, {setting})"
    return BodyTooLarge(limit, detail)


def _public(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC)


def _closing(response: Response) -> Response:
    response.headers["Connection"] = "close"
    return response


class Limits:
    """ASGI middleware: the bearer token, then the body's size, before the body is read."""

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        json_bytes: int,
        csv_bytes: int,
        csv_paths: Collection[str] = CSV_UPLOADS,
    ) -> None:
        self.app = app
        self.store = store
        self.json_bytes = json_bytes
        self.csv_bytes = csv_bytes
        self.csv_paths = csv_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        if not declared and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to guard
            return
        if not _public(scope["path"]):
            refused = await self._refuse_caller(headers.get(b"authorization"), declared)
            if refused is not None:
                await _closing(refused)(scope, receive, send)
                return
        limit, setting = self._limit(scope["path"])
        # A page's upload: the large limit only for a bailiff's session, so that a stranger
        # cannot make the server read 50 MB before the page sends him to sign in.
        page_upload = limit > self.json_bytes and scope["path"].startswith("/web/")
        if page_upload and not await run_in_threadpool(self._uploader, headers.get(b"cookie")):
            limit, setting = self.json_bytes, "TATULASU_MAX_JSON_BODY_BYTES"
        if declared is not None and declared > limit:
            await _closing(self._too_large(limit, setting))(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit, setting)

    def _limit(self, path: str) -> tuple[int, str]:
        if path in self.csv_paths:
            return self.csv_bytes, "TATULASU_MAX_CSV_BODY_BYTES"
        return self.json_bytes, "TATULASU_MAX_JSON_BODY_BYTES"

    async def _refuse_caller(
        self, authorization: bytes | None, declared: int | None
    ) -> Response | None:
        """401 for a missing token, or for an unknown one when the body may be large."""
        scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return from_error(Unauthenticated(NO_TOKEN))
        if declared is not None and declared <= EAGER_AUTH_BYTES:
            return None  # the route checks it, after reading a small body
        try:
            known = await run_in_threadpool(self._known, token)
        except TatulasuError as exc:
            return from_error(exc)
        return None if known else from_error(Unauthenticated(UNKNOWN_TOKEN))

    def _uploader(self, cookie: bytes | None) -> bool:
        """The `Cookie` header names the session of an active bailiff."""
        jar = SimpleCookie()
        try:
            jar.load((cookie or b"").decode("latin-1"))
        except CookieError:
            return False
        morsel = jar.get(SESSION_COOKIE)
        if morsel is None:
            return False
        try:
            with self.store.reading() as conn:
                session = web_sessions.find(conn, morsel.value)
        except TatulasuError:
            return False
        return session is not None and session.user.role == "bailiff"

    def _known(self, token: str) -> bool:
        with self.store.reading() as conn:
            return users.by_token(conn, token) is not None

    @staticmethod
    def _too_large(limit: int, setting: str) -> Response:
        return from_error(too_large(limit, setting))

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str
    ) -> None:
        """Pass the body on while counting it; past `limit`, stop and answer 413.

        The application sees the refusal as an error while reading its body and answers
        it its own way; that answer is dropped and the 413 sent instead.
        """
        received = 0
        exceeded = False
        started = False

        async def counting() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise too_large(limit, setting)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _closing(self._too_large(limit, setting))(scope, receive, send)
