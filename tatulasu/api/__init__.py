"""The HTTP API (FastAPI): `create_app(wired)` builds it on a deployment's store and engine."""

from __future__ import annotations

from tatulasu.api.app import create_app

__all__ = ["create_app"]
