"""Kazakhstan's individual (IIN) and business (BIN) identification numbers.

Government Decree No. 406 of 22 May 2007: twelve digits, the last a check digit. Sum the
first eleven digits times weights 1..11, modulo 11; if that gives 10, sum again with
weights 3..11,1,2; if it is still 10 the number is invalid.

>>> validate("940140000385")
'bin'
>>> validate("061211600012")
'iin'
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from workflow.errors import InvalidIdentifier

_FIRST = range(1, 12)
_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def check_digit(first_eleven: str) -> int | None:
    """The check digit for eleven digits, or None when no digit is valid."""
    digits = [int(c) for c in first_eleven]
    total = sum(d * w for d, w in zip(digits, _FIRST, strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, _SECOND, strict=True)) % 11
    return None if total == 10 else total


def kind_of(number: str) -> str:
    """'bin' or 'iin' by the fifth digit of a valid number (4, 5, 6: a legal entity)."""
    return "bin" if number[4] in "456" else "iin"


def validate(number: str, field: str = "iin_bin") -> str:
    """Return 'iin' or 'bin' for a valid number; raise `InvalidIdentifier` naming the fault."""
    try:
        return _valid_kind(number)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(field, exc.reason) from None


@lru_cache(maxsize=65_536)  # a bailiff's file names the same creditors again and again
def _valid_kind(number: str) -> str:
    field = "iin_bin"
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise InvalidIdentifier(field, f"{number!r} must be exactly 12 digits")
    expected = check_digit(number[:11])
    if expected is None:
        raise InvalidIdentifier(field, f"{number} has no valid check digit")
    if expected != int(number[11]):
        raise InvalidIdentifier(
            field, f"{number}: check digit is {number[11]}, expected {expected}"
        )
    kind = kind_of(number)
    if kind == "iin":
        _check_iin(number, field)
    else:
        _check_bin(number, field)
    return kind


def _check_iin(number: str, field: str) -> None:
    century_sex = int(number[6])
    if not 1 <= century_sex <= 6:
        raise InvalidIdentifier(field, f"{number}: digit 7 (century and sex) must be 1-6")
    year = 1800 + 100 * ((century_sex - 1) // 2) + int(number[:2])
    try:
        date(year, int(number[2:4]), int(number[4:6]))
    except ValueError:
        raise InvalidIdentifier(
            field, f"{number}: digits 3-6 are not a birth month and day in {year}"
        ) from None


def _check_bin(number: str, field: str) -> None:
    month = int(number[2:4])
    if not 1 <= month <= 12:
        raise InvalidIdentifier(field, f"{number}: digits 3-4 are not a registration month")
    if number[5] not in "0123":
        raise InvalidIdentifier(field, f"{number}: digit 6 (unit) must be 0-3")


def make(first_eleven: str) -> str | None:
    """Complete eleven digits with their check digit (for test data and the demo)."""
    digit = check_digit(first_eleven)
    return None if digit is None else f"{first_eleven}{digit}"
