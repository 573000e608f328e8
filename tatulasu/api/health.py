"""`/healthz` for load balancers and `/metrics` for Prometheus (no personal data).

Health asks each dependency with a short timeout and says which one failed: a load
balancer needs a quick yes or no, an operator needs to know what to restart. The metrics
need no user's token; a deployment that does not want them public (they tell how busy it
is) sets `TATULASU_METRICS_TOKEN`, which Prometheus then sends as its bearer token.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated

import redis
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from tatulasu.api.auth import Wired
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Model
from tatulasu.errors import Unauthenticated
from workflow.errors import TatulasuError

router = APIRouter(tags=["operations"])
BROKER_TIMEOUT = 0.5


class Check(Model):
    ok: bool
    detail: str
    seconds: float


class Health(Model):
    status: str
    checks: dict[str, Check]


def _database(app: Wired) -> Check:
    started = time.perf_counter()
    try:
        with app.store.reading() as conn:
            conn.execute(sa.text("SELECT 1"))
    except TatulasuError as exc:
        return Check(ok=False, detail=str(exc), seconds=time.perf_counter() - started)
    return Check(ok=True, detail=app.store.dialect, seconds=time.perf_counter() - started)


def _broker(url: str) -> Check:
    started = time.perf_counter()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return Check(ok=False, detail=f"redis: {exc}", seconds=time.perf_counter() - started)
    finally:
        client.close()
    return Check(ok=True, detail="redis", seconds=time.perf_counter() - started)


@router.get(
    "/healthz",
    response_model=Health,
    responses={**responses(public=True), 503: {"model": Health, "description": "Failing"}},
)
def healthz(app: Wired) -> Health | JSONResponse:
    """Whether the database (and the broker, when one is configured) answers."""
    checks = {"database": _database(app)}
    broker = app.settings.broker_url
    if broker and broker.startswith(("redis://", "rediss://")):
        checks["broker"] = _broker(broker)
    ok = all(c.ok for c in checks.values())
    health = Health(status="ok" if ok else "failing", checks=checks)
    if ok:
        return health
    return JSONResponse(health.model_dump(), status_code=503)


def _registry(request: Request, app: Wired) -> CollectorRegistry:
    """The app's registry, once the scraper has shown the metrics token (when one is set)."""
    expected = app.settings.metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        same = secrets.compare_digest(given.strip().encode(), expected.encode())
        if scheme.lower() != "bearer" or not same:
            raise Unauthenticated("send `Authorization: Bearer <TATULASU_METRICS_TOKEN>`")
    registry: CollectorRegistry = request.app.state.metrics
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}},
        **responses(401, public=True),
    },
)
def metrics(registry: Annotated[CollectorRegistry, Depends(_registry)]) -> Response:
    """Prometheus text format: events by type, cases by state, outbox backlog, latency."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
