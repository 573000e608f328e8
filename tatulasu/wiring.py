"""Putting the parts together from settings: store, business calendar, engine.

One place builds them so the CLI, the HTTP API and the workers cannot drift apart in
how they read the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks.heads_export import HeadsExport
from tatulasu.settings import Settings
from workflow.calendar import BusinessCalendar
from workflow.clock import Clock
from workflow.engine import Engine
from workflow.errors import InvalidField
from workflow.store import Store

if TYPE_CHECKING:
    from celery import Celery

    from tasks.dispatch import Dispatcher


@dataclass(frozen=True)
class App:
    settings: Settings
    store: Store
    calendar: BusinessCalendar
    engine: Engine

    def close(self) -> None:
        self.store.dispose()


def calendar_from(settings: Settings) -> BusinessCalendar:
    return BusinessCalendar(
        settings.timezone,
        extra_days_off=settings.extra_days_off,
        extra_working_days=settings.extra_working_days,
    )


def build(settings: Settings, clock: Clock | None = None) -> App:
    """The store, calendar and engine of one deployment (the clock is the system's unless given)."""
    store = Store(settings.database_url)
    calendar = calendar_from(settings)
    engine = Engine(store, clock=clock, calendar=calendar, opens_version=settings.lifecycle_version)
    return App(settings=settings, store=store, calendar=calendar, engine=engine)


def sink_channels(settings: Settings) -> frozenset[str]:
    """The channels the settings configure a sink for (others' messages wait for one)."""
    configured = {"email": settings.smtp_host, "sms": settings.sms_gateway_url}
    return frozenset(channel for channel, where in configured.items() if where)


def dispatcher_for(settings: Settings, engine: Engine) -> Dispatcher:
    """The outbox dispatcher with the sinks the settings configure."""
    from tasks.dispatch import Dispatcher, Policy
    from tasks.sinks import Sink, SmsGatewaySink, SmtpSink
    from tasks.templates import Renderer

    sinks: dict[str, Sink] = {}
    if settings.smtp_host:
        sinks["email"] = SmtpSink(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
    if settings.sms_gateway_url:
        sinks["sms"] = SmsGatewaySink(settings.sms_gateway_url, settings.sms_gateway_token)
    policy = Policy(
        lease_seconds=settings.dispatch_lease_seconds,
        max_attempts=settings.dispatch_max_attempts,
        backoff_base_seconds=settings.dispatch_backoff_seconds,
    )
    return Dispatcher(engine, sinks, Renderer(settings.templates_dir), policy)


def heads_export_from(settings: Settings) -> HeadsExport | None:
    """The scheduled export of signed heads, when its directory and period are both set."""
    directory, minutes = settings.heads_export_dir, settings.heads_export_every_minutes
    if directory is None and minutes is None:
        return None
    if directory is None or minutes is None:
        missing = "DIR" if directory is None else "EVERY_MINUTES"
        raise InvalidField(
            f"TATULASU_HEADS_EXPORT_{missing}", "is needed too for the scheduled heads export"
        )
    if settings.audit_signing_key_file is None:
        raise InvalidField(
            "TATULASU_AUDIT_SIGNING_KEY_FILE", "is needed to sign the scheduled heads export"
        )
    return HeadsExport(directory, minutes, settings.audit_signing_key_file)


def celery_app(settings: Settings) -> Celery:
    """The Celery app of a scaled-out deployment (workers build their engine after the fork)."""
    from tasks.app import ClockConfig, Runtime, create_app

    config = ClockConfig(
        broker_url=settings.effective_broker_url,
        queue=settings.queue,
        sweep_interval_seconds=settings.sweep_interval_seconds,
        batch=settings.sweep_batch,
        heads_export=heads_export_from(settings),
    )

    def engine_factory() -> Engine:
        return build(settings).engine

    def dispatcher_factory(engine: Engine) -> Dispatcher:
        return dispatcher_for(settings, engine)

    return create_app(config, Runtime(engine_factory, dispatcher_factory))
