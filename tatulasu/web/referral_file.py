"""A bailiff's referral file as his pages show it: checked, and said in his language.

`check` runs the import's own check (`run_import(..., check_only=True)`: nothing is
opened) and keeps what the preview shows: the counts, the first `SHOWN` bad rows with
each fault, and the columns recognised and ignored. A file that cannot be read at all
(not UTF-8, a column missing) is `Unreadable`, with a message the page translates
(`said`).

The columns are named as the bailiff's own file would name them (`COLUMN_TITLES`); the
reasons of the commonest faults are translated (`reason`), the rest stay the engine's
English, as every engine message on the pages does.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict
from typing import Any

from tatulasu.errors import Unreadable
from tatulasu.web.i18n import N_, translations
from workflow import referral_csv
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.referral_import import RowOutcome, run_import
from workflow.referral_rows import Referrer

SHOWN = 100  # bad rows named on the preview; the rest are counted

COLUMN_TITLES = {
    "enforcement_proceeding": N_("Enforcement proceeding number"),
    "proceeding_opened_on": N_("Date the proceeding was opened"),
    "region": N_("Region"),
    "centre": N_("Reconciliation centre"),
    "subject": N_("Subject of the dispute"),
    "language": N_("Language"),
    "debtor_name": N_("Debtor"),
    "debtor_iin_bin": N_("Debtor's IIN/BIN"),
    "debtor_phone": N_("Debtor's phone"),
    "debtor_email": N_("Debtor's e-mail"),
    "debtor_language": N_("Debtor's language"),
    "creditor_name": N_("Creditor"),
    "creditor_iin_bin": N_("Creditor's IIN/BIN"),
    "creditor_phone": N_("Creditor's phone"),
    "creditor_email": N_("Creditor's e-mail"),
    "creditor_language": N_("Creditor's language"),
    "row": N_("The whole row"),
    "file": N_("The file"),
}
# (the engine's reason, as a pattern) -> its translation; groups become `%(n)s`.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"is required"), N_("is required")),
    (re.compile(r"duplicates line (?P<n>\d+) of this file"), N_("repeats line %(n)s of this file")),
    (
        re.compile(r"case (?P<n>\d+) is already open for .*"),
        N_("case %(n)s is already open for this proceeding"),
    ),
    (re.compile(r"is the debtor's IIN/BIN"), N_("is the debtor's IIN/BIN")),
    (re.compile(r".* is in the future"), N_("is in the future")),
    (re.compile(r".* is not a date \(.*\)"), N_("is not a date (YYYY-MM-DD or DD.MM.YYYY)")),
)
NOT_UTF8 = N_(
    'The file is not in UTF-8 (line %(line)s). Save it as "CSV UTF-8" and upload it again.'
)
CP1251 = N_(
    "The file is not in UTF-8 (line %(line)s); it looks like Windows-1251. "
    'Save it as "CSV UTF-8" and upload it again.'
)
_NOT_UTF8 = re.compile(r"is not UTF-8 \(line (?P<line>\d+)\)(?P<cp1251>; it looks like)?")


def said(unreadable: Unreadable, language: str) -> str:
    """Why the file cannot be read, in the bailiff's language (its columns by their titles)."""
    titles = ", ".join(column_title(c, language) for c in unreadable.columns)
    values = {**unreadable.values, **({"columns": titles} if unreadable.columns else {})}
    return translations(language).gettext(unreadable.message) % values


def column_title(column: str, language: str) -> str:
    """A column (or `row`, `file`) as the bailiff's file names it, in `language`."""
    message = COLUMN_TITLES.get(column)
    return translations(language).gettext(message) if message else column


def reason(text: str, language: str) -> str:
    """An engine's reason for a bad cell, translated when it is one of the common ones."""
    for pattern, message in _REASONS:
        found = pattern.fullmatch(text)
        if found is not None:
            return translations(language).gettext(message) % found.groupdict()
    return text


def check(engine: Engine, data: bytes, referrer: Referrer, *, partial: bool) -> dict[str, Any]:
    """Check every row, open nothing; what the preview shows, as plain data (kept as JSON)."""
    bad: list[dict[str, Any]] = []

    def emit(outcome: RowOutcome) -> None:
        if outcome.status == "rejected" and len(bad) < SHOWN:
            bad.append({"line": outcome.line, "errors": [asdict(e) for e in outcome.errors]})

    defaults = frozenset(k for k in ("region", "centre") if getattr(referrer, k))
    try:
        table = referral_csv.stream(data, optional_with_default=defaults)
        summary = run_import(engine, data, referrer, emit, partial=partial, check_only=True)
    except InvalidInput as error:
        raise unreadable(data, error, defaults) from None
    return {
        "rows": summary.rows,
        "good": summary.rows - summary.rejected,
        "rejected": summary.rejected,
        "bad": sorted(bad, key=lambda b: int(b["line"])),
        "columns": table.columns,
        "ignored_columns": summary.ignored_columns,
        "delimiter": summary.delimiter,
    }


def unreadable(data: bytes, error: InvalidInput, optional: frozenset[str]) -> Unreadable:
    """Why the file cannot be read, as the bailiff can act on it."""
    detail = str(error)
    found = _NOT_UTF8.search(detail)
    if found is not None:
        message = CP1251 if found.group("cp1251") else NOT_UTF8
        return Unreadable(message, detail, {"line": found.group("line")})
    missing = missing_columns(data, optional)
    if missing:
        return Unreadable(
            N_("The file has no column for: %(columns)s. The first line must name the columns."),
            detail,
            columns=tuple(missing),
        )
    if "has no rows" in detail:
        return Unreadable(N_("The file has no rows below its first line."), detail)
    return Unreadable(N_("The file cannot be read: %(detail)s"), detail, {"detail": detail})


def missing_columns(data: bytes, optional: frozenset[str]) -> list[str]:
    """The required columns the header does not name (canonical names), if it can be read."""
    try:
        first = data.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return []
    aliases = {
        referral_csv.header_key(alias): name
        for name, spellings in referral_csv.COLUMNS.items()
        for alias in (*spellings, name)
    }
    named = {aliases.get(referral_csv.header_key(cell)) for cell in header}
    needed = [*referral_csv.REQUIRED, *(c for c in ("region", "centre") if c not in optional)]
    return [name for name in needed if name not in named]
