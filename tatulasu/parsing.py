"""Reading the CLI's compact notations into commands, with errors that name the option.

`--party "role:name:IIN[:email or phone[:lang]]"` keeps a referral on one line; the
engine still checks every part (role, IIN check digit, contact, language), so this
module only splits text and never decides what is valid.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from workflow.commands import PartyInput
from workflow.errors import InvalidField

PARTY_FORMAT = "role:name:IIN[:email or phone[:lang]]"


def parse_party(text: str, index: int) -> PartyInput:
    """One `--party` value; the contact is an e-mail if it has an @, else a phone."""
    field = f"--party[{index}]"
    parts = [p.strip() for p in text.split(":")]
    if not 3 <= len(parts) <= 5:
        raise InvalidField(field, f"{text!r} is not {PARTY_FORMAT}")
    role, name, number = parts[:3]
    contact = parts[3] if len(parts) > 3 and parts[3] else None
    language = parts[4] if len(parts) > 4 and parts[4] else "kk"
    email = contact if contact is not None and "@" in contact else None
    phone = contact if contact is not None and email is None else None
    return PartyInput(
        role=role, name=name, iin_bin=number, phone=phone, email=email, language=language
    )


def parse_fields(items: list[str]) -> dict[str, str]:
    """`--field key=value` options as a payload; a key given twice is a mistake."""
    payload: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidField("--field", f"{item!r} must look like key=value")
        if key in payload:
            raise InvalidField("--field", f"{key!r} is given twice")
        payload[key] = value
    return payload


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidField(option, f"{text!r} is not a date (YYYY-MM-DD)") from None


def local_midnight(day: date | None, tz: ZoneInfo) -> datetime | None:
    """The instant a local day begins: report periods are days in the centre's time zone."""
    return None if day is None else datetime.combine(day, time(), tz)
