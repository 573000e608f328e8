"""Masking personal data for screens, exports and logs.

Names, IINs, phones and e-mails are shown in full only to roles that need them
(domain.md, "Identifiers and data"); everything else sees enough to tell two parties
apart and to check a number read out on the phone, and no more.

Names. Kazakh and Russian names start with the surname ("Серикова Айгерим
Нурлановна"), so no word of a name is kept: every word becomes its initial. Every party
is masked alike, whatever its position and however many words its name has ("Bekov" is
"B."). A legal entity's name is masked the same way, keeping only its legal form
(LLP, JSC, ТОО, АО, ЖШС, АҚ, ИП …): "Altai LLP" is "A. LLP", "ТОО «Алтай»" is
"ТОО «А.»". A company name often carries a founder's name, and with the BIN it points
at one party; the legal form tells an individual from a company.

Free text (a case's subject, a reason's text, any other text of a stored payload) is
scrubbed by `scrub_text`: IIN/BIN numbers, phone numbers and e-mail addresses become
"[IIN]", "[phone]" and "[e-mail]", and the words of the parties' own names, when known,
become their initials. Every path that shows text to a role without full access uses it.

>>> mask_iin("061211600012")
'0612******12'
>>> mask_contact("+77051234567")
'+7705*****67'
>>> mask_contact("aigerim.bekova@mail.kz")
'a*************@mail.kz'
>>> mask_name("Серикова Айгерим Нурлановна")
'С. А. Н.'
>>> mask_name("Altai LLP")
'A. LLP'
>>> scrub_text("Серикову: ИИН 061211600012, тел. 8 (701) 123-45-67", ["Серикова Айгерим"])
'С.: ИИН [IIN], тел. [phone]'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

IIN_SHOWN = "[IIN]"
PHONE_SHOWN = "[phone]"
EMAIL_SHOWN = "[e-mail]"

# Keys whose values are personal data wherever they appear in a stored payload.
_MASKERS_BY_KEY = {
    "iin_bin": "iin",
    "phone": "contact",
    "email": "contact",
    "name": "name",
}

# Legal forms (English, Russian, Kazakh abbreviations and the words they stand for) and
# joining words: kept in a masked name, they name no one. Compared case-folded, without
# punctuation.
LEGAL_FORMS = frozenset(
    {
        # English
        "llp", "llc", "ltd", "plc", "inc", "corp", "co", "jsc", "gmbh", "ag", "sa", "ie",
        "limited", "liability", "partnership", "company", "joint", "stock", "corporation",
        # Russian
        "тоо", "ао", "пао", "оао", "зао", "нао", "ип", "чп", "кх", "пк", "фх", "гу", "кгу",
        "ргу", "гкп", "ргп", "кгп", "ооо", "оо", "оф", "ое", "тдо", "товарищество",
        "ограниченной", "ответственностью", "акционерное", "общество", "индивидуальный",
        "предприниматель", "крестьянское", "хозяйство",
        # Kazakh
        "жшс", "ақ", "ак", "жк", "шқ", "шк", "мкм", "қб", "кб", "ққ", "кк", "кеақ",
        "жауапкершілігі", "шектеулі", "серіктестігі", "серіктестік", "акционерлік",
        "қоғамы", "қоғам", "жеке", "кәсіпкер", "шаруа", "қожалығы",
        # joining words
        "and", "of", "the", "и", "с",
    }
)  # fmt: skip

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Twelve digits in a row (IIN or BIN), not inside a longer number.
_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
# Kazakh numbers: +7 / 8 / 7, then ten digits starting with 7 (mobile 70x, 747, 77x …;
# landlines 71x, 72x), in groups separated by spaces, dashes, dots or brackets; and any
# other international number written with "+".
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+\s?7|8|7)[\s\-.]{0,2}\(?|\()?7(?:[\s\-.()]{0,2}\d){9}(?!\d)"
    r"|(?<![\w+])\+\d(?:[\s\-.()]{0,2}\d){7,14}(?!\d)"
)
# An IIN written in groups ("061211 600012", "0612-1160-0012"): checked for 12 digits.
_GROUPED = re.compile(r"(?<![\d\-])\d{2,6}(?:[ \-]\d{2,6})+(?![\d\-])")
_WORD = re.compile(r"\w+")
# Final letters that a name's declension replaces.
_ENDINGS = frozenset("аеёиоуыэюяйьәөұүіaeiouy")
# One part of a name: a letter (with its combining marks) and the rest, apostrophes included.
_NAME_PART = re.compile(r"(\w[\u0300-\u036f]*)[\w'\u2019\u02bc\u0300-\u036f]*")


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


def _bare(word: str) -> str:
    return "".join(c for c in word if c.isalnum()).casefold()


def _initial(word: str) -> str:
    """A word's initial: Серикова → С., «Алтай» → «А.», Абай-Құнанбай → А.-Қ.; LLP stays."""
    if _bare(word) in LEGAL_FORMS:
        return word
    initialled = _NAME_PART.sub(lambda m: m.group(1) + ".", word)
    return re.sub(r"\.{2,}", ".", initialled)


def mask_name(name: str) -> str:
    """Initials for every word, surname included ("С. А. Н."); legal forms are kept."""
    return " ".join(_initial(w) for w in unicodedata.normalize("NFC", name).split())


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """The words of the parties' names, with the endings Russian and Kazakh add to them.

    A final vowel may change ("Серикова" → "Сериковой"), and suffixes follow
    ("Айгериму", "Серікқызына"): each word matches as its stem and any ending.
    """
    stems = set()
    for name in names:
        for word in _WORD.findall(unicodedata.normalize("NFC", name)):
            if len(word) < 3 or word.isdigit() or word.casefold() in LEGAL_FORMS:
                continue
            stem = word[:-1] if len(word) > 4 and word[-1].casefold() in _ENDINGS else word
            stems.add(re.escape(stem) + r"\w*")
    if not stems:
        return None
    alternatives = "|".join(sorted(stems, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _grouped(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return IIN_SHOWN if digits == 12 else match.group()


def scrub_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text with IIN/BIN, phones and e-mails replaced, and the given names initialled."""
    text = unicodedata.normalize("NFC", text)
    text = _EMAIL.sub(EMAIL_SHOWN, text)
    text = _IIN.sub(IIN_SHOWN, text)
    text = _PHONE.sub(PHONE_SHOWN, text)
    text = _GROUPED.sub(_grouped, text)
    pattern = _name_pattern(names)
    if pattern is not None:
        text = pattern.sub(lambda m: m.group()[0] + ".", text)
    return text


def mask_value(key: str, value: Any, names: Iterable[str] = ()) -> Any:
    kind = _MASKERS_BY_KEY.get(key)
    if not isinstance(value, str):
        return mask_payload(value, names)
    if kind is None:
        return scrub_text(value, names)
    if kind == "iin":
        return mask_iin(value)
    if kind == "contact":
        return mask_contact(value)
    return mask_name(value)


def mask_payload(value: Any, names: Iterable[str] = ()) -> Any:
    """Mask personal data anywhere inside a stored payload (the opening record lists parties).

    Names, IINs and contacts under their own keys are masked; any other text is scrubbed
    (`scrub_text`), with `names` (the case's parties) initialled wherever they appear.
    """
    names = tuple(names)
    if isinstance(value, Mapping):
        return {str(k): mask_value(str(k), v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, names) for v in value]
    if isinstance(value, str):
        return scrub_text(value, names)
    return value
