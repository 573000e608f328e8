"""Masking personal data for screens, exports and logs.

Names, IINs, phones and e-mails are shown in full only to roles that need them
(domain.md, "Identifiers and data"); everything else sees enough to tell two parties
apart and to check a number read out on the phone, and no more.

>>> mask_iin("061211600012")
'0612******12'
>>> mask_contact("+77051234567")
'+7705*****67'
>>> mask_contact("aigerim.bekova@mail.kz")
'a*************@mail.kz'
>>> mask_name("Aigerim Bekova")
'Aigerim B.'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys whose values are personal data wherever they appear in a stored payload.
_MASKERS_BY_KEY = {
    "iin_bin": "iin",
    "phone": "contact",
    "email": "contact",
    "name": "name",
}


def mask_iin(number: str) -> str:
    """Keep the birth year and month (or registration date) and the check digits."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def mask_contact(value: str | None) -> str | None:
    """An e-mail keeps its first letter and domain; a phone its operator code and last two."""
    if value is None:
        return None
    if "@" in value:
        local, _, domain = value.partition("@")
        return local[:1] + "*" * max(len(local) - 1, 1) + "@" + domain
    if len(value) <= 6:
        return "*" * len(value)
    return value[:5] + "*" * (len(value) - 7) + value[-2:]


def mask_name(name: str) -> str:
    """The first word in full and initials for the rest ("Aigerim B.")."""
    words = name.split()
    if len(words) <= 1:
        return name
    return " ".join([words[0], *(w[:1] + "." for w in words[1:])])


def mask_value(key: str, value: Any) -> Any:
    kind = _MASKERS_BY_KEY.get(key)
    if not isinstance(value, str) or kind is None:
        return mask_payload(value)
    if kind == "iin":
        return mask_iin(value)
    if kind == "contact":
        return mask_contact(value)
    return mask_name(value)


def is_business(number: object) -> bool:
    """A BIN has its entity type (4, 5 or 6) where an IIN has the tens of the birth day."""
    return isinstance(number, str) and len(number) == 12 and number[4] in "456"


def mask_payload(value: Any) -> Any:
    """Mask personal data anywhere inside a stored payload (the opening record lists parties).

    A legal entity's name is not personal data and stays readable.
    """
    if isinstance(value, Mapping):
        business = is_business(value.get("iin_bin"))
        return {
            str(k): v if business and k == "name" else mask_value(str(k), v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_payload(v) for v in value]
    return value
