"""A lifecycle definition: plain, frozen data read from a TOML file and checked once.

A broken definition must never reach a running case, so `load` rejects it with an
`InvalidDefinition` naming the state or event at fault, and builds one `transitions`
Machine from it to be sure the library agrees the graph is sound.

Every state, event, term, reason code and procedure has a title in each language of
`LANGS`, because people read them (the pages, notifications) in Kazakh and Russian. The
titles are presentation: nothing the engine decides, or `audit.verify` replays, reads
them, so a corrected translation changes no case.
"""

from __future__ import annotations

import functools
import tomllib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from states import vocabulary
from states.errors import InvalidDefinition

ALL_OPEN = "*"
LANGS = vocabulary.LANGUAGES
# What a lifecycle gives titles to; `Lifecycle.title_of(kind, name, language)`.
Kind = Literal["lifecycle", "state", "event", "term", "reason", "procedure"]
# A title in each language: {"en": …, "ru": …, "kk": …}.
Titles = Mapping[str, str]


@dataclass(frozen=True)
class Expiry:
    """One step taken when a term has run out: fire `event`, `after` days past the term."""

    after: int
    event: str
    payload: Mapping[str, str] = field(default_factory=dict)
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extension:
    days: int
    times: int
    source: str = ""


@dataclass(frozen=True)
class Term:
    """A deadline that starts when a case enters its state."""

    name: str
    days: int
    counted_in: str
    source: str
    reminders: tuple[int, ...] = ()
    remind: tuple[str, ...] = ()
    on_expiry: tuple[Expiry, ...] = ()
    starts_from: str | None = None
    extension: Extension | None = None
    titles: Titles = field(default_factory=dict)
    # The event its reminders fire: the lifecycle's event of kind "reminder".
    reminder_event: str = ""
    # A last day that falls on a day off moves to the next working day (a term in
    # working days always ends on one).
    ends_on_working_day: bool = False
    # False for a waiting period (a ruling's entry into force): its end is no term missed.
    deadline: bool = True

    def plans_like(self, other: Term) -> bool:
        """Whether `other` plans the same due instant and timers as this term."""
        return self._plan_key == other._plan_key

    @property
    def _plan_key(self) -> tuple[Any, ...]:
        return (
            self.name, self.days, self.counted_in, self.reminders, self.remind,
            self.on_expiry, self.ends_on_working_day, self.deadline, self.reminder_event,
        )  # fmt: skip


# What becomes of an open case's term when it moves to another version (`MoveRule`).
TERM_MOVES = ("kept", "replanned", "restarted")


@dataclass(frozen=True)
class MoveRule:
    """How an open case of an earlier version in state `source` moves to this version.

    The first rule of its state whose `guards` hold places the case in `target`; `terms`
    says what becomes of its term: "kept" (same due instant and timers), "replanned" (the
    same term's last day under this version's rules), "restarted" (this version's term
    from the move); "" when `target` has no term (open timers are cancelled).
    """

    name: str
    source: str
    target: str
    guards: tuple[str, ...] = ()
    terms: str = ""


@dataclass(frozen=True)
class Migration:
    """How open cases of `from_version` move to this version, recorded as `event`."""

    from_version: int
    event: str
    rules: tuple[MoveRule, ...]

    def rules_for(self, state: str) -> tuple[MoveRule, ...]:
        return tuple(r for r in self.rules if r.source == state)


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: str
    terminal: bool = False
    term: Term | None = None
    titles: Titles = field(default_factory=dict)
    kind: str | None = None  # what the reports and pages know it as (vocabulary.STATE_KINDS)


@dataclass(frozen=True)
class Opening:
    """What an opening event says of the case it opens (`opens` in the file).

    `origin` is who opened it, by the role that fired the event ("*": whatever the role);
    `procedure` the conciliation procedure it follows unless the referral names one;
    `parties` the party roles the referral must name; `proceeding`, whether it must name
    the enforcement proceeding it comes from.
    """

    origin: Mapping[str, str]
    procedure: str
    parties: tuple[str, ...] = ()
    proceeding: bool = False

    def origin_for(self, role: str) -> str:
        """Who opened a case `role` opens ("" for a role that may not open it)."""
        return self.origin.get(role, self.origin.get(ALL_OPEN, ""))


@dataclass(frozen=True)
class Route:
    """One way an event can go: from these states to `target` (None: stays) if guards hold.

    `roles`, when not empty, narrows the event's roles on this route (the court assigns a
    mediator in court conciliation only).
    """

    sources: tuple[str, ...]
    target: str | None
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()

    def allows(self, role: str) -> bool:
        return not self.roles or role in self.roles


