"""The forms of the case page, generated from the lifecycle: one per event the reader may fire.

Nothing here decides what may happen: the events offered are the engine's own answer
for the reader's role (`queries.allowed_events`, the shared machine of the case's
lifecycle version), and a posted form is checked by the engine as the API's request is.
The lifecycle says what each event carries (`payload`, `optional`, `reasons`), and each
field's type gives its input: a date a date picker, a reason code or a procedure a list
of their titles, a person the event sets (`set_mediator` …) a list of the registered,
active people who may be given the case (`workflow.standing`'s rule), other text a text
area of the engine's length. Events whose fields no person fills in (delivery receipts)
or that only the system fires are never offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from states import EventSpec, Lifecycle
from tatulasu.web.timeline import FIELDS
from tatulasu.wiring import App
from workflow import queries, scopes
from workflow.effects import OFFICIAL_ID_LENGTH
from workflow.engine import Engine
from workflow.queries import CaseView
from workflow.rules import MAX_TEXT
from workflow.schema import users
from workflow.users import User

# What the person a field names must be (the field is the effect's: set_mediator …).
PEOPLE_FIELDS = {"mediator": "mediator", "bailiff": "bailiff", "court": "court"}
VERSION = "version"  # the hidden field carrying the case version the form was made for


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # already in words (a person's name); titles are looked up by the template


@dataclass(frozen=True)
class Field:
    """One input of an event's form."""

    name: str
    kind: str  # date | reason | procedure | person | text
    required: bool
    limit: int = MAX_TEXT
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class EventForm:
    """An event's form as shown: its fields, the values sent and the errors found."""

    event: str
    fields: tuple[Field, ...]
    version: int
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)  # field ('' for the form) -> words

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def with_outcome(self, values: Mapping[str, str], errors: Mapping[str, str]) -> EventForm:
        return replace(self, values=dict(values), errors=dict(errors))


def offered(spec: EventSpec) -> bool:
    """Whether a person fills in this event's form (not receipts, not the system's own)."""
    kinds = {*spec.payload.values(), *spec.optional.values()}
    return "receipts" not in kinds and spec.roles != frozenset({"system"})


def fields_of(
    conn: Connection, lc: Lifecycle, spec: EventSpec, case: CaseView, role: str
) -> tuple[Field, ...]:
    """The inputs of `spec`'s form, in the lifecycle's order: required ones first."""
    found: list[Field] = []
    declared = [(n, k, True) for n, k in spec.payload.items()]
    declared += [(n, k, False) for n, k in spec.optional.items()]
    for name, kind, required in declared:
        setter = f"set_{name}" in spec.effects or any(
            f"set_{name}" in r.effects for r in spec.routes
        )
        if kind == "text" and name in PEOPLE_FIELDS and setter:
            people = candidates(conn, PEOPLE_FIELDS[name], case, role)
            found.append(Field(name, "person", required, OFFICIAL_ID_LENGTH, people))
        elif kind == "reason" or kind == "procedure":
            found.append(Field(name, kind, required, choices=coded_choices(lc, kind, spec, role)))
        else:
            found.append(Field(name, kind, required))
    if spec.reasons is not None:
        found.append(
            Field("reason", "reason", True, choices=coded_choices(lc, "reason", spec, role))
        )
        found.append(Field("reason_text", "text", False))
    return tuple(found)


def coded_choices(lc: Lifecycle, kind: str, spec: EventSpec, role: str) -> tuple[Choice, ...]:
    """Reason codes of the event's list that `role` may give, or every procedure, in the
    file's order ("other" last); titled by the template."""
    if kind == "reason":
        codes = [c for c in lc.reasons[spec.reasons or ""] if lc.may_give(role, c)]
    else:
        codes = list(lc.procedure_titles)
    order = list(lc.reason_titles if kind == "reason" else lc.procedure_titles)
    return tuple(Choice(c, c) for c in sorted(codes, key=lambda c: (c == "other", order.index(c))))


def candidates(conn: Connection, role: str, case: CaseView, assigner: str) -> tuple[Choice, ...]:
    """The registered, active people of `role` who may be given the case.

    A mediator of the case's centre (of its region when a court assigns him), a bailiff
    or a court of its region: what `workflow.standing` accepts (`check_mediator`,
    `check_bailiff`).
    """
    query = sa.select(users.c.id, users.c.name).where(
        users.c.role == role, users.c.active, users.c.region == case.region
    )
    if role == "mediator" and assigner != "court":
        query = query.where(users.c.centre == case.centre)
    rows = conn.execute(query.order_by(users.c.name, users.c.id))
    return tuple(Choice(r.id, r.name) for r in rows)


def forms_for(conn: Connection, engine: Engine, user: User, case: CaseView) -> dict[str, EventForm]:
    """The forms of the events `user` may fire on `case` now, by event name.

    None for a read-only role or a case outside his scope: the same rules as the API.
    """
    if user.role in scopes.READ_ONLY or not scopes.may_act_on(conn, user, case):
        return {}
    lc = engine.rules(case.definition_version).lifecycle
    return {
        name: form_of(conn, lc, user, case, name)
        for name in queries.allowed_events(engine, case, user.role)
        if offered(lc.events[name])
    }


def form_of(conn: Connection, lc: Lifecycle, user: User, case: CaseView, event: str) -> EventForm:
    spec = lc.events[event]
    return EventForm(event, fields_of(conn, lc, spec, case, user.role), case.version)


def read_payload(
    form: EventForm, posted: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """The payload of a posted form (blank fields left out) and the values to show again.

    A required field left blank is not sent: the engine would refuse it in English, and
    the form says so in the reader's language (`missing`).
    """
    values = {f.name: str(posted.get(f.name, "")).strip() for f in form.fields}
    payload = {name: value for name, value in values.items() if value}
    return payload, values


def missing(form: EventForm, values: Mapping[str, str]) -> list[str]:
    """The required fields left blank."""
    return [f.name for f in form.fields if f.required and not values.get(f.name)]


def context(app: App) -> dict[str, Any]:
    """What the forms' template needs besides the forms: the fields' labels, and today
    (the latest day a date field takes: the engine refuses a day in the future)."""
    today = app.calendar.local_date(app.engine.clock.now())
    return {"field_labels": {n: label for n, (label, _) in FIELDS.items()}, "today": today}


__all__ = [
    "VERSION",
    "Choice",
    "EventForm",
    "Field",
    "candidates",
    "context",
    "fields_of",
    "form_of",
    "forms_for",
    "missing",
    "offered",
    "read_payload",
]
