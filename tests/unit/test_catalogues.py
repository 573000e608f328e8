"""The pages' catalogues: every word of the sources translated, plurals per language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tatulasu.web import i18n, words
from workflow.regions import REGIONS

ROOT = Path(__file__).parents[2]
TRANSLATED = ("kk", "ru")


def used() -> set[str]:
    """The msgids of the sources, as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    return {ids if isinstance(ids, str) else ids[0] for _, _, ids, *_ in found}


def catalogue(language: str) -> Catalog:
    with i18n.catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_string_of_the_pages_is_in_each_catalogue(language: str) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(language) if m.id}
    missing = sorted(used() - ids)
    assert not missing, f"{language}: run pybabel extract and update (docs/architecture.md)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_entry_is_left_untranslated_or_fuzzy(language: str) -> None:
    cat = catalogue(language)
    untranslated = [
        m.id
        for m in cat
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert not untranslated, f"{language}: {untranslated}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_source(language: str) -> None:
    cat = catalogue(language)
    problems = {str(m.id): [str(e) for e in m.check(cat)] for m in cat if m.id}
    assert not {k: v for k, v in problems.items() if v}


def test_russian_has_three_plural_forms_and_kazakh_two() -> None:
    assert catalogue("ru").num_plurals == 3
    assert catalogue("kk").num_plurals == 2
    ru = i18n.translations("ru")
    cases = {
        n: ru.ngettext("%(num)d case", "%(num)d cases", n) % {"num": n}
        for n in (1, 3, 5, 21, 22, 111)
    }
    assert cases == {
        1: "1 дело",
        3: "3 дела",
        5: "5 дел",
        21: "21 дело",
        22: "22 дела",
        111: "111 дел",
    }
    kk = i18n.translations("kk")
    assert [kk.ngettext("%(num)d case", "%(num)d cases", n) % {"num": n} for n in (1, 5)] == [
        "1 іс",
        "5 іс",
    ]
    en = i18n.translations("en")
    assert [en.ngettext("%(num)d case", "%(num)d cases", n) % {"num": n} for n in (1, 5)] == [
        "1 case",
        "5 cases",
    ]


def test_english_is_the_source_and_the_others_are_translated() -> None:
    assert i18n.translations("en").gettext("Cases") == "Cases"
    assert i18n.translations("ru").gettext("Cases") == "Дела"
    assert i18n.translations("kk").gettext("Cases") == "Істер"


def test_the_region_words_are_the_regions_names() -> None:
    assert words.REGIONS == REGIONS


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5", "ru"),
        ("en;q=0.4,kk;q=0.8", "kk"),
        ("ru;q=0,en", "en"),
        ("de, fr", None),
        ("", None),
        (None, None),
    ],
)
def test_the_browser_language_is_the_first_of_ours_it_asks_for(
    header: str | None, chosen: str | None
) -> None:
    assert i18n.from_header(header) == chosen


def test_the_switch_outranks_the_profile_which_outranks_the_browser() -> None:
    assert i18n.choose("en", "ru", "kk") == "en"
    assert i18n.choose(None, "ru", "en") == "ru"
    assert i18n.choose("xx", None, "ru-RU") == "ru"
    assert i18n.choose(None, None, "de") == "kk"