@dataclass(frozen=True)
class EventSpec:
    name: str
    title: str
    roles: frozenset[str]
    routes: tuple[Route, ...]
    payload: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    reasons: str | None = None
    effects: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    while_suspended: bool = False
    # When a party fires it, what he must be on the case (empty: any party of the case).
    parties: frozenset[str] = frozenset()
    titles: Titles = field(default_factory=dict)
    kind: str | None = None  # what the code knows it as (vocabulary.EVENT_KINDS)
    opens: Opening | None = None  # set on, and only on, the events that open a case

    def sources(self) -> frozenset[str]:
        return self._sources

    @cached_property
    def _sources(self) -> frozenset[str]:
        return frozenset(s for r in self.routes for s in r.sources)


@dataclass(frozen=True)
class GuardSpec:
    """A guard in words, for the person whose event it refused.

    `needs` completes "<event> needs …" in each language; `fire` names the event that
    makes the guard hold, when one does.
    """

    name: str
    needs: Mapping[str, str]
    fire: str | None = None

    def explained(self, language: str = "en") -> str:
        """E.g. "a mediator assigned first (guard has_mediator): fire assign_mediator"."""
        text = f"{self.needs[language]} (guard {self.name})"
        return f"{text}: fire {self.fire}" if self.fire else text


