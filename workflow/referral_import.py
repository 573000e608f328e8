"""Importing a bailiff's file of referrals: all of it, or only its good rows, as he chose.

Every row is checked before any is opened — its fields, its region and centre against
the bailiff's scope (the rule of `POST /cases`), the same proceeding twice in the file,
an open case already in the database for the proceeding — so that by default a file
with one bad row opens nothing and the answer lists the bad rows at once.

The file is read twice and never held as rows: a first pass checks it, a second opens
it, `_BATCH` rows per multi-row statement (`workflow.openings`), so 200,000 rows take
bounded memory and no lock per row. All or nothing, the second pass is one transaction:
a row the engine still refuses at that moment (a twin referral committed meanwhile)
rolls the whole file back and is reported with its line. With `partial`, each batch of
good rows is its own transaction, and a batch that meets a refusal is opened again row
by row (one event, one transaction), so a refused row does not stop the others.

Outcomes are handed to `emit` as they become known (the rejected rows during the check,
then the opened ones): an import job writes them to its downloadable report, the HTTP
answer of a small file collects them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import scopes
from workflow.centres import Centres
from workflow.engine import Engine
from workflow.errors import Conflict, DuplicateCase, InvalidField, InvalidInput, NotAllowed
from workflow.referral_csv import Stream, stream
from workflow.referral_rows import Checked, Referrer, RowError, check_stream
from workflow.schema import cases
from workflow.summary import terminal_states

# (phase, rows done, rows in the file or None while the first pass counts them)
Progress = Callable[[str, int, int | None], None]
_BATCH = 500
MAX_ERRORS = 100  # bad rows named in an answer; the report names them all


@dataclass(frozen=True)
class RowOutcome:
    line: int
    status: str  # imported | rejected | not_imported
    enforcement_proceeding: str | None = None
    case_id: int | None = None
    errors: list[RowError] = field(default_factory=list)


Emit = Callable[[RowOutcome], None]


@dataclass
class ImportSummary:
    """The counts of an import, the first bad rows, and how the file was read."""

    rows: int = 0
    imported: int = 0
    rejected: int = 0
    partial: bool = False
    delimiter: str = ","
    ignored_columns: list[str] = field(default_factory=list)
    first_errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0

    def note(self, outcome: RowOutcome) -> None:
        if outcome.status == "imported":
            self.imported += 1
        elif outcome.status == "rejected":
            self.rejected += 1
            self.errors_total += len(outcome.errors)
            room = MAX_ERRORS - len(self.first_errors)
            self.first_errors.extend(outcome.errors[: max(room, 0)])


OnCommit = Callable[[Connection, ImportSummary], None]


@dataclass(frozen=True)
class ImportReport:
    """A small file's import, every row's outcome in line order (the HTTP answer)."""

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
    outcomes: list[RowOutcome] = []

    def forget() -> None:
        outcomes[:] = [o for o in outcomes if o.status != "imported"]

    summary = run_import(
        engine, data, referrer, outcomes.append, partial=partial, progress=progress, forget=forget
    )
    return ImportReport(
        rows=summary.rows,
        imported=summary.imported,
        rejected=summary.rejected,
        partial=partial,
        delimiter=summary.delimiter,
        ignored_columns=summary.ignored_columns,
        outcomes=sorted(outcomes, key=lambda o: o.line),
    )


def run_import(
    engine: Engine,
    data: bytes,
    referrer: Referrer,
    emit: Emit,
    *,
    partial: bool = False,
    progress: Progress | None = None,
    list_unopened: bool = True,
    on_commit: OnCommit | None = None,
    check_only: bool = False,
    forget: Callable[[], None] | None = None,
) -> ImportSummary:
    """Check the file, then open it; each row's outcome goes to `emit` once.

    Without `partial`, a file with bad rows opens nothing; its good rows are emitted as
    `not_imported` only when `list_unopened` (a large file's report names the bad ones).
    All or nothing, `on_commit` runs in the opening transaction once every row is opened
    (an import job records its verdict there, so the two commit together).
    `check_only` stops after the check (a preview): the bad rows are emitted, nothing is
    opened, and `summary.rows - summary.rejected` rows would be. All or nothing, opened
    rows are emitted batch by batch (not held to the end); `forget` is called when the
    file is then rolled back, to drop the `imported` outcomes emitted so far.
    """
    defaults = frozenset(k for k in ("region", "centre") if getattr(referrer, k))
    table = stream(data, optional_with_default=defaults)
    summary = ImportSummary(
        partial=partial, delimiter=table.delimiter, ignored_columns=table.ignored_columns
    )

    def record(outcome: RowOutcome) -> None:
        summary.note(outcome)
        emit(outcome)

    rejected: set[int] = set()  # lines refused by the check, not to be reported twice
    for batch in _checked_batches(engine, table, referrer, twins=True):
        for c in batch:
            if c.errors:
                rejected.add(c.line)
                record(_not_opened(c))
        summary.rows += len(batch)
        if progress is not None:
            progress("checking", summary.rows, None)
    if summary.rows == 0:
        raise InvalidField("file", "has no rows below the header")
    if check_only:
        return summary
    if partial:
        # Twins are looked up again: one committed since the check is refused, not opened.
        batches = _checked_batches(engine, table, referrer, twins=True)
        _open_good_rows(engine, batches, rejected, record, summary, progress)
        return summary
    if not summary.rejected:
        batches = _checked_batches(engine, table, referrer, twins=False)
        refused = _open_all_or_none(engine, batches, record, summary, progress, on_commit)
        if refused is None:
            return summary
        summary.imported = 0
        if forget is not None:
            forget()
        rejected.add(refused.line)
        record(refused)
    if list_unopened:  # nothing was opened: the good rows say so
        for batch in _checked_batches(engine, table, referrer, twins=False):
            for c in batch:
                if c.line not in rejected:
                    record(RowOutcome(c.line, "not_imported", c.proceeding))
    return summary


def _checked_batches(
    engine: Engine, table: Stream, referrer: Referrer, *, twins: bool
) -> Iterator[list[Checked]]:
    """The file's rows, checked, `_BATCH` at a time (open twins looked up per batch)."""
    today = engine.calendar.local_date(engine.clock.now())
    centres: list[Centres] = []  # the batch's, on the connection it is checked in

    def scope(region: str, centre: str, ids: list[str]) -> scopes.Refusal | None:
        return scopes.may_open(referrer.bailiff, region, centre, ids, centres[-1])

    rows = check_stream(table.rows(), referrer, today, scope)
    while True:
        # No transaction stays open between batches: the consumer writes in between.
        with engine.store.reading() as conn:
            centres.append(Centres(conn))
            batch = list(islice(rows, _BATCH))
            if twins:
                batch = _refuse_open_twins(conn, batch)
            centres.pop()
        if not batch:
            return
        yield batch


def _refuse_open_twins(conn: Connection, checked: list[Checked]) -> list[Checked]:
    """A proceeding with an open case must not be referred again (the engine agrees)."""
    names = [c.proceeding for c in checked if c.command is not None and c.proceeding]
    if not names:
        return checked
    query = sa.select(cases.c.enforcement_proceeding, cases.c.id).where(
        cases.c.enforcement_proceeding.in_(names),
        cases.c.state.not_in(sorted(terminal_states())),
    )
    twins = {str(p): int(i) for p, i in conn.execute(query)}
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


def _opened(engine: Engine, conn: Connection, good: list[Checked]) -> list[RowOutcome]:
    commands = [c.command for c in good if c.command is not None]
    applied = engine.open_cases_in(conn, commands)
    return [
        RowOutcome(c.line, "imported", c.proceeding, a.case_id)
        for c, a in zip(good, applied, strict=True)
    ]


def _open_all_or_none(
    engine: Engine,
    batches: Iterator[list[Checked]],
    record: Emit,
    summary: ImportSummary,
    progress: Progress | None,
    on_commit: OnCommit | None,
) -> RowOutcome | None:
    """Every row in one transaction: the first refusal rolls the whole file back.

    Returns the refused row's outcome (nothing was opened), or None when all were. The
    refusal leaves the transaction as it came, so that the transaction rolls back.
    """
    done = 0
    refused: RowOutcome | None = None
    try:
        with engine.store.transaction() as conn:
            for batch in batches:
                try:
                    opened = _opened(engine, conn, batch)
                except (InvalidInput, NotAllowed, Conflict) as exc:
                    refused = _refused(_culprit(batch, exc), exc, batch)
                    raise
                for outcome in opened:
                    record(outcome)
                done += len(batch)
                if progress is not None:
                    progress("opening", done, summary.rows)
            if on_commit is not None:
                on_commit(conn, summary)
    except (InvalidInput, NotAllowed, Conflict):
        if refused is None:  # not a row's refusal (on_commit's)
            raise
        return refused
    return None


def _open_good_rows(
    engine: Engine,
    batches: Iterator[list[Checked]],
    rejected: set[int],
    record: Emit,
    summary: ImportSummary,
    progress: Progress | None,
) -> None:
    """Each batch of good rows in its own transaction; a refused batch row by row."""
    done = 0
    for batch in batches:
        good = [c for c in batch if c.command is not None]
        for c in batch:
            if c.command is None and c.line not in rejected:
                record(_not_opened(c))
        try:
            with engine.store.transaction() as conn:
                outcomes = _opened(engine, conn, good)
        except (InvalidInput, NotAllowed, Conflict):
            outcomes = [_open_alone(engine, c) for c in good]
        for outcome in outcomes:
            record(outcome)
        done += len(batch)
        if progress is not None:
            progress("opening", done, summary.rows)


def _open_alone(engine: Engine, c: Checked) -> RowOutcome:
    assert c.command is not None
    try:
        opened = engine.open_case(c.command)
    except (InvalidInput, NotAllowed, Conflict) as exc:
        return _refused(c, exc)
    return RowOutcome(c.line, "imported", c.proceeding, opened.case_id)


def _culprit(batch: list[Checked], exc: Exception) -> Checked:
    """The row of a batch a refusal is about (a named proceeding), else its first row."""
    if isinstance(exc, DuplicateCase):
        for c in batch:
            if c.proceeding and c.proceeding == exc.value:
                return c
    return batch[0]


def _refused(c: Checked, exc: Exception, batch: list[Checked] | None = None) -> RowOutcome:
    where = str(getattr(exc, "field", "row"))
    reason = str(getattr(exc, "reason", exc)).removeprefix(f"{where}: ")
    if isinstance(exc, DuplicateCase) and exc.case_id is None:
        lines = f"lines {batch[0].line}-{batch[-1].line}" if batch else f"line {c.line}"
        reason = f"a proceeding of {lines} was referred elsewhere while the file was imported"
    return RowOutcome(c.line, "rejected", c.proceeding, None, [RowError(c.line, where, reason)])
