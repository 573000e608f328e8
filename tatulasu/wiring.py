"""Putting the parts together from settings: store, business calendar, engine.

One place builds them so the CLI, the HTTP API and the workers cannot drift apart in
how they read the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from tatulasu.settings import Settings
from workflow.calendar import BusinessCalendar
from workflow.clock import Clock
from workflow.engine import Engine
from workflow.store import Store


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
    engine = Engine(store, clock=clock, calendar=calendar)
    return App(settings=settings, store=store, calendar=calendar, engine=engine)