@dataclass(frozen=True)
class Lifecycle:
    """A whole, validated lifecycle definition of one version."""

    version: int
    title: str
    initial: str
    states: Mapping[str, StateSpec]
    events: Mapping[str, EventSpec]
    reasons: Mapping[str, frozenset[str]]
    source: str = "<memory>"
    # (state, event) -> the routes leaving that state for that event, in file order.
    table: Mapping[tuple[str, str], tuple[Route, ...]] = field(default_factory=dict)
    guards: Mapping[str, GuardSpec] = field(default_factory=dict)
    titles: Titles = field(default_factory=dict)
    # Titles of the reason codes (shared by the reason lists) and of the procedures.
    reason_titles: Mapping[str, Titles] = field(default_factory=dict)
    procedure_titles: Mapping[str, Titles] = field(default_factory=dict)
    # Reason codes that only some roles may give (`[reason_roles]`: "term_expired" is the
    # clock's to say); a code not listed may be given by whoever may fire the event.
    reason_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # How open cases of earlier versions move to this one, by the version they come from.
    migrations: Mapping[int, Migration] = field(default_factory=dict)
    # The event a move to this version is recorded as, and its titles ("" if none).
    migration_event: str = ""
    migration_titles: Titles = field(default_factory=dict)

    def may_give(self, role: str, reason: str) -> bool:
        """Whether `role` may give the reason code `reason`."""
        allowed = self.reason_roles.get(reason)
        return allowed is None or role in allowed

    def open_states(self) -> list[str]:
        return [s.name for s in self.states.values() if not s.terminal and s.name != self.initial]

    def opening_events(self) -> list[str]:
        return list(self._opening_events)

    @cached_property
    def _opening_events(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.events.values() if self.initial in e.sources())

    def event_of_kind(self, kind: str) -> str:
        """The one event of `kind` (vocabulary.SINGLE_EVENT_KINDS), checked at load."""
        return self._kinds[kind][0]

    def events_of_kind(self, kind: str) -> tuple[str, ...]:
        return self._kinds.get(kind, ())

    @cached_property
    def _kinds(self) -> Mapping[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for event in self.events.values():
            if event.kind is not None:
                found[event.kind] = (*found.get(event.kind, ()), event.name)
        return found

    def state_of_kind(self, kind: str) -> str | None:
        """The state of `kind` (vocabulary.STATE_KINDS), if this lifecycle has one."""
        return next((s.name for s in self.states.values() if s.kind == kind), None)

    def opening_event_for(self, role: str) -> str | None:
        """The event by which `role` opens a case (at most one per role, checked at load)."""
        return next((n for n in self._opening_events if role in self.events[n].roles), None)

    @cached_property
    def tally_columns(self) -> Mapping[str, str]:
        """Event -> the case column that counts it (by the events' kinds)."""
        return {
            e.name: column
            for e in self.events.values()
            if e.kind is not None and (column := vocabulary.EVENT_KINDS[e.kind]) is not None
        }

    @cached_property
    def expiry_moves(self) -> frozenset[str]:
        """Events a term's expiry fires that move the case (not its escalations)."""
        escalations = set(self.events_of_kind("escalation"))
        return frozenset(
            step.event
            for spec in self.states.values()
            if spec.term is not None and spec.term.deadline
            for step in spec.term.on_expiry
            if step.event not in escalations
        )

    def events_from(self, state: str) -> list[str]:
        return [name for name in self.events if (state, name) in self.table]

    def titled(self, kind: Kind) -> Mapping[str, Titles]:
        """The titles of every item of `kind`, by name."""
        if kind == "lifecycle":
            return {"": self.titles}
        if kind == "state":
            return {n: s.titles for n, s in self.states.items()}
        if kind == "event":
            found = {n: e.titles for n, e in self.events.items()}
            if self.migration_event:
                found[self.migration_event] = self.migration_titles
            return found
        if kind == "term":
            return {s.term.name: s.term.titles for s in self.states.values() if s.term}
        return self.reason_titles if kind == "reason" else self.procedure_titles

    def title_of(self, kind: Kind, name: str, language: str) -> str | None:
        """What the state, event, term, reason or procedure `name` is called in `language`."""
        return self.titled(kind).get(name, {}).get(language)


def load(path: Path) -> Lifecycle:
    """Read, parse and validate a lifecycle file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDefinition(path.name, "file", f"not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidDefinition(path.name, "file", f"not UTF-8: {exc}") from exc
    return parse(raw, source=path.name)


def parse(raw: Mapping[str, Any], source: str = "<memory>") -> Lifecycle:
    """Turn the parsed TOML into a `Lifecycle`, rejecting anything inconsistent.

    Every refusal is an `InvalidDefinition`. A value of a shape no check names (a list
    where a table belongs, a word where a number does) is refused here too, where the
    parser was reading it (`_where`), never as a KeyError or TypeError of ours.
    """
    try:
        lifecycle = _Parser(source).lifecycle(raw)
        _check_kinds(lifecycle)
        _check_graph(lifecycle)
        _check_titles(lifecycle)
        build_machine(lifecycle)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        reason = f"a value of the wrong type, or a key missing ({type(exc).__name__}: {exc})"
        raise InvalidDefinition(source, _where(exc), reason) from exc
    return lifecycle


def _where(exc: BaseException) -> str:
    """The `where` the innermost function of this module that `exc` passed through was
    reading (each names its place so: "state 'referred' term"), else "file"."""
    where = "file"
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__") == __name__:
            where = str(frame.f_locals.get("where", where))
        tb = tb.tb_next
    return where


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> InvalidDefinition:
        return InvalidDefinition(self.source, where, reason)

    def lifecycle(self, raw: Mapping[str, Any]) -> Lifecycle:
        version = raw.get("version")
        if not isinstance(version, int) or version < 1:
            raise self.fail("version", "must be a whole number of at least 1")
        raw_states = raw.get("states")
        if not isinstance(raw_states, dict) or not raw_states:
            raise self.fail("states", "at least one state is required")
        initial = str(raw.get("initial", ""))
        if initial not in raw_states:
            raise self.fail("initial", f"{initial!r} is not a declared state")
        reminder = next(  # exactly one, `_check_kinds` makes sure
            (str(n) for n, e in dict(raw.get("events") or {}).items()
             if isinstance(e, dict) and e.get("kind") == "reminder"),
            "",
        )  # fmt: skip
        states = {name: self.state(name, spec, reminder) for name, spec in raw_states.items()}
        reasons = {
            name: frozenset(self.words(f"reasons.{name}", codes))
            for name, codes in dict(raw.get("reasons", {})).items()
        }
        open_states = [n for n, s in states.items() if not s.terminal and n != initial]
        raw_events = raw.get("events")
        if not isinstance(raw_events, dict) or not raw_events:
            raise self.fail("events", "at least one event is required")
        events = {
            name: self.event(name, spec, states, reasons, open_states)
            for name, spec in raw_events.items()
        }
        guards = self.guards(raw.get("guards", {}), events)
        table: dict[tuple[str, str], tuple[Route, ...]] = {}
        for event in events.values():
            for route in event.routes:
                for src in route.sources:
                    table[(src, event.name)] = (*table.get((src, event.name), ()), route)
        titles = self.titles("lifecycle", raw.get("title"))
        return Lifecycle(
            version=version,
            title=titles.get("en", ""),
            initial=initial,
            states=states,
            events=events,
            reasons=reasons,
            source=self.source,
            table=table,
            guards=guards,
            titles=titles,
            reason_titles=self.titled("reason", raw.get("reason_titles", {})),
            procedure_titles=self.titled("procedure", raw.get("procedures", {})),
            reason_roles=self.reason_roles(raw.get("reason_roles", {}), reasons),
            **self.migration(raw.get("migration"), states, events, initial),
        )

    def migration(
        self,
        raw: Any,
        states: Mapping[str, StateSpec],
        events: Mapping[str, EventSpec],
        initial: str,
    ) -> dict[str, Any]:
        """`[migration]`: the event a move is recorded as, and `from_N` lists of rules.

        The states a rule moves from belong to version N: they are checked against it
        when every version is loaded (`states.check_migrations`).
        """
        if raw is None:
            return {}
        where = "migration"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table: event, title, from_N = [rules]")
        event = raw.get("event")
        if not isinstance(event, str) or not event.isidentifier():
            raise self.fail(where, "event must name the event a move is recorded as")
        if event in events:
            raise self.fail(where, f"event {event!r} is an event of the lifecycle")
        found: dict[int, Migration] = {}
        for key, rules in raw.items():
            if key in ("event", "title"):
                continue
            version = key.removeprefix("from_")
            if not key.startswith("from_") or not version.isdigit():
                raise self.fail(where, f"unknown key {key!r} (from_N lists the rules)")
            if not isinstance(rules, list) or not rules:
                raise self.fail(f"{where}.{key}", "must be a list of rules")
            moves = tuple(self.move_rule(f"{where}.{key}", r, states, initial) for r in rules)
            names = [m.name for m in moves]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise self.fail(f"{where}.{key}", f"rules named twice: {twice}")
            found[int(version)] = Migration(int(version), event, moves)
        return {
            "migrations": found,
            "migration_event": event,
            "migration_titles": self.titles(where, raw.get("title")),
        }

    def move_rule(
        self, where: str, spec: Any, states: Mapping[str, StateSpec], initial: str
    ) -> MoveRule:
        if not isinstance(spec, dict):
            raise self.fail(where, "a rule must be a table: from, when, to, terms")
        unknown = sorted(set(spec) - {"from", "when", "to", "terms", "name"})
        if unknown:
            raise self.fail(where, f"unknown keys {unknown}")
        source, target = spec.get("from"), spec.get("to")
        if not isinstance(source, str) or not source:
            raise self.fail(where, "from must name a state of the earlier version")
        where = f"{where} rule from {source!r}"
        if not isinstance(target, str) or target not in states or target == initial:
            raise self.fail(where, f"to must name a state of this version, not {target!r}")
        guards = tuple(self.words(f"{where} when", spec.get("when", [])))
        self.known(where, "guards", guards, vocabulary.GUARDS)
        terms = spec.get("terms", "")
        has_term = states[target].term is not None
        if has_term and terms not in TERM_MOVES:
            raise self.fail(where, f"terms must be one of {', '.join(TERM_MOVES)}")
        if not has_term and terms:
            raise self.fail(where, f"{target!r} has no term: terms must not be given")
        name = spec.get("name") or ".".join((source, *guards))
        return MoveRule(str(name), source, str(target), guards, str(terms))

    def reason_roles(
        self, raw: Any, reasons: Mapping[str, frozenset[str]]
    ) -> dict[str, frozenset[str]]:
        """`[reason_roles]`: code = [roles]; the code must be in a list, the roles known."""
        if not isinstance(raw, dict):
            raise self.fail("reason_roles", "must be a table: reason code = [roles]")
        codes = {c for listed in reasons.values() for c in listed}
        found = {}
        for code, roles in raw.items():
            where = f"reason_roles {code!r}"
            if code not in codes:
                raise self.fail(where, "is not a reason code of any list")
            given = tuple(self.words(where, roles))
            if not given:
                raise self.fail(where, "must name at least one role")
            self.known(where, "roles", given, vocabulary.ROLES)
            found[str(code)] = frozenset(given)
        return found

    def titles(self, where: str, raw: Any) -> dict[str, str]:
        """A `title` table ({en, ru, kk}); which languages are missing is checked later."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(where, "title must be a table: title.en, title.ru, title.kk")
        unknown = sorted(set(raw) - set(LANGS))
        if unknown:
            raise self.fail(where, f"title has unknown languages {unknown}")
        return {str(lang): str(text).strip() for lang, text in raw.items()}

    def titled(self, kind: str, raw: Any) -> dict[str, dict[str, str]]:
        """A table of titles by name: `[reason_titles]` or `[procedures]`."""
        if not isinstance(raw, dict):
            raise self.fail(kind, "must be a table of titles by name")
        return {str(name): self.titles(f"{kind} {name!r}", t) for name, t in raw.items()}

    def guards(self, raw: Any, events: Mapping[str, EventSpec]) -> dict[str, GuardSpec]:
        """Every guard a route names must be explained, in every language."""
        if not isinstance(raw, dict):
            raise self.fail("guards", "must be a table of guards")
        found = {str(name): self.guard(str(name), spec, events) for name, spec in raw.items()}
        used = sorted({g for e in events.values() for r in e.routes for g in r.guards})
        for name in used:
            if name not in found:
                raise self.fail(
                    f"guard {name!r}",
                    f"has no explanation: add [guards.{name}] with needs.en, needs.ru, needs.kk",
                )
        return found

    def guard(self, name: str, spec: Any, events: Mapping[str, EventSpec]) -> GuardSpec:
        where = f"guard {name!r}"
        self.known(where, "guards", (name,), vocabulary.GUARDS)
        needs = spec.get("needs") if isinstance(spec, dict) else None
        if not isinstance(needs, dict):
            raise self.fail(where, "needs must explain the guard in " + "/".join(LANGS))
        unknown = sorted(set(needs) - set(LANGS))
        if unknown:
            raise self.fail(where, f"needs has unknown languages {unknown}")
        missing = [lang for lang in LANGS if not str(needs.get(lang, "")).strip()]
        if missing:
            raise self.fail(where, f"needs has no explanation in {', '.join(missing)}")
        fire = spec.get("fire")
        if fire is not None and fire not in events:
            raise self.fail(where, f"fire names an unknown event {fire!r}")
        texts = {lang: str(needs[lang]).strip() for lang in LANGS}
        return GuardSpec(name=name, needs=texts, fire=fire)

    def words(self, where: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "must be a list of words")
        return list(value)

    def state(self, name: str, spec: Mapping[str, Any], reminder: str) -> StateSpec:
        where = f"state {name!r}"
        terminal = bool(spec.get("terminal", False))
        term = self.term(where, spec["term"], reminder) if "term" in spec else None
        if terminal and term is not None:
            raise self.fail(where, "a terminal state cannot have a term")
        titles = self.titles(where, spec.get("title"))
        kind = spec.get("kind")
        self.known(where, "kind", (kind,) if kind else (), frozenset(vocabulary.STATE_KINDS))
        return StateSpec(
            name=name,
            title=titles.get("en", name),
            terminal=terminal,
            term=term,
            titles=titles,
            kind=kind,
        )

    def term(self, where: str, spec: Mapping[str, Any], reminder: str) -> Term:
        where = f"{where} term"
        if not isinstance(spec, dict):
            raise self.fail(where, "must be a table: days, counted_in, on_expiry, …")
        days = spec.get("days")
        if not isinstance(days, int) or days < 1:
            raise self.fail(where, "days must be a whole number of at least 1")
        counted_in = spec.get("counted_in")
        if counted_in not in vocabulary.DAY_COUNTS:
            raise self.fail(where, f"counted_in must be one of {sorted(vocabulary.DAY_COUNTS)}")
        reminders = tuple(int(r) for r in spec.get("reminders", []))
        for r in reminders:
            if not 0 < r < days:
                raise self.fail(where, f"reminder {r} days before must lie inside the term")
        remind = tuple(self.words(f"{where} remind", spec.get("remind", [])))
        self.recipients(where, remind)
        expiries = tuple(self.expiry(where, e) for e in spec.get("on_expiry", []))
        if not expiries:
            raise self.fail(where, "on_expiry must say what happens when the term runs out")
        ext = spec.get("extension")
        extension = self.extension(f"{where} extension", ext) if ext else None
        return Term(
            name=str(spec.get("name", "")) or where,
            days=days,
            counted_in=str(counted_in),
            source=str(spec.get("source", "")),
            reminders=reminders,
            remind=remind,
            on_expiry=expiries,
            starts_from=spec.get("starts_from"),
            extension=extension,
            titles=self.titles(where, spec.get("title")),
            reminder_event=reminder,
            ends_on_working_day=self.flag(where, spec, "ends_on_working_day"),
            deadline=self.flag(where, spec, "deadline", default=True),
        )

    def flag(self, where: str, spec: Mapping[str, Any], key: str, default: bool = False) -> bool:
        value = spec.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} must be true or false")
        return value

    def extension(self, where: str, spec: Any) -> Extension:
        if not isinstance(spec, dict):
            raise self.fail(where, "must be a table: days, times, source")
        days, times = spec.get("days"), spec.get("times")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise self.fail(where, "days must be a whole number of at least 1")
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise self.fail(where, "times must be a whole number of at least 1")
        return Extension(days=days, times=times, source=str(spec.get("source", "")))

    def expiry(self, where: str, spec: Mapping[str, Any]) -> Expiry:
        if not isinstance(spec, dict):
            raise self.fail(f"{where} on_expiry", "each step must be a table: event, after, …")
        if not isinstance(spec.get("event"), str) or not spec["event"]:
            raise self.fail(f"{where} on_expiry", "each step must name its event")
        notify = tuple(self.words(f"{where} on_expiry notify", spec.get("notify", [])))
        self.recipients(where, notify)
        return Expiry(
            after=int(spec.get("after", 0)),
            event=str(spec["event"]),
            payload={str(k): str(v) for k, v in dict(spec.get("payload", {})).items()},
            notify=notify,
        )

    def recipients(self, where: str, names: tuple[str, ...]) -> None:
        unknown = set(names) - vocabulary.RECIPIENTS
        if unknown:
            raise self.fail(where, f"unknown recipients {sorted(unknown)}")

    def event(
        self,
        name: str,
        spec: Mapping[str, Any],
        states: Mapping[str, StateSpec],
        reasons: Mapping[str, frozenset[str]],
        open_states: list[str],
    ) -> EventSpec:
        where = f"event {name!r}"
        roles = frozenset(self.words(f"{where} roles", spec.get("roles", [])))
        if not roles:
            raise self.fail(where, "roles must name at least one role")
        if roles - vocabulary.ROLES:
            raise self.fail(where, f"unknown roles {sorted(roles - vocabulary.ROLES)}")
        raw_routes = spec.get("routes") or [
            {k: spec[k] for k in ("from", "to", "guards") if k in spec}
        ]
        routes = tuple(self.route(where, r, states, open_states) for r in raw_routes)
        for route in routes:
            if route.roles - roles:
                raise self.fail(
                    where, f"route roles {sorted(route.roles - roles)} are not its roles"
                )
        parties = frozenset(self.words(f"{where} parties", spec.get("parties", [])))
        if parties - vocabulary.PARTY_ROLES:
            raise self.fail(
                where, f"unknown party roles {sorted(parties - vocabulary.PARTY_ROLES)}"
            )
        if parties and "party" not in roles:
            raise self.fail(where, "parties narrows the role 'party', which may not fire it")
        reason_set = spec.get("reasons")
        if reason_set is not None and reason_set not in reasons:
            raise self.fail(where, f"unknown reason list {reason_set!r}")
        effects = tuple(self.words(f"{where} effects", spec.get("effects", [])))
        self.known(where, "effects", effects, vocabulary.EFFECTS)
        notify = tuple(self.words(f"{where} notify", spec.get("notify", [])))
        self.recipients(where, notify)
        payload = self.fields(where, spec.get("payload", {}))
        optional = self.fields(where, spec.get("optional", {}))
        titles = self.titles(where, spec.get("title"))
        kind = spec.get("kind")
        self.known(where, "kind", (kind,) if kind else (), frozenset(vocabulary.EVENT_KINDS))
        opens = self.opening(where, spec["opens"], roles) if "opens" in spec else None
        return EventSpec(
            name=name,
            title=titles.get("en", name),
            roles=roles,
            routes=routes,
            payload=payload,
            optional=optional,
            reasons=reason_set,
            effects=effects,
            notify=notify,
            while_suspended=bool(spec.get("while_suspended", False)),
            parties=parties,
            titles=titles,
            kind=kind,
            opens=opens,
        )

    def opening(self, where: str, spec: Any, roles: frozenset[str]) -> Opening:
        """`opens = { origin = …, procedure = …, parties = […], proceeding = … }`."""
        where = f"{where} opens"
        if not isinstance(spec, dict):
            raise self.fail(where, "must be a table: origin, procedure, parties, proceeding")
        unknown = sorted(set(spec) - {"origin", "procedure", "parties", "proceeding"})
        if unknown:
            raise self.fail(where, f"unknown keys {unknown}")
        raw = spec.get("origin")
        origin = {ALL_OPEN: raw} if isinstance(raw, str) else raw
        if not isinstance(origin, dict) or not origin:
            raise self.fail(where, "origin must be an origin, or a table of origins by role")
        self.known(where, "origins", tuple(str(o) for o in origin.values()), vocabulary.ORIGINS)
        if ALL_OPEN not in origin and set(origin) != roles:
            raise self.fail(where, f"origin must name each of the roles {sorted(roles)}")
        procedure = spec.get("procedure")
        if procedure not in vocabulary.PROCEDURES:
            raise self.fail(where, f"procedure must be one of {sorted(vocabulary.PROCEDURES)}")
        parties = tuple(self.words(f"{where} parties", spec.get("parties", [])))
        self.known(where, "party roles", parties, vocabulary.PARTY_ROLES)
        return Opening(
            {str(k): str(v) for k, v in origin.items()},
            str(procedure),
            parties,
            bool(spec.get("proceeding", False)),
        )

    def route(
        self,
        where: str,
        spec: Mapping[str, Any],
        states: Mapping[str, StateSpec],
        open_states: list[str],
    ) -> Route:
        sources: list[str] = []
        for src in self.words(f"{where} from", spec.get("from", [])):
            sources.extend(open_states if src == ALL_OPEN else [src])
        if not sources:
            raise self.fail(where, "from must name at least one state")
        target = spec.get("to")
        for state in [*sources, *([target] if target is not None else [])]:
            if state not in states:
                raise self.fail(where, f"unknown state {state!r}")
        for src in sources:
            if states[src].terminal and target not in (None, src):
                raise self.fail(where, f"terminal state {src!r} cannot have an exit")
        guards = tuple(self.words(f"{where} guards", spec.get("guards", [])))
        self.known(where, "guards", guards, vocabulary.GUARDS)
        effects = tuple(self.words(f"{where} effects", spec.get("effects", [])))
        self.known(where, "effects", effects, vocabulary.EFFECTS)
        roles = frozenset(self.words(f"{where} route roles", spec.get("roles", [])))
        return Route(tuple(dict.fromkeys(sources)), target, guards, effects, roles)

    def fields(self, where: str, spec: Mapping[str, Any]) -> dict[str, str]:
        fields = {str(k): str(v) for k, v in dict(spec).items()}
        bad = {k: v for k, v in fields.items() if v not in vocabulary.FIELD_TYPES}
        if bad:
            raise self.fail(where, f"unknown field types {bad}")
        return fields

    def known(self, where: str, kind: str, names: tuple[str, ...], allowed: frozenset[str]) -> None:
        unknown = set(names) - allowed
        if unknown:
            raise self.fail(where, f"unknown {kind} {sorted(unknown)}")


