"""The shapes of contacts the product accepts, and the spellings it tidies into them.

The engine checks a party's e-mail and phone with the same patterns; user records and
CSV imports use these so that a contact accepted anywhere is accepted everywhere.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+7\d{10}$")
_SEPARATORS = re.compile(r"[\s()\-.]")


def tidy_phone(text: str) -> str:
    """`8 (701) 123-45-67` and `+7 701 123 45 67` as `+77011234567`; other text unchanged.

    Bailiffs' systems export phones as people typed them; the national trunk prefix 8
    is the same number as +7.

    >>> tidy_phone("8 (701) 123-45-67")
    '+77011234567'
    >>> tidy_phone("+7 701 123 45 67")
    '+77011234567'
    """
    digits = _SEPARATORS.sub("", text)
    if len(digits) == 11 and digits.isdigit() and digits[0] in "78":
        return "+7" + digits[1:]
    return digits
