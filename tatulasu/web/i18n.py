"""The pages in Kazakh, Russian and English: the gettext catalogues and the reader's choice.

The catalogues are the `.po` files under `locale/<lang>/LC_MESSAGES/messages.po`, kept in
the repository and compiled in memory on first use (`babel.messages.mofile`), so a fresh
clone needs no build step and a `.po` edited by a translator is what the pages show.
English is the source language: its msgids are the English text, and its catalogue has
no translations of its own.

A page is in the language the reader chose with the switch in the header (a cookie),
else his profile's language when he is signed in, else the first of ours his browser
asks for (`Accept-Language`), else Kazakh, the state language.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from pathlib import Path

from babel.messages import mofile, pofile
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
DEFAULT = "kk"
COOKIE = "tatulasu_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# Each language named in itself, for the switch.
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for the catalogues where it is written; it is translated where shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalogue of `language` (one of `LANGUAGES`)."""
    with catalogue_path(language).open("rb") as po:
        catalog = pofile.read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def known(language: str | None) -> str | None:
    """`language` when it is one of ours, else None."""
    return language if language in LANGUAGES else None


def from_header(header: str | None) -> str | None:
    """The first of our languages an `Accept-Language` header asks for, by its q-values."""
    asked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary and quality > 0:
            asked.append((-quality, i, primary))
    return next((lang for _, _, lang in sorted(asked) if lang in LANGUAGES), None)


def choose(chosen: str | None, profile: str | None, header: str | None) -> str:
    """The switch's cookie, else the profile's language, else the browser's, else Kazakh."""
    return known(chosen) or known(profile) or from_header(header) or DEFAULT


def languages() -> Iterable[tuple[str, str]]:
    """(code, name) of each language, for the switch."""
    return ((code, NAMES[code]) for code in LANGUAGES)