def _check_graph(lc: Lifecycle) -> None:
    """Every state reachable, every open state has a way out, expiry events can fire."""

    def fail(where: str, reason: str) -> InvalidDefinition:
        return InvalidDefinition(lc.source, where, reason)

    reached = {lc.initial}
    queue = deque([lc.initial])
    while queue:
        state = queue.popleft()
        for (src, _event), routes in lc.table.items():
            if src != state:
                continue
            for route in routes:
                if route.target is not None and route.target not in reached:
                    reached.add(route.target)
                    queue.append(route.target)
    for name, spec in lc.states.items():
        if name not in reached:
            raise fail(f"state {name!r}", "is unreachable from the initial state")
        leaves = any(
            r.target not in (None, name)
            for (src, _e), routes in lc.table.items()
            if src == name
            for r in routes
        )
        if not spec.terminal and not leaves:
            raise fail(f"state {name!r}", "is not terminal but has no way out")
        if spec.term is None:
            continue
        steps = [
            ("expiry", step.event, dict(step.payload) or _TERM_INFO) for step in spec.term.on_expiry
        ]
        if spec.term.reminders:
            steps.append(("reminder", spec.term.reminder_event, _TERM_INFO))
        for kind, event_name, payload in steps:
            where = f"state {name!r} term"
            event = lc.events.get(event_name)
            if event is None or (name, event_name) not in lc.table:
                raise fail(where, f"{kind} event {event_name!r} cannot fire here")
            if "system" not in event.roles:
                raise fail(
                    f"event {event_name!r}", f"fires on {kind}, so the system role must be allowed"
                )
            problem = _payload_problem(lc, event, payload)
            if problem:
                raise fail(where, f"{kind} event {event_name!r}: {problem}")


