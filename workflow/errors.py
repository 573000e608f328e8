"""Every error the engine raises on purpose, in one tree.

    TatulasuError                      (states.errors)
    ├── InvalidDefinition              a lifecycle file is broken (raised on load)
    ├── InvalidInput                   a command's content is wrong  -> 422
    │   ├── InvalidField               one field, named, with the reason
    │   └── InvalidIdentifier          an IIN/BIN fails its format or check digit
    ├── NotAllowed                     the command is well-formed but refused
    │   ├── EventNotAllowed            no such event from this state -> 409
    │   ├── GuardFailed                a guard of the event does not hold -> 409
    │   ├── CaseSuspended              the case's terms are suspended -> 409
    │   └── RoleNotAllowed             the role may not fire this event -> 403
    ├── Conflict                       someone else changed the case first -> 409
    │   ├── StaleVersion               the client's expected version is not current
    │   ├── ConcurrentUpdate           lost the race between load and update
    │   ├── IdempotencyKeyReused       same key, different command
    │   └── DuplicateCase              an open case exists for the same proceeding
    ├── NotFound                       no such case -> 404
    └── StoreError                     the database failed (not the client's fault) -> 503
        └── StoreUnavailable           it could not be reached

Database driver exceptions are translated into `StoreError` at the store boundary, so
callers never catch SQLAlchemy's or psycopg's classes.
"""

from __future__ import annotations

from collections.abc import Iterable

from states.errors import InvalidDefinition, TatulasuError

__all__ = [
    "CaseSuspended",
    "ConcurrentUpdate",
    "Conflict",
    "DuplicateCase",
    "EventNotAllowed",
    "GuardFailed",
    "IdempotencyKeyReused",
    "InvalidDefinition",
    "InvalidField",
    "InvalidIdentifier",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "RoleNotAllowed",
    "StaleVersion",
    "StoreError",
    "StoreUnavailable",
    "TatulasuError",
]


class InvalidInput(TatulasuError):
    """A command's content is wrong; nothing was changed."""


class InvalidField(InvalidInput):
    """One named field of a command is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InvalidIdentifier(InvalidField):
    """An IIN or BIN fails its format or its check digit."""


class NotAllowed(TatulasuError):
    """The command is well-formed, but the lifecycle refuses it."""


class EventNotAllowed(NotAllowed):
    """The event cannot be fired from the case's current state."""

    def __init__(self, event: str, state: str, allowed: Iterable[str]) -> None:
        self.event = event
        self.state = state
        self.allowed = sorted(allowed)
        super().__init__(
            f"event {event!r} is not allowed in state {state!r}; "
            f"allowed: {', '.join(self.allowed) or 'none'}"
        )


class GuardFailed(NotAllowed):
    """A guard of the event does not hold for this case."""

    def __init__(self, event: str, state: str, guards: Iterable[str]) -> None:
        self.event = event
        self.state = state
        self.guards = sorted(guards)
        super().__init__(f"event {event!r} in state {state!r} needs: {', '.join(self.guards)}")


class CaseSuspended(NotAllowed):
    """The case's terms are suspended; only resume and a few other events are allowed."""

    def __init__(self, event: str, allowed: Iterable[str]) -> None:
        self.event = event
        self.allowed = sorted(allowed)
        super().__init__(
            f"the case is suspended: event {event!r} must wait; allowed: {', '.join(self.allowed)}"
        )


class RoleNotAllowed(NotAllowed):
    """The actor's role may not fire this event."""

    def __init__(self, event: str, role: str, roles: Iterable[str]) -> None:
        self.event = event
        self.role = role
        self.roles = sorted(roles)
        super().__init__(
            f"role {role!r} may not fire {event!r}; allowed roles: {', '.join(self.roles)}"
        )


class Conflict(TatulasuError):
    """Someone else changed the case first; reload and decide again."""


class StaleVersion(Conflict):
    """The version the client expected is not the case's current version."""

    def __init__(self, case_id: int, expected: int, current: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"case {case_id} is at version {current}, not {expected}: reload and retry"
        )


class ConcurrentUpdate(Conflict):
    """Another command changed the case between our read and our write."""

    def __init__(self, case_id: int, version: int) -> None:
        self.case_id = case_id
        self.version = version
        super().__init__(f"case {case_id} was changed by another command after version {version}")


class IdempotencyKeyReused(Conflict):
    """The idempotency key was already used for a different command."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different command")


class DuplicateCase(Conflict):
    """An open case already exists for the same enforcement proceeding."""

    def __init__(self, field: str, value: str, case_id: int) -> None:
        self.field = field
        self.value = value
        self.case_id = case_id
        super().__init__(f"{field}: case {case_id} is already open for {value!r}")


class NotFound(TatulasuError):
    """No such case."""

    def __init__(self, what: str, ident: object) -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"no {what} {ident!r}")


class StoreError(TatulasuError):
    """The database failed; the command may be retried."""


class StoreUnavailable(StoreError):
    """The database could not be reached."""
