"""Every error tatulasu raises on purpose, in one tree.

    TatulasuError                      (states.errors)
    ├── InvalidDefinition              a lifecycle file is broken (raised on load)
    │   └── InvalidCalendar            the calendar's data file is broken (raised on load)
    ├── InvalidInput                   a command's content is wrong  -> 422
    │   ├── InvalidField               one field, named, with the reason
    │   │   ├── InvalidIdentifier      an IIN/BIN fails its format or check digit
    │   │   └── UnknownEvent           the lifecycle has no such event (close names offered)
    │   ├── HeadsRefused               an exported heads file is not to be trusted
    │   │   ├── HeadsMalformed         not a heads document at all
    │   │   ├── HeadsUnsigned          of the older, unsigned format: export it again
    │   │   ├── SignatureMismatch      edited, or signed with another key
    │   │   └── PublicKeyMissing       signed, and no public key to check it with
    │   ├── BodyTooLarge               (tatulasu.errors) the request body passed its limit -> 413
    │   └── Unreadable                 (tatulasu.errors) a referral file unreadable as a whole
    ├── Unauthenticated                (tatulasu.errors) no valid credentials -> 401
    │   └── SignInRequired             (tatulasu.errors) a page needs a signed-in user
    ├── NotAllowed                     the command is well-formed but refused
    │   ├── EventNotAllowed            the event does not leave this state -> 409
    │   ├── GuardFailed                a guard of the event does not hold -> 409
    │   ├── CaseSuspended              the case's terms are suspended -> 409
    │   ├── NoMoveRule                 no rule of a newer lifecycle places the case -> 409
    │   ├── RoleNotAllowed             the role may not fire this event (here) -> 403
    │   │   └── PartyRoleNotAllowed    the party is not the claimant/respondent it needs
    │   └── Forbidden                  (tatulasu.errors) the role or scope forbids it -> 403
    │       ├── NoPages                (tatulasu.errors) a signed-in role without pages
    │       └── CsrfRefused            (tatulasu.errors) a form not sent from our pages
    ├── Conflict                       someone else changed the case first -> 409
    │   ├── StaleVersion               the client's expected version is not current
    │   ├── ConcurrentUpdate           lost the race between load and update
    │   ├── ConcurrentInsert           lost the race to insert a row (a unique key)
    │   ├── IdempotencyKeyReused       same key, different command
    │   ├── DuplicateCase              an open case exists for the same proceeding
    │   ├── ReportNotReady             an import job's report, asked before it finished
    │   ├── NotRetryable               a notification that has not failed, asked to retry
    │   └── ReportIdReused             a delivery report's id, seen before with another content
    ├── NotFound                       no such case -> 404
    ├── ReplayRefused                  a record the rules do not give (a finding of verify)
    ├── DeliveryError                  (tasks.errors) a notification could not be delivered
    │   ├── TemporaryDeliveryError     try again later
    │   └── PermanentDeliveryError     retrying will not help
    └── Unavailable                    a part the server needs failed (not the client's) -> 503
        ├── StoreError                 the database failed
        │   ├── StoreUnavailable       it could not be reached
        │   ├── StoreMisconfigured     its URL is malformed or names a backend/driver we lack
        │   ├── HistoryIsAppendOnly    an UPDATE/DELETE of the history was refused
        │   └── ConstraintViolated     a write broke a constraint other than a unique key
        ├── MissingDependency          an optional program or package is not installed
        │   └── GraphvizMissing        (tatulasu.errors) SVG/PNG asked, `dot` or graphviz missing
        └── KeyFileError               an audit signing/public key file is missing or wrong

Each class is defined once, in the errors module of its layer: `states.errors` (the root
and the definition errors), this module (the engine's), `tasks.errors` (the sinks') and
`tatulasu.errors` (those only an interface raises). Definition errors, raised on load,
are apart from the refusals of a command (input, not allowed, conflict, not found), and
both from the failures of what the server needs (`Unavailable`). `ReplayRefused` and
`DeliveryError` never leave the replay and the dispatcher; if one did, it is a bug
(500), like a broken definition.

Database driver exceptions, `IntegrityError` included, are translated at the store
boundary (`workflow.store.translate_errors`), so callers never catch SQLAlchemy's or
psycopg's classes: a unique key another command took first is a `ConcurrentInsert`, any
other broken constraint a `ConstraintViolated`. Each interface maps the tree once, by
class, the nearest class of an error's MRO deciding (`tatulasu.errors.nearest`): HTTP
statuses in `tatulasu.api.problems`, exit codes in `tatulasu.exits`, pages in
`tatulasu.web.errors`. The CLI, whose user typed the URL, treats `StoreMisconfigured` as
input to fix. `tests/unit/test_exception_tree.py` holds the three tables, this drawing
and the code to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from states.errors import InvalidDefinition, TatulasuError

__all__ = [
    "CaseSuspended",
    "ConcurrentInsert",
    "ConcurrentUpdate",
    "Conflict",
    "ConstraintViolated",
    "DuplicateCase",
    "EventNotAllowed",
    "GuardFailed",
    "HeadsMalformed",
    "HeadsRefused",
    "HeadsUnsigned",
    "HistoryIsAppendOnly",
    "IdempotencyKeyReused",
    "InvalidCalendar",
    "InvalidDefinition",
    "InvalidField",
    "InvalidIdentifier",
    "InvalidInput",
    "KeyFileError",
    "MissingDependency",
    "NoMoveRule",
    "NotAllowed",
    "NotFound",
    "NotRetryable",
    "PartyRoleNotAllowed",
    "PublicKeyMissing",
    "ReplayRefused",
    "ReportIdReused",
    "ReportNotReady",
    "RoleNotAllowed",
    "SignatureMismatch",
    "StaleVersion",
    "StoreError",
    "StoreMisconfigured",
    "StoreUnavailable",
    "TatulasuError",
    "Unavailable",
    "UnknownEvent",
]


class InvalidCalendar(InvalidDefinition):
    """The business calendar's data file is broken: a definition error, raised on load."""


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