def _check_kinds(lc: Lifecycle) -> None:
    """The code finds the events and states it needs by kind: each must be there once,
    and each event that opens a case says what it opens."""

    def fail(where: str, reason: str) -> InvalidDefinition:
        return InvalidDefinition(lc.source, where, reason)

    for kind in sorted(vocabulary.SINGLE_EVENT_KINDS):
        named = lc.events_of_kind(kind)
        if len(named) != 1:
            found = f"{len(named)}: {', '.join(named)}" if named else "none"
            raise fail("events", f"exactly one event must be of kind {kind!r} (found {found})")
    for kind in sorted(set(vocabulary.EVENT_KINDS) - vocabulary.SINGLE_EVENT_KINDS):
        named = lc.events_of_kind(kind)
        if kind in vocabulary.AT_MOST_ONE_EVENT_KINDS and len(named) > 1:
            raise fail("events", f"at most one event may be of kind {kind!r}: {list(named)}")
    for kind in sorted(vocabulary.STATE_KINDS):
        kinded = [s.name for s in lc.states.values() if s.kind == kind]
        if len(kinded) > 1:
            raise fail("states", f"at most one state may be of kind {kind!r}: {kinded}")
    _check_receipt_kinds(lc)
    openers: dict[str, str] = {}
    for event in lc.events.values():
        opening = lc.initial in event.sources()
        if opening and event.opens is None:
            raise fail(f"event {event.name!r}", "opens a case: say what it opens (opens = …)")
        if not opening and event.opens is not None:
            raise fail(f"event {event.name!r}", f"has opens but does not leave {lc.initial!r}")
        for role in sorted(event.roles if opening else ()):
            if role in openers:
                raise fail(
                    f"event {event.name!r}",
                    f"role {role!r} already opens cases by {openers[role]!r}: one event per role",
                )
            openers[role] = event.name


