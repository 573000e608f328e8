"""The dispute lifecycle, declared as data (`lifecycle_v*.toml`) and checked on load.

>>> lc = current()
>>> lc.version >= 1, "referred" in lc.states
(True, True)
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from states.definition import (
    EventSpec,
    GuardSpec,
    Lifecycle,
    Migration,
    MoveRule,
    Route,
    StateSpec,
    Term,
    check_migration,
    load,
)
from states.errors import InvalidDefinition, TatulasuError

__all__ = [
    "EventSpec",
    "GuardSpec",
    "InvalidDefinition",
    "Lifecycle",
    "Migration",
    "MoveRule",
    "Route",
    "StateSpec",
    "TatulasuError",
    "Term",
    "current",
    "events_of_kind",
    "get",
    "migration_events",
    "states_of_kind",
    "versions",
]

_HERE = Path(__file__).parent
_VERSION_FILE = re.compile(r"lifecycle_v(\d+)\.toml")


@functools.cache
def _all() -> dict[int, Lifecycle]:
    found: dict[int, Lifecycle] = {}
    for path in sorted(_HERE.glob("lifecycle_v*.toml")):
        match = _VERSION_FILE.fullmatch(path.name)
        if not match:
            continue
        lc = load(path)
        if lc.version != int(match.group(1)):
            raise InvalidDefinition(path.name, "version", f"file says {lc.version}")
        found[lc.version] = lc
    if not found:
        raise InvalidDefinition(str(_HERE), "states", "no lifecycle_v*.toml file")
    for lc in found.values():
        for earlier in lc.migrations:
            if earlier not in found or earlier >= lc.version:
                raise InvalidDefinition(
                    lc.source, f"migration.from_{earlier}", "names no earlier version"
                )
            check_migration(found[earlier], lc)
    return found


def versions() -> list[int]:
    return sorted(_all())


def get(version: int) -> Lifecycle:
    """The definition a case was opened with."""
    try:
        return _all()[version]
    except KeyError:
        raise InvalidDefinition("states", f"version {version}", "no such lifecycle") from None


def current() -> Lifecycle:
    """The definition new cases are opened with: the highest version."""
    return _all()[max(_all())]


@functools.cache
def migration_events() -> frozenset[str]:
    """The events moves between versions are recorded as (in every version)."""
    return frozenset(lc.migration_event for lc in _all().values() if lc.migration_event)


@functools.cache
def events_of_kind(kind: str) -> tuple[str, ...]:
    """The events of `kind` in every version: for queries over cases of all versions."""
    return tuple(sorted({e for lc in _all().values() for e in lc.events_of_kind(kind)}))


@functools.cache
def states_of_kind(kind: str) -> tuple[str, ...]:
    """The states of `kind` in every version: for queries over cases of all versions."""
    found = (lc.state_of_kind(kind) for lc in _all().values())
    return tuple(sorted({s for s in found if s is not None}))