class UnknownEvent(InvalidField):
    """The lifecycle declares no event of this name."""

    def __init__(self, event: str, suggestions: Iterable[str], allowed: Iterable[str]) -> None:
        self.event = event
        self.suggestions = list(suggestions)
        self.allowed = sorted(allowed)
        if self.suggestions:
            hint = f"did you mean {' or '.join(self.suggestions)}?"
        else:
            hint = f"allowed here: {', '.join(self.allowed) or 'none'}"
        super().__init__("event", f"{event!r} is not an event of the lifecycle; {hint}")


class HeadsRefused(InvalidInput):
    """A heads document that is not to be trusted."""


class HeadsMalformed(HeadsRefused):
    """Not a tatulasu heads document: another format, or content of the wrong shape."""


class HeadsUnsigned(HeadsRefused):
    """An unsigned heads document (format 1, before signed heads): re-export it."""


class SignatureMismatch(HeadsRefused):
    """The heads' signature does not match their content under the given public key."""


class PublicKeyMissing(HeadsRefused):
    """Signed heads, and no public key to check them with."""


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

    def __init__(
        self, event: str, state: str, guards: Iterable[str], needs: Mapping[str, str] | None = None
    ) -> None:
        self.event = event
        self.state = state
        self.guards = sorted(guards)
        # Each guard in words, from the lifecycle file ("a mediator assigned first (guard
        # has_mediator): fire assign_mediator"); a guard without words is shown by its id.
        self.needs = {g: (needs or {}).get(g, f"guard {g}") for g in self.guards}
        clauses = "; and ".join(self.needs.values())
        super().__init__(f"{event} in state {state!r} needs {clauses}")


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

    def __init__(
        self, event: str, role: str, roles: Iterable[str], state: str | None = None
    ) -> None:
        self.event = event
        self.role = role
        self.roles = sorted(roles)
        where = f" in state {state!r}" if state is not None else ""
        super().__init__(
            f"role {role!r} may not fire {event!r}{where}; allowed roles: {', '.join(self.roles)}"
        )