def check_migration(old: Lifecycle, new: Lifecycle) -> None:
    """The rules moving open cases of `old` to `new` read states `old` has, and a term
    "kept" or "replanned" is one term under both versions."""
    migration = new.migrations[old.version]

    def fail(rule: MoveRule, reason: str) -> InvalidDefinition:
        return InvalidDefinition(
            new.source, f"migration.from_{old.version} rule {rule.name!r}", reason
        )

    for rule in migration.rules:
        spec = old.states.get(rule.source)
        if spec is None or rule.source not in old.open_states():
            raise fail(rule, f"{rule.source!r} is not an open state of version {old.version}")
        before, after = spec.term, new.states[rule.target].term
        if rule.terms == "kept" and not (before and after and before.plans_like(after)):
            raise fail(rule, "terms = kept: both states must have the same term (days, steps)")
        if rule.terms == "replanned":
            if before is None or after is None or before.name != after.name:
                raise fail(rule, "terms = replanned: both states must have the same term")
            stays = set(new.events_of_kind("escalation"))
            if any(step.event in stays for step in before.on_expiry):
                # An escalation that fired leaves no mark the new plan could skip.
                raise fail(rule, "terms = replanned: not for a term that escalates")


def _check_receipt_kinds(lc: Lifecycle) -> None:
    """A state awaiting a receipt is left by the lifecycle's event of kind
    "notice_received", which carries the day received as its one required date field."""
    waiting = lc.state_of_kind("awaiting_receipt")
    received = lc.events_of_kind("notice_received")
    if waiting is None and not received:
        return
    if waiting is None or not received:
        raise InvalidDefinition(
            lc.source,
            "kinds",
            "a state of kind 'awaiting_receipt' and an event of kind 'notice_received' go together",
        )
    event = lc.events[received[0]]
    if (waiting, event.name) not in lc.table:
        raise InvalidDefinition(
            lc.source, f"event {event.name!r}", f"must leave {waiting!r}, the state awaiting it"
        )
    dates = [name for name, kind in event.payload.items() if kind == "date"]
    if len(dates) != 1 or len(event.payload) != 1 or "system" not in event.roles:
        raise InvalidDefinition(
            lc.source,
            f"event {event.name!r}",
            "a receipt has one required date field (the day received) and the system role",
        )


