"""IIN/BIN validation: Government Decree No. 406 of 22 May 2007."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow import identifiers
from workflow.errors import InvalidField, InvalidIdentifier


@pytest.mark.parametrize(
    ("number", "kind"),
    [("061211600012", "iin"), ("940140000385", "bin"), ("990140004654", "bin")],
)
def test_known_valid_examples_are_accepted_with_their_kind(number: str, kind: str) -> None:
    assert identifiers.validate(number) == kind


SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def _weighted(prefix: str, weights: tuple[int, ...] | range) -> int:
    return sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11


def test_first_pass_check_digit_is_the_weighted_sum_mod_11() -> None:
    prefix = "94014000038"  # of the known-valid BIN 940140000385
    assert _weighted(prefix, range(1, 12)) == 5
    assert identifiers.check_digit(prefix) == 5


@pytest.mark.parametrize(("prefix", "digit"), [("06121160001", 2), ("85111230090", 4)])
def test_second_pass_weights_are_used_when_the_first_sum_gives_10(prefix: str, digit: int) -> None:
    # 061211600012, a known-valid IIN, is one of these numbers.
    assert _weighted(prefix, range(1, 12)) == 10
    assert _weighted(prefix, SECOND_WEIGHTS) == digit
    assert identifiers.check_digit(prefix) == digit
    assert identifiers.validate(f"{prefix}{digit}") == "iin"


def test_a_number_whose_second_pass_also_gives_10_has_no_valid_check_digit() -> None:
    prefix = "85111230093"
    assert identifiers.check_digit(prefix) is None
    assert identifiers.make(prefix) is None
    for last in "0123456789":
        with pytest.raises(InvalidIdentifier, match="no valid check digit"):
            identifiers.validate(prefix + last)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("06121160001", "exactly 12 digits"),
        ("0612116000120", "exactly 12 digits"),
        ("", "exactly 12 digits"),
        ("06121160001a", "exactly 12 digits"),
        ("0612-1160001", "exactly 12 digits"),
        (" 06121160001", "exactly 12 digits"),
        ("٠٦١٢١١٦٠٠٠١٢", "exactly 12 digits"),  # Arabic-Indic digits are digits, not ASCII
        ("061211600013", "check digit is 3, expected 2"),
        ("940140000386", "check digit is 6, expected 5"),
    ],
)
def test_malformed_numbers_are_rejected_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        identifiers.validate(number)
    assert caught.value.field == "iin_bin"


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("06131160001", "birth month and day"),  # month 13
        ("06001160001", "birth month and day"),  # month 00
        ("06120060001", "birth month and day"),  # day 00
        ("06121170001", "digit 7"),  # century/sex 7
        ("06121100001", "digit 7"),  # century/sex 0
        ("94134000038", "registration month"),  # BIN, month 13
        ("94014400038", "digit 6"),  # BIN, unit 4
        ("94014900038", "digit 6"),  # BIN, unit 9
    ],
)
def test_structurally_impossible_numbers_are_rejected_even_with_a_good_check_digit(
    prefix: str, reason: str
) -> None:
    number = identifiers.make(prefix)
    if number is None:  # pragma: no cover - the prefixes above all have a check digit
        pytest.fail(f"{prefix} has no check digit; choose another example")
    with pytest.raises(InvalidIdentifier, match=reason):
        identifiers.validate(number)


def test_the_field_name_is_carried_in_the_error() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.validate("123", "parties[1].iin_bin")
    assert caught.value.field == "parties[1].iin_bin"
    assert str(caught.value).startswith("parties[1].iin_bin: ")
    assert isinstance(caught.value, InvalidField)


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_make_completes_any_eleven_digits_whose_check_digit_exists(prefix: str) -> None:
    made = identifiers.make(prefix)
    if made is None:
        assert identifiers.check_digit(prefix) is None
        return
    assert made[:11] == prefix
    assert identifiers.check_digit(prefix) == int(made[11])
    # Changing the check digit always breaks the number.
    for other in "0123456789":
        if other != made[11]:
            with pytest.raises(InvalidIdentifier):
                identifiers.validate(prefix + other)


@given(st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_validate_either_names_a_kind_or_raises_invalid_identifier(number: str) -> None:
    try:
        kind = identifiers.validate(number)
    except InvalidIdentifier:
        return
    assert kind == ("bin" if number[4] in "456" else "iin")


def test_an_iin_with_an_impossible_birth_date_is_rejected() -> None:
    """31 February 2006 passes the month and day ranges but is no date."""
    number = next(
        made
        for serial in range(100)
        if (made := identifiers.make(f"0602316{serial:04d}")) is not None
    )
    with pytest.raises(InvalidIdentifier, match="birth month and day in 2006"):
        identifiers.validate(number)


def test_a_leap_day_birth_is_accepted() -> None:
    number = next(
        made
        for serial in range(100)
        if (made := identifiers.make(f"0002295{serial:04d}")) is not None
    )
    assert identifiers.validate(number) == "iin"
