"""Pure helpers of the read side and the shell: masking, percentiles, option parsing, settings."""

from __future__ import annotations

import doctest
from datetime import date

import pytest

import workflow.privacy
import workflow.summary
from tatulasu.parsing import parse_fields, parse_party
from tatulasu.settings import Settings
from workflow.errors import InvalidField
from workflow.privacy import mask_contact, mask_iin, mask_name, mask_payload
from workflow.summary import percentile


@pytest.mark.parametrize("module", [workflow.privacy, workflow.summary])
def test_module_examples_run(module: object) -> None:
    failed, _ = doctest.testmod(module)  # type: ignore[arg-type]
    assert failed == 0


def test_masks_keep_enough_to_tell_parties_apart() -> None:
    assert mask_iin("061211600012") == "0612******12"
    assert mask_contact("+77011234567") == "+7701*****67"
    assert mask_contact("a@b.kz") == "a*@b.kz"
    assert mask_contact(None) is None
    assert mask_name("Aigerim") == "A."
    assert mask_name("Aigerim Serikovna Bekova") == "A. S. B."


def test_payload_masking_reaches_nested_parties_companies_alike() -> None:
    payload = {
        "centre": "Oskemen",
        "parties": [
            {"name": "Dana Mukanova", "iin_bin": "061211600012", "phone": "+77011234567"},
            {"name": "Altai LLP", "iin_bin": "940140000385", "email": "law@altai.kz"},
        ],
    }
    masked = mask_payload(payload)
    person, company = masked["parties"]
    assert person == {"name": "D. M.", "iin_bin": "0612******12", "phone": "+7701*****67"}
    assert company["name"] == "A. LLP"
    assert company["email"] == "l**@altai.kz"
    assert masked["centre"] == "Oskemen"


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10.0], 0.9) == 10.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_party_option_takes_an_email_or_a_phone_and_a_language() -> None:
    by_mail = parse_party("claimant:Aigerim S.:061211600012:a@example.kz:ru", 0)
    assert (by_mail.email, by_mail.phone, by_mail.language) == ("a@example.kz", None, "ru")
    by_phone = parse_party("respondent:Alma LLP:940140000385:+77011234567", 1)
    assert (by_phone.email, by_phone.phone, by_phone.language) == (None, "+77011234567", "kk")
    with pytest.raises(InvalidField) as caught:
        parse_party("claimant:only-a-name", 2)
    assert caught.value.field == "--party[2]"


def test_field_options_become_a_payload() -> None:
    assert parse_fields(["reason=debt_paid", "reason_text=a=b"]) == {
        "reason": "debt_paid",
        "reason_text": "a=b",
    }
    with pytest.raises(InvalidField):
        parse_fields(["reason=x", "reason=y"])


def test_settings_read_day_lists_as_json_or_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TATULASU_EXTRA_DAYS_OFF", "2025-05-02, 2025-05-09")
    monkeypatch.setenv("TATULASU_EXTRA_WORKING_DAYS", '["2025-05-03"]')
    monkeypatch.setenv("TATULASU_DATABASE_URL", "sqlite:///x.db")
    settings = Settings()
    assert settings.extra_days_off == [date(2025, 5, 2), date(2025, 5, 9)]
    assert settings.extra_working_days == [date(2025, 5, 3)]
    assert settings.database_url == "sqlite:///x.db"
    assert settings.timezone == "Asia/Almaty"


def test_settings_refuse_an_unknown_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TATULASU_TIMEZONE", "Asia/Oskemen")
    with pytest.raises(ValueError, match="time zone"):
        Settings()