_WHERE_TITLES: dict[Kind, str] = {
    "lifecycle": "title.{lang}",
    "state": "title.{lang}",
    "event": "title.{lang}",
    "term": "title.{lang}",
    "reason": "[reason_titles] {name}.{lang}",
    "procedure": "[procedures] {name}.{lang}",
}


def _check_titles(lc: Lifecycle) -> None:
    """Every state, event, term, reason code in a list and procedure has a title in each
    language; a title for a reason or procedure that does not exist is a typo."""
    expected: dict[Kind, set[str]] = {
        "lifecycle": {""},
        "state": set(lc.states),
        "event": set(lc.events) | ({lc.migration_event} if lc.migration_event else set()),
        "term": {s.term.name for s in lc.states.values() if s.term},
        "reason": {code for codes in lc.reasons.values() for code in codes},
        "procedure": set(vocabulary.PROCEDURES),
    }
    for kind, names in expected.items():
        titled = lc.titled(kind)
        for name in sorted(set(titled) - names):
            raise InvalidDefinition(
                lc.source, f"{kind} {name!r}", f"has a title but no {kind} is called so"
            )
        for name in sorted(names):
            missing = [lang for lang in LANGS if not titled.get(name, {}).get(lang)]
            if missing:
                where = "lifecycle" if kind == "lifecycle" else f"{kind} {name!r}"
                add = ", ".join(
                    _WHERE_TITLES[kind].format(name=name, lang=lang) for lang in missing
                )
                raise InvalidDefinition(
                    lc.source, where, f"has no title in {', '.join(missing)}: add {add}"
                )


