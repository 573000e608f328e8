"""Prometheus metrics: the database's running totals when scraped, timed per request.

The figures about cases (events by type, cases by state, terms missed, the outbox by
status) are running totals the database keeps by triggers (`workflow.counters`), not
counted in the process: several API processes, the workers and the sweep all change
them, and only the database sees every change. A scrape reads those totals and counts
only what is open (timers not fired, messages waiting): never the history, the outbox
or the cases, which grow for years. Messages
waiting because their channel has no sink configured are counted by channel, against
the sinks this deployment's settings configure. Request
latency is the process's own and is a histogram labelled by route template (never by
the raw path, which would make one series per case).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tasks.reach import OFFICIAL_CHANNELS, waiting_counts
from workflow import counters
from workflow.clock import Clock
from workflow.schema import timers
from workflow.store import Store

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class StoreCollector(Collector):
    """Reads the case figures from the database when Prometheus scrapes."""

    def __init__(self, store: Store, clock: Clock, channels: Collection[str]) -> None:
        self.store = store
        self.clock = clock
        self.channels = frozenset(channels)

    def describe(self) -> Iterator[Metric]:
        """The names alone: registering must not query a database that may be down."""
        yield from self._families()
        yield self._waiting()
        yield GaugeMetricFamily("tatulasu_terms_missed", "Terms that ran out")
        yield GaugeMetricFamily("tatulasu_open_timers", "Timers not yet fired")
        yield GaugeMetricFamily("tatulasu_timers_overdue", "Timers past due and not fired")

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        events = CounterMetricFamily(
            "tatulasu_events", "Events in the history, by type", labels=["event"]
        )
        by_state = GaugeMetricFamily("tatulasu_cases", "Cases by state", labels=["state"])
        backlog = GaugeMetricFamily(
            "tatulasu_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        return events, by_state, backlog

    @staticmethod
    def _waiting() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "tatulasu_outbox_waiting",
            "Pending messages waiting because no sink is configured for their channel",
            labels=["channel"],
        )

    def collect(self) -> Iterator[Metric]:
        events, by_state, backlog = self._families()
        with self.store.reading() as conn:
            kept = counters.totals(conn)
            for family, metric in ((events, "events"), (by_state, "cases"), (backlog, "outbox")):
                for label, n in sorted(kept.get(metric, {}).items()):
                    family.add_metric([label], n)
            waiting = self._waiting()
            counted = waiting_counts(conn, self.channels)
            for channel in sorted(set(OFFICIAL_CHANNELS) | set(counted)):
                waiting.add_metric([channel], counted[channel])
            missed = kept.get("terms_missed", {}).get("", 0)
            open_timers = conn.execute(
                sa.select(sa.func.count()).select_from(timers).where(timers.c.fired_at.is_(None))
            ).scalar_one()
            overdue = conn.execute(
                sa.select(sa.func.count())
                .select_from(timers)
                .where(timers.c.fired_at.is_(None), timers.c.due_at < self.clock.now())
            ).scalar_one()
        yield events
        yield by_state
        yield backlog
        yield waiting
        yield GaugeMetricFamily(
            "tatulasu_terms_missed", "Terms that ran out (escalated or expired)", value=missed
        )
        yield GaugeMetricFamily("tatulasu_open_timers", "Timers not yet fired", value=open_timers)
        yield GaugeMetricFamily(
            "tatulasu_timers_overdue",
            "Timers past due and not fired: above zero for long, the clock (beat/sweep) is stalled",
            value=overdue,
        )


def registry_for(
    store: Store, clock: Clock, channels: Collection[str]
) -> tuple[CollectorRegistry, Histogram]:
    """A registry per app (not the global one), so two apps in one process do not clash.

    `channels` are those with a sink configured (messages of the others wait).
    """
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StoreCollector(store, clock, channels))
    latency = Histogram(
        "tatulasu_http_request_duration_seconds",
        "Time to answer an HTTP request",
        ["method", "route", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    return registry, latency


class Timing:
    """ASGI middleware observing each request's duration under its route template.

    A plain ASGI wrapper rather than `@app.middleware("http")`: the latter runs every
    request through Starlette's BaseHTTPMiddleware (an extra task and stream per request),
    which cost more than the rest of a cheap request.
    """

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.latency.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
