"""An ASGI entry point that wires itself from the environment (`TATULASU_*`).

    uvicorn --factory tatulasu.api.asgi:from_environment --host 0.0.0.0 --port 8000

For a container or a process manager that starts uvicorn directly; `tatulasu serve`
builds the same app in-process next to the embedded sweep.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from tatulasu.api.app import create_app
from tatulasu.settings import Settings
from tatulasu.wiring import build


def from_environment() -> FastAPI:
    """The app on the deployment the environment describes; its pool closes at shutdown."""
    wired = build(Settings())
    api = create_app(wired)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            wired.close()

    api.router.lifespan_context = lifespan
    return api
