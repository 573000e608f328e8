"""Importing a bailiff's file of referrals: all of it, or only its good rows, as he chose.

Every row is checked before any is opened — its fields, its region and centre against
the bailiff's scope (the rule of `POST /cases`), the same proceeding twice in the file,
an open case already in the database for the proceeding — so that by default a
file with one bad row opens nothing and the answer lists every bad row at once. Then
all rows are opened in one transaction, so a row the engine still refuses at that moment
(a twin referral that arrived meanwhile) rolls the whole file back and is reported with
its line. With `partial`, the good rows are opened each in its own transaction (one
event, one transaction) and the bad ones reported; a refused row does not stop the
others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import scopes
from workflow.centres import Centres
from workflow.engine import Engine
from workflow.errors import Conflict, InvalidField, InvalidInput, NotAllowed
from workflow.referral_csv import parse
from workflow.referral_rows import Checked, Referrer, RowError, check_rows
from workflow.schema import cases
from workflow.summary import terminal_states

Progress = Callable[[int, int], None]
_CHUNK = 500


@dataclass(frozen=True)
class RowOutcome:
    line: int
    status: str  # imported | rejected | not_imported
    enforcement_proceeding: str | None = None
    case_id: int | None = None
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    rows: int
    imported: int
    rejected: int
    partial: bool
    delimiter: str
    ignored_columns: list[str]
    outcomes: list[RowOutcome]

    @property
    def errors(self) -> list[RowError]:
        return [e for o in self.outcomes for e in o.errors]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "errors": [asdict(e) for e in self.errors]}


def import_referrals(
    engine: Engine,
    data: bytes,
    referrer: Referrer,
    *,
    partial: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row, then open the good ones (all or nothing unless `partial`)."""
    defaults = frozenset(k for k in ("region", "centre") if getattr(referrer, k))
    table = parse(data, optional_with_default=defaults)
    if not table.rows:
        raise InvalidField("file", "has no rows below the header")
    today = engine.calendar.local_date(engine.clock.now())
    with engine.store.reading() as conn:
        centres = Centres(conn)

        def scope(region: str, centre: str, ids: list[str]) -> scopes.Refusal | None:
            return scopes.may_open(referrer.bailiff, region, centre, ids, centres)

        checked = check_rows(table.rows, referrer, today, scope)
        checked = _refuse_open_twins(conn, checked)
    bad = sum(1 for c in checked if c.errors)
    if bad and not partial:
        outcomes = [_not_opened(c) for c in checked]
    elif partial:
        outcomes = _open_good_rows(engine, checked, progress)
    else:
        outcomes = _open_all_or_none(engine, checked, progress)
    return ImportReport(
        rows=len(checked),
        imported=sum(1 for o in outcomes if o.status == "imported"),
        rejected=sum(1 for o in outcomes if o.status == "rejected"),
        partial=partial,
        delimiter=table.delimiter,
        ignored_columns=table.ignored_columns,
        outcomes=outcomes,
    )


def _refuse_open_twins(conn: Connection, checked: list[Checked]) -> list[Checked]:
    """A proceeding with an open case must not be referred again (the engine agrees)."""
    names = [c.proceeding for c in checked if c.command is not None and c.proceeding]
    terminal = sorted(terminal_states())
    twins: dict[str, int] = {}
    for start in range(0, len(names), _CHUNK):
        query = sa.select(cases.c.enforcement_proceeding, cases.c.id).where(
            cases.c.enforcement_proceeding.in_(names[start : start + _CHUNK]),
            cases.c.state.not_in(terminal),
        )
        twins.update({str(p): int(i) for p, i in conn.execute(query)})
    if not twins:
        return checked
    result = []
    for c in checked:
        if c.command is not None and c.proceeding in twins:
            reason = f"case {twins[c.proceeding]} is already open for {c.proceeding!r}"
            error = RowError(c.line, "enforcement_proceeding", reason)
            c = Checked(c.line, None, [error], c.proceeding)
        result.append(c)
    return result


def _not_opened(c: Checked) -> RowOutcome:
    status = "rejected" if c.errors else "not_imported"
    return RowOutcome(c.line, status, c.proceeding, None, c.errors)


def _open_good_rows(
    engine: Engine, checked: list[Checked], progress: Progress | None
) -> list[RowOutcome]:
    outcomes: list[RowOutcome] = []
    for done, c in enumerate(checked, start=1):
        if c.command is None:
            outcomes.append(_not_opened(c))
        else:
            try:
                opened = engine.open_case(c.command)
            except (InvalidInput, NotAllowed, Conflict) as exc:
                outcomes.append(_refused(c, exc))
            else:
                outcomes.append(RowOutcome(c.line, "imported", c.proceeding, opened.case_id))
        if progress is not None:
            progress(done, len(checked))
    return outcomes


class _RolledBack(Exception):
    def __init__(self, outcome: RowOutcome) -> None:
        self.outcome = outcome


def _open_all_or_none(
    engine: Engine, checked: list[Checked], progress: Progress | None
) -> list[RowOutcome]:
    """Every row in one transaction: the first refusal rolls the whole file back."""
    outcomes: list[RowOutcome] = []
    try:
        with engine.store.transaction() as conn:
            for done, c in enumerate(checked, start=1):
                assert c.command is not None  # no bad rows reach this point
                try:
                    opened = engine.open_case_in(conn, c.command)
                except (InvalidInput, NotAllowed, Conflict) as exc:
                    raise _RolledBack(_refused(c, exc)) from exc
                outcomes.append(RowOutcome(c.line, "imported", c.proceeding, opened.case_id))
                if progress is not None:
                    progress(done, len(checked))
    except _RolledBack as rolled_back:
        refused = rolled_back.outcome
        return [refused if c.line == refused.line else _not_opened(c) for c in checked]
    return outcomes


def _refused(c: Checked, exc: Exception) -> RowOutcome:
    where = str(getattr(exc, "field", "row"))
    reason = str(getattr(exc, "reason", exc)).removeprefix(f"{where}: ")
    return RowOutcome(c.line, "rejected", c.proceeding, None, [RowError(c.line, where, reason)])