# What a timer without a payload of its own sends: the term and when it runs out.
_TERM_INFO = {"term": "", "due_at": ""}


def _payload_problem(lc: Lifecycle, event: EventSpec, payload: Mapping[str, str]) -> str | None:
    """Why `event` would refuse the payload a timer sends it, or None."""
    accepted = set(event.payload) | set(event.optional)
    if event.reasons is not None:
        accepted |= {"reason", "reason_text"}
    unknown = sorted(set(payload) - accepted)
    if unknown:
        return f"payload fields {unknown} are not accepted"
    required = set(event.payload) | ({"reason"} if event.reasons is not None else set())
    missing = sorted(required - set(payload))
    if missing:
        return f"payload lacks required fields {missing}"
    if event.reasons is not None and payload["reason"] not in lc.reasons[event.reasons]:
        return f"reason {payload['reason']!r} is not in the list {event.reasons!r}"
    if "reason" in payload and not lc.may_give("system", payload["reason"]):
        return f"reason {payload['reason']!r} is not one the system may give ([reason_roles])"
    return None


def build_machine(
    lc: Lifecycle,
    machine_class: Any = None,
    on_route: Callable[[Route], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Build one `transitions` Machine for the definition (validation, runtime and diagrams).

    Guards become conditions named `guard_<name>`, resolved on the model; `on_route` is
    told which route a trigger took.
    """
    from transitions import Machine, MachineError

    cls = machine_class or Machine
    transitions = [
        {
            "trigger": event.name,
            "source": list(route.sources),
            "dest": route.target,
            "conditions": [f"guard_{g}" for g in route.guards] or None,
            "after": functools.partial(on_route, route) if on_route else None,
        }
        for event in lc.events.values()
        for route in event.routes
    ]
    try:
        return cls(
            states=list(lc.states),
            transitions=transitions,
            initial=lc.initial,
            auto_transitions=False,
            **kwargs,
        )
    except (MachineError, ValueError) as exc:
        raise InvalidDefinition(lc.source, "machine", str(exc)) from exc
