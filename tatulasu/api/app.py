"""The FastAPI application of one deployment, built from the wired store and engine.

`tatulasu serve` runs it with uvicorn next to the in-process sweep; tests build it on a
store of their own. Nothing here is global: two apps in one process (two tests) share
no state, not even Prometheus metrics.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from tatulasu import web
from tatulasu.api import (
    audit,
    cases,
    delivery_reports,
    events,
    health,
    lifecycle,
    metrics,
    notifications,
    problems,
    referrals,
    reports,
)
from tatulasu.api.connections import RecycleConnections
from tatulasu.api.headers import SecurityHeaders
from tatulasu.api.limits import Limits
from tatulasu.api.schemas import reject_nul_in_query
from tatulasu.web import errors as web_errors
from tatulasu.wiring import App, sink_channels

DESCRIPTION = """\
Dispute reconciliation in Kazakhstan: refer cases (one by one or as a bailiff's CSV
file), fire the events of the lifecycle, read cases with their open terms and timeline,
verify and export the tamper-evident history, and read the statistics.

Every request but `/healthz` and `/metrics` needs `Authorization: Bearer <token>`
(`tatulasu users create`); `/metrics` needs its own token when the deployment sets one.
A body larger than its limit (1 MB of JSON, 50 MB for a CSV file, by default) is refused
with 413 before it is read. Errors are RFC 9457 problem documents
(`application/problem+json`) whose `field` names the input at fault.
"""


def create_app(app: App) -> FastAPI:
    """The HTTP API on `app`'s store and engine (the caller closes `app`)."""
    api = FastAPI(
        title="tatulasu",
        version="0.1.0",
        description=DESCRIPTION,
        dependencies=[Depends(reject_nul_in_query)],
    )
    api.state.tatulasu = app
    registry, latency = metrics.registry_for(
        app.store, app.engine.clock, sink_channels(app.settings)
    )
    api.state.metrics = registry
    settings = app.settings
    api.add_middleware(
        Limits,
        store=app.store,
        json_bytes=settings.max_json_body_bytes,
        csv_bytes=settings.max_csv_body_bytes,
    )
    api.add_middleware(metrics.Timing, latency=latency)
    api.add_middleware(RecycleConnections, every=app.settings.http_keepalive_requests)
    api.add_middleware(SecurityHeaders)  # outermost but for the 500 handler (problems.py)
    problems.install(api)
    web_errors.install(api)  # a 404 under /web is a page, not a problem document
    for module in (
        cases,
        events,
        referrals,
        audit,
        reports,
        notifications,
        delivery_reports,
        lifecycle,
        health,
    ):
        api.include_router(module.router)
    api.include_router(web.router)
    api.mount(web.STATIC, web.static_files(), name="web-static")
    return api
