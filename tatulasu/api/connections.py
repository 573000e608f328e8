"""Spread keep-alive clients over the worker processes of `tatulasu serve --workers N`.

uvicorn's worker processes share one listening socket, and a keep-alive connection stays
with the process that accepted it. Clients that open their connections in a burst (a
bailiffs' system, a proxy's upstream pool) can all land on one process while the others
idle. Answering about one request in `every` with `Connection: close` makes the client
reconnect, and the new connection goes to whichever process accepts it first: the least
busy one. nginx's `keepalive_requests` does the same with a counter; a random draw needs
no state per connection.
"""

from __future__ import annotations

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE = (b"connection", b"close")


class RecycleConnections:
    """ASGI middleware closing a keep-alive connection after ~`every` requests (0: never)."""

    def __init__(self, app: ASGIApp, every: int, rng: random.Random | None = None) -> None:
        self.app = app
        self.every = every
        self.rng = rng or random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.every <= 0 or self.rng.randrange(self.every):
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # An answer that closes already (a 413 sent before its body was read) keeps
                # its one header: a second `Connection: close` would read "close, close".
                if not any(name.lower() == CLOSE[0] for name, _ in headers):
                    message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        await self.app(scope, receive, closing)
