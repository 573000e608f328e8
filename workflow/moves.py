"""Moving open cases to a newer lifecycle version, each on the record.

A change of law is a new lifecycle file; cases opened under the old one keep it until
they are moved. The newer file says how (`[migration]`: rules by state, and what becomes
of the term); `Decider.move` decides one case without I/O, and this module stores the
decision: one transaction per case, which locks the case row, updates it with the
version check (a case changed meanwhile is re-read and decided again), appends the move
to the case's hash chain as the migration's event (who, when, from which state and
version to which, by which rule) and replaces its open timers when its term changes. A
crash leaves every case on one version or the other, never between; running the move
again picks up the cases still on the old version.

Closed cases are not moved (their history is final; the report on them must not change).
A case no rule places is listed and left untouched. A dry run decides every case and
writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow import names, unit_of_work
from workflow.audit import canonical_json
from workflow.engine import Engine, Move
from workflow.errors import ConcurrentUpdate, InvalidField, NoMoveRule, NotFound
from workflow.schema import cases

ROLE = "admin"  # whose act a move is: the operator who runs it, as an administrator
BATCH = 500  # cases read per query while walking the version's open cases
RETRIES = 3  # a case changed while it was being moved is decided again, this often


@dataclass(frozen=True)
class Fields:
    """What the interface calls the versions and the cases asked for, for its refusals."""

    from_version: str = "--from"
    to_version: str = "--to"
    case_ids: str = "--case"


CLI = Fields()

_OPEN_CASES = (
    sa.select(cases.c.id)
    .where(
        cases.c.definition_version == sa.bindparam("version"),
        cases.c.closed_at.is_(None),
        cases.c.id > sa.bindparam("after"),
    )
    .order_by(cases.c.id)
    .limit(sa.bindparam("limit"))
)


@dataclass(frozen=True)
class Moved:
    """One case moved (or, in a dry run, that would be)."""

    case_id: int
    rule: str
    from_state: str
    to_state: str
    terms: str


@dataclass
class MoveReport:
    from_version: int
    to_version: int
    dry_run: bool
    moved: list[Moved] = field(default_factory=list)
    unplaced: list[NoMoveRule] = field(default_factory=list)
    closed: int = 0  # cases asked for by id that are closed: they stay where they are

    def by_rule(self) -> list[tuple[str, str, str, str, int]]:
        """(rule, from, to, terms, cases) for every rule applied, the most cases first."""
        count = Counter(m.rule for m in self.moved)
        first = {m.rule: m for m in reversed(self.moved)}
        return [
            (rule, first[rule].from_state, first[rule].to_state, first[rule].terms, n)
            for rule, n in sorted(count.items(), key=lambda item: -item[1])
        ]

    def to_dict(self, cases_listed: int = 1000) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "moved": len(self.moved),
            "rules": [
                {"rule": r, "from_state": f, "to_state": t, "terms": terms, "cases": n}
                for r, f, t, terms, n in self.by_rule()
            ],
            "cases": [
                {
                    "case_id": m.case_id,
                    "rule": m.rule,
                    "from_state": m.from_state,
                    "to_state": m.to_state,
                    "terms": m.terms,
                }
                for m in self.moved[:cases_listed]
            ],
            "unplaced": [
                {"case_id": u.case_id, "state": u.state, "reason": str(u)} for u in self.unplaced
            ],
            "closed": self.closed,
        }


def check_versions(from_version: int, to_version: int, fields: Fields = CLI) -> None:
    """Refuse a move the lifecycle files do not declare, naming the option at fault."""
    known = states.versions()
    for option, version in ((fields.from_version, from_version), (fields.to_version, to_version)):
        if version not in known:
            shown = ", ".join(map(str, known))
            raise InvalidField(option, f"there is no lifecycle version {version} (have {shown})")
    if from_version not in states.get(to_version).migrations:
        raise InvalidField(
            fields.to_version, f"version {to_version} declares no move from version {from_version}"
        )


def move_cases(
    engine: Engine,
    from_version: int,
    to_version: int,
    actor: str,
    *,
    case_ids: Sequence[int] | None = None,
    dry_run: bool = False,
    fields: Fields = CLI,
) -> MoveReport:
    """Move the open cases of `from_version` (or only `case_ids`) to `to_version`."""
    check_versions(from_version, to_version, fields)
    names.check("actor", actor)
    target = states.get(to_version)
    report = MoveReport(from_version, to_version, dry_run)
    for case_id in _candidates(engine, from_version, case_ids, report, fields.case_ids):
        try:
            moved = _move_one(engine, case_id, from_version, target, actor, dry_run)
        except NoMoveRule as refused:
            report.unplaced.append(refused)
            continue
        if moved is not None:
            report.moved.append(moved)
    return report


def _candidates(
    engine: Engine,
    version: int,
    case_ids: Sequence[int] | None,
    report: MoveReport,
    field: str,
) -> Iterator[int]:
    if case_ids is not None:
        with engine.store.reading() as conn:
            rows = conn.execute(
                sa.select(cases.c.id, cases.c.definition_version, cases.c.closed_at).where(
                    cases.c.id.in_(list(case_ids))
                )
            ).all()
        found = {r.id: r for r in rows}
        for case_id in case_ids:
            row = found.get(case_id)
            if row is None:
                raise NotFound("case", case_id)
            if row.definition_version != version:
                raise InvalidField(field, f"case {case_id} is on version {row.definition_version}")
            if row.closed_at is not None:
                report.closed += 1
                continue
            yield case_id
        return
    after = 0
    while True:
        with engine.store.reading() as conn:
            batch = conn.execute(
                _OPEN_CASES, {"version": version, "after": after, "limit": BATCH}
            ).scalars().all()  # fmt: skip
        if not batch:
            return
        yield from batch
        after = batch[-1]


def _move_one(
    engine: Engine,
    case_id: int,
    from_version: int,
    target: states.Lifecycle,
    actor: str,
    dry_run: bool,
) -> Moved | None:
    """Move one case in its own transaction; None if it closed or moved meanwhile."""
    for attempt in range(RETRIES):
        try:
            if dry_run:
                with engine.store.reading() as conn:
                    return _decide(engine, conn, case_id, from_version, target, actor, False)
            with engine.store.transaction() as conn:
                return _decide(engine, conn, case_id, from_version, target, actor, True)
        except ConcurrentUpdate:
            if attempt == RETRIES - 1:
                raise
    return None  # pragma: no cover - the loop returns or raises


def _decide(
    engine: Engine,
    conn: Connection,
    case_id: int,
    from_version: int,
    target: states.Lifecycle,
    actor: str,
    write: bool,
) -> Moved | None:
    row = engine.lock(conn, case_id) if write else _read(conn, case_id)
    if row is None or row.definition_version != from_version or row.closed_at is not None:
        return None
    now = engine.clock.now()
    move = engine.move(row, target, now)
    if write:
        store(conn, row, move, target.migration_event, actor, now)
    return Moved(case_id, move.rule.name, row.state, move.rule.target, move.rule.terms)


def _read(conn: Connection, case_id: int) -> Any:
    return conn.execute(sa.select(cases).where(cases.c.id == case_id)).first()


def store(conn: Connection, row: Any, move: Move, event: str, actor: str, now: Any) -> None:
    """Write `move` of the case `row` in the caller's transaction, as the record `event`."""
    payload = canonical_json(move.payload(row.definition_version))
    unit_of_work.write(
        conn,
        unit_of_work.recorded(
            row, event, actor, ROLE, now, move.rule.target, payload, move.values, move.timers
        ),
    )
