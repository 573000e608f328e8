"""Masking that masks: names to initials (surname first), companies, free text scrubbed."""

from __future__ import annotations

import unicodedata
from dataclasses import fields
from typing import Any, TypeVar

import pytest

from workflow.privacy import mask_name, mask_payload, scrub_text
from workflow.queries import CaseView, PartyView
from workflow.search import Found

T = TypeVar("T", CaseView, Found)


def test_a_surname_first_name_loses_the_surname_too() -> None:
    assert mask_name("Серикова Айгерим Нурлановна") == "С. А. Н."
    assert "Серикова" not in mask_name("Серикова Айгерим Нурлановна")


def test_a_single_word_name_is_masked_like_any_other() -> None:
    assert mask_name("Bekov") == "B."
    assert mask_name("Aigerim") == "A."


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Altai LLP", "A. LLP"),
        ("ТОО «Алтай»", "ТОО «А.»"),
        ("Шығыс ЖШС", "Ш. ЖШС"),
        ("АО Казахтелеком", "АО К."),
        ("ИП Серикова А.Н.", "ИП С. А.Н."),
    ],
)
def test_a_legal_entity_keeps_its_legal_form_and_initials_the_rest(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_kazakh_letters_are_initials_like_any_other() -> None:
    assert mask_name("Әлиев Ұлан Қайратұлы") == "Ә. Ұ. Қ."
    assert mask_name("Ғабит-Құнанбай Іңкәр") == "Ғ.-Қ. І."
    decomposed = unicodedata.normalize("NFD", "Ёлкин Ämir")
    assert mask_name(decomposed) == "Ё. Ä."
    assert scrub_text("Әлиевқа қоңырау шалу", ["Әлиев Ұлан"]) == "Ә. қоңырау шалу"


def _blank(kind: type[T], **values: Any) -> T:
    """A read-side snapshot with only the fields a test looks at."""
    return kind(**{f.name: None for f in fields(kind)} | values)


def _party(id: int, role: str, name: str, kind: str, iin_bin: str) -> PartyView:
    return PartyView(id, role, name, kind, iin_bin, "+77011234567", "x@mail.kz", "kk")


def test_every_party_is_masked_alike_whatever_its_position_or_kind() -> None:
    parties = (
        _party(1, "claimant", "Серикова Айгерим Нурлановна", "iin", "061211600012"),
        _party(2, "respondent", "Bekov", "iin", "851112300014"),
        _party(3, "respondent", "Altai LLP", "bin", "940140000385"),
    )
    case = _blank(CaseView, parties=parties, subject="Bekov owes Серикова")
    masked = case.masked()
    assert [p.name for p in masked.parties] == ["С. А. Н.", "B.", "A. LLP"]
    assert all("*" in p.iin_bin and "*" in (p.phone or "") for p in masked.parties)
    assert masked.subject == "B. owes С."
    own = case.masked(keep="061211600012")
    assert own.parties[0] == parties[0] and own.parties[1].name == "B."
    assert own.subject == "B. owes Серикова"


@pytest.mark.parametrize(
    "phone",
    ["+7 701 123 45 67", "8 701 123 45 67", "+7 (701) 123-45-67", "8(701)1234567",
     "87011234567", "+77011234567", "7011234567", "+7 7232 12-34-56"],
)  # fmt: skip
def test_a_phone_in_kazakh_formats_is_scrubbed_from_free_text(phone: str) -> None:
    assert scrub_text(f"звонить {phone}, вечером") == "звонить [phone], вечером"


def test_an_iin_bin_and_an_email_in_the_subject_are_scrubbed() -> None:
    subject = "ИИН 061211600012, БИН 940140000385 (0612 1160 0012) — aigerim.s@mail.kz"
    assert scrub_text(subject) == "ИИН [IIN], БИН [IIN] ([IIN]) — [e-mail]"


def test_numbers_that_are_not_personal_data_stay() -> None:
    text = "долг 750 000 тенге с 2024-04-22, дело EP-1234567890123, 3 сессии"
    assert scrub_text(text) == text


def test_the_parties_names_are_initialled_in_free_text_with_their_endings() -> None:
    names = ["Серикова Айгерим Нурлановна", "Bolat"]
    text = "Сериковой Айгериму и Bolatу: без Bolashak"
    assert scrub_text(text, names) == "С. А. и B.: без Bolashak"


def test_payload_free_text_is_scrubbed_and_its_names_initialled() -> None:
    payload = {"reason": "party_request", "reason_text": "Bekov: +7 701 123 45 67"}
    assert mask_payload(payload, ["Bekov"]) == {
        "reason": "party_request",
        "reason_text": "B.: [phone]",
    }


def test_a_list_line_has_its_subject_scrubbed() -> None:
    line = _blank(Found, subject="Bekov, тел. 87011234567")
    assert line.masked(["Bekov"]).subject == "B., тел. [phone]"
