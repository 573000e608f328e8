"""Turning the rows of a bailiff's file into referrals, or into reasons they cannot be.

Every row is checked as the engine would check a referral (region, centre, IIN/BIN
check digits, contacts, languages), against the bailiff's scope by the rule `POST /cases`
applies (`workflow.scopes.may_open`: his region, his centre, a registered centre), plus
what only a file can get wrong: a date that is not a date or lies in the future, and the
same enforcement proceeding twice. All the faults of a row are reported at once, so one
round of corrections is enough.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import states
from workflow import identifiers, names
from workflow.commands import LANGUAGES, OpenCase, PartyInput
from workflow.contacts import EMAIL, PHONE, tidy_phone
from workflow.errors import InvalidField
from workflow.referral_csv import Row
from workflow.regions import REGIONS
from workflow.scopes import Refusal
from workflow.users import User

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")

# Records one fault (field, reason) of the row being checked.
Fault = Callable[[str, str], None]
# Why the bailiff may not open a case in (region, centre) for these IIN/BINs, or None.
Scope = Callable[[str, str, list[str]], Refusal | None]


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class Referrer:
    """The bailiff sending the file, and the region and centre of rows that name none."""

    bailiff: User
    region: str | None = None
    centre: str | None = None

    @property
    def actor(self) -> str:
        return self.bailiff.id


@dataclass(frozen=True)
class Checked:
    line: int
    command: OpenCase | None
    errors: list[RowError]
    proceeding: str | None = None


def check_rows(rows: Iterable[Row], referrer: Referrer, today: date, scope: Scope) -> list[Checked]:
    """Each row as a command, or its errors; a repeated proceeding names its first line."""
    return list(check_stream(rows, referrer, today, scope))


def check_stream(
    rows: Iterable[Row], referrer: Referrer, today: date, scope: Scope
) -> Iterator[Checked]:
    """`check_rows` one row at a time: only the proceedings seen so far are remembered."""
    seen: dict[str, int] = {}
    for row in rows:
        errors: list[RowError] = []
        command = _command(row, referrer, today, errors)
        placed = {e.field for e in errors} & {"region", "centre"}
        if command.region and command.centre.strip() and not placed:
            ids = [p.iin_bin for p in command.parties]
            refused = scope(command.region, command.centre, ids)
            if refused is not None:
                errors.append(RowError(row.line, refused.field, refused.reason))
        proceeding = row.values.get("enforcement_proceeding", "").casefold()
        if proceeding and proceeding in seen:
            errors.append(
                RowError(
                    row.line,
                    "enforcement_proceeding",
                    f"duplicates line {seen[proceeding]} of this file",
                )
            )
        elif proceeding:
            seen[proceeding] = row.line
        number = row.values.get("enforcement_proceeding") or None
        yield Checked(row.line, None if errors else command, errors, number)


def _command(row: Row, referrer: Referrer, today: date, errors: list[RowError]) -> OpenCase:
    v = row.values

    def fault(field: str, reason: str) -> None:
        errors.append(RowError(row.line, field, reason))

    if row.surplus_cells:
        fault("row", f"has {row.surplus_cells} more filled cell(s) than the header has columns")
    region = v.get("region") or referrer.region or ""
    centre = v.get("centre") or referrer.centre or ""
    if region not in REGIONS:
        known = ", ".join(REGIONS)
        fault("region", f"{region!r} is not one of {known}" if region else "is required")
    _text("centre", centre, 80, fault)
    proceeding = v.get("enforcement_proceeding", "")
    _text("enforcement_proceeding", proceeding, 40, fault)
    opened_on = _date(v.get("proceeding_opened_on", ""), today, fault)
    subject = v.get("subject", "")
    if opened_on is not None:
        subject = f"{subject} (proceeding opened {opened_on.isoformat()})".strip()
    if len(subject) > 200:
        fault("subject", "with the proceeding's date it is longer than 200 characters")
    language = v.get("language") or "kk"
    if language not in LANGUAGES:
        fault("language", f"{language!r} is not one of kk, ru, en")
    debtor = _party(v, "debtor", fault)
    creditor = _party(v, "creditor", fault)
    if debtor.iin_bin and debtor.iin_bin == creditor.iin_bin:
        fault("creditor_iin_bin", "is the debtor's IIN/BIN")
    return OpenCase(
        event=states.current().opening_event_for("bailiff") or "",
        actor=referrer.actor,
        role="bailiff",
        region=region,
        centre=centre,
        parties=(debtor, creditor),
        subject=subject,
        language=language,
        enforcement_proceeding=proceeding,
    )


def _party(values: dict[str, str], role: str, fault: Fault) -> PartyInput:
    name = values.get(f"{role}_name", "")
    number = values.get(f"{role}_iin_bin", "").replace(" ", "")
    phone = tidy_phone(values.get(f"{role}_phone", "")) or None
    email = values.get(f"{role}_email", "") or None
    language = values.get(f"{role}_language", "") or values.get("language") or "kk"
    _text(f"{role}_name", name, 200, fault)
    if not number:
        fault(f"{role}_iin_bin", "is required")
    else:
        try:
            identifiers.validate(number, f"{role}_iin_bin")
        except InvalidField as exc:
            fault(exc.field, exc.reason)
    if phone is not None and not PHONE.match(phone):
        fault(f"{role}_phone", f"{phone!r} must look like +7XXXXXXXXXX")
    if email is not None and not EMAIL.match(email):
        fault(f"{role}_email", f"{email!r} is not an e-mail address")
    if language not in LANGUAGES:
        fault(f"{role}_language", f"{language!r} is not one of kk, ru, en")
    return PartyInput(role, name, number, phone=phone, email=email, language=language)


def _text(field: str, value: str, limit: int, fault: Fault) -> None:
    if not value.strip():
        fault(field, "is required")
    elif len(value) > limit:
        fault(field, f"is longer than {limit} characters")
    elif (hidden := names.fault(value)) is not None:
        fault(field, hidden)


def _date(text: str, today: date, fault: Fault) -> date | None:
    field = "proceeding_opened_on"
    if not text:
        fault(field, "is required")
        return None
    day = _parse_date(text)
    if day is None:
        fault(field, f"{text!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")
        return None
    if day > today:
        fault(field, f"{day.isoformat()} is in the future")
        return None
    return day


def _parse_date(text: str) -> date | None:
    """YYYY-MM-DD or DD.MM.YYYY (strptime's locale machinery is a third of a file's check)."""
    found = _ISO.fullmatch(text)
    if found is not None:
        year, month, day = found.groups()
    else:
        found = _DOTTED.fullmatch(text)
        if found is None:
            return None
        day, month, year = found.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
