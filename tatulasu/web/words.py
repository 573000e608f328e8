"""What the pages call things, in the reader's language, instead of their codes.

The lifecycle's own items (states, events, terms, reasons, procedures) are titled in the
lifecycle file, which `states.definition` checks for every language; the codes the
engine uses besides (roles, origins, regions, timer kinds, languages) are words of the
catalogues, marked here with `N_` so that extraction finds them.
"""

from __future__ import annotations

import functools

import states
from states.definition import Kind
from tatulasu.web.i18n import N_, translations

ROLES = {
    "party": N_("party"),
    "coordinator": N_("coordinator"),
    "mediator": N_("mediator"),
    "court": N_("court"),
    "bailiff": N_("bailiff"),
    "chamber": N_("Chamber of Private Bailiffs"),
    "supervisor": N_("supervisor"),
    "admin": N_("administrator"),
    "system": N_("system"),
    "claimant": N_("claimant"),
    "respondent": N_("respondent"),
    "debtor": N_("debtor"),
    "creditor": N_("creditor"),
}
# Who opened the case (`workflow.opening.origin_of`).
ORIGINS = {
    "party": N_("a party"),
    "centre": N_("the centre"),
    "court": N_("the court"),
    "bailiff": N_("a bailiff"),
}
TIMER_KINDS = {"reminder": N_("reminder"), "expiry": N_("expiry")}
LANGUAGE_NAMES = {"kk": N_("Kazakh"), "ru": N_("Russian"), "en": N_("English")}
REGIONS = {
    "ABY": N_("Abai oblast"),
    "AKM": N_("Akmola oblast"),
    "AKT": N_("Aktobe oblast"),
    "ALM": N_("Almaty oblast"),
    "ATY": N_("Atyrau oblast"),
    "VKO": N_("East Kazakhstan oblast"),
    "ZHA": N_("Zhambyl oblast"),
    "ZHT": N_("Zhetysu oblast"),
    "ZKO": N_("West Kazakhstan oblast"),
    "KAR": N_("Karaganda oblast"),
    "KOS": N_("Kostanay oblast"),
    "KZY": N_("Kyzylorda oblast"),
    "MAN": N_("Mangystau oblast"),
    "PAV": N_("Pavlodar oblast"),
    "SKO": N_("North Kazakhstan oblast"),
    "TUR": N_("Turkistan oblast"),
    "ULY": N_("Ulytau oblast"),
    "AST": N_("Astana"),
    "ALA": N_("Almaty"),
    "SHY": N_("Shymkent"),
}
TABLES = {
    "role": ROLES,
    "origin": ORIGINS,
    "timer": TIMER_KINDS,
    "language": LANGUAGE_NAMES,
    "region": REGIONS,
}


@functools.cache
def title(kind: Kind, name: str, language: str) -> str:
    """The lifecycle's title of `name`, the newest version first (old cases keep theirs);
    the name itself when no version has it (a code from before a rename)."""
    for version in reversed(states.versions()):
        found = states.get(version).title_of(kind, name, language)
        if found:
            return found
    return name


def word(table: str, code: str, language: str) -> str:
    """A role, origin, timer kind, language or region in `language`; unknown codes as they are."""
    message = TABLES[table].get(code)
    return translations(language).gettext(message) if message else code