class PartyRoleNotAllowed(RoleNotAllowed):
    """The party is not what the event needs him to be on the case (claimant, respondent…)."""

    def __init__(self, event: str, actor: str, found: Iterable[str], needed: Iterable[str]) -> None:
        super().__init__(event, "party", ["party"])
        self.actor = actor
        self.party_roles = sorted(needed)
        his = " and ".join(sorted(found)) or "not a registered party of the case"
        self.args = (
            f"{event!r} is for the case's {' or '.join(self.party_roles)}; {actor!r} is {his}",
        )


class NoMoveRule(NotAllowed):
    """No rule of the newer lifecycle places a case in this state: a person decides."""

    def __init__(self, case_id: int, state: str, from_version: int, to_version: int) -> None:
        self.case_id, self.state = case_id, state
        super().__init__(
            f"case {case_id}: no rule of lifecycle version {to_version} places a case of"
            f" version {from_version} in state {state!r}; it stays on version {from_version}"
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


class ConcurrentInsert(Conflict):
    """Another command inserted a row with the same unique key first."""


class IdempotencyKeyReused(Conflict):
    """The idempotency key was already used for a different command."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different command")


class DuplicateCase(Conflict):
    """An open case already exists for the same enforcement proceeding."""

    def __init__(self, field: str, value: str, case_id: int | None) -> None:
        self.field = field
        self.value = value
        self.case_id = case_id  # None: a referral racing this one opened it first
        if case_id is None:
            reason = f"another referral of {value!r} opened a case at the same moment"
        else:
            reason = f"case {case_id} is already open for {value!r}"
        super().__init__(f"{field}: {reason}")


class ReportNotReady(Conflict):
    """An import job's report was asked for before the job finished."""

    def __init__(self, job_id: int, status: str) -> None:
        self.job_id = job_id
        self.status = status
        super().__init__(f"import {job_id} is {status}: its report is ready when it ends")


class NotRetryable(Conflict):
    """Only a notification that failed for good is sent again."""

    def __init__(self, notice_id: int, status: str, reason: str) -> None:
        self.field = "id"
        self.notice_id = notice_id
        self.current = status  # the notification's status now
        super().__init__(f"notification {notice_id} {reason}: only a failed one is retried")


class ReportIdReused(Conflict):
    """A delivery report's id was recorded before with another content."""

    def __init__(self, report_id: str) -> None:
        self.field = "id"
        super().__init__(
            f"delivery report {report_id!r} was recorded before with another content;"
            " a gateway gives each report its own id"
        )


class NotFound(TatulasuError):
    """No such case."""

    def __init__(self, what: str, ident: object) -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"no {what} {ident!r}")


class ReplayRefused(TatulasuError):
    """A record the engine's rules do not give: the history does not replay."""

    def __init__(self, record: Any, reason: str) -> None:
        super().__init__(reason)
        self.record = record
        self.reason = reason


class Unavailable(TatulasuError):
    """A part the server needs failed or is missing; not the client's fault."""


class StoreError(Unavailable):
    """The database failed; the command may be retried."""


class StoreUnavailable(StoreError):
    """The database could not be reached."""


class StoreMisconfigured(StoreError):
    """The database URL is malformed, or names a backend or driver tatulasu cannot use."""


class HistoryIsAppendOnly(StoreError):
    """The database refused to update or delete a history record (a trigger or the role)."""


class ConstraintViolated(StoreError):
    """The database refused a write that breaks a constraint other than a unique key."""


class MissingDependency(Unavailable):
    """An optional program or package this request needs is not installed."""


class KeyFileError(Unavailable):
    """A key file is missing, unreadable or not an Ed25519 key in PEM.

    On the server the key is the operator's setting (503); the CLI, whose user named the
    file, reports it as input to fix.
    """
