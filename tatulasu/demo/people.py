"""The people and places of the demo: East Kazakhstan's centres, parties with valid IINs.

Every identifier passes the real check (Decree No. 406): the demo builds the first
eleven digits with the right structure and lets `identifiers.make` add the check digit,
so the demo exercises the same validation a clerk's typing does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from workflow import identifiers
from workflow.commands import PartyInput
from workflow.users import User


@dataclass(frozen=True)
class Centre:
    region: str
    name: str
    coordinator: str
    mediators: tuple[str, ...]
    courts: tuple[str, ...]
    bailiffs: tuple[str, ...]
    weight: float


CENTRES: tuple[Centre, ...] = (
    Centre(
        region="VKO",
        name="Tatulasu reconciliation centre, Oskemen",
        coordinator="Coordinator G. Sadykova",
        mediators=(
            "Mediator A. Zhaksylykov",
            "Mediator L. Petrenko",
            "Mediator S. Omarova",
            "Mediator D. Kassymov",
            "Public mediator R. Tulegenova",
        ),
        courts=(
            "Oskemen city court No. 2",
            "Specialised inter-district economic court of East Kazakhstan",
        ),
        bailiffs=("Private bailiff N. Ibraev", "Private bailiff O. Shevchenko"),
        weight=0.7,
    ),
    Centre(
        region="VKO",
        name="Mediation office of the Ridder akimat",
        coordinator="Coordinator T. Mukanov",
        mediators=("Public mediator Zh. Abenova", "Mediator V. Kim"),
        courts=("Ridder city court",),
        bailiffs=("Private bailiff A. Beisenov",),
        weight=0.1,
    ),
    Centre(
        region="VKO",
        name="Assembly of People mediation room, Altai",
        coordinator="Coordinator M. Nurgaliyeva",
        mediators=("Public mediator K. Smagulov", "Public mediator I. Vlasova"),
        courts=("Altai district court",),
        bailiffs=("Private bailiff E. Tokhtarov",),
        weight=0.08,
    ),
    Centre(
        region="ABY",
        name="Tatulasu reconciliation centre, Semey",
        coordinator="Coordinator A. Zhumabayeva",
        mediators=("Mediator B. Serikbayev", "Mediator O. Lee"),
        courts=("Semey city court No. 1",),
        bailiffs=("Private bailiff S. Akhmetov",),
        weight=0.12,
    ),
)

_GIVEN_MALE = ("Nurlan", "Yerlan", "Askar", "Daulet", "Serik", "Marat", "Sergei", "Ivan", "Arman")
_GIVEN_FEMALE = ("Aigerim", "Gulnara", "Saule", "Dana", "Aliya", "Olga", "Zhanar", "Madina")
_FAMILY = (
    "Bekov",
    "Nurpeisov",
    "Abdrakhmanov",
    "Seitkali",
    "Omarov",
    "Ivanov",
    "Kuznetsov",
    "Tulegenov",
    "Zhunusov",
    "Karimov",
)
_COMPANIES = (
    "Shygys Energo LLP",
    "Oskemen Vodokanal SE",
    "Altai Polymetal JSC",
    "Irtysh Trans LLP",
    "Vostok Microcredit LLP",
    "Ulba Service LLP",
    "Ridder Zinc JSC",
    "Semey Meat Plant LLP",
)
_OPERATORS = ("700", "701", "702", "705", "707", "747", "771", "775", "777")


def person_name(rng: random.Random, female: bool) -> str:
    family = rng.choice(_FAMILY)
    if female:
        family += "a" if not family.endswith("i") else ""
        return f"{rng.choice(_GIVEN_FEMALE)} {family}"
    return f"{rng.choice(_GIVEN_MALE)} {family}"


def make_iin(rng: random.Random, female: bool) -> str:
    """YYMMDD of birth, a century-and-sex digit (3/4: 1900s, 5/6: 2000s), a serial, a check."""
    while True:
        year = rng.randint(1955, 2004)
        century = (5 if year >= 2000 else 3) + (1 if female else 0)
        first = (
            f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"{century}{rng.randint(0, 9999):04d}"
        )
        number = identifiers.make(first)
        if number is not None:
            return number


def make_bin(rng: random.Random) -> str:
    """YYMM of registration, entity type 4-6, unit 0-3, a five-digit serial, a check."""
    while True:
        first = (
            f"{rng.randint(0, 24):02d}{rng.randint(1, 12):02d}"
            f"{rng.choice('456')}{rng.choice('0123')}{rng.randint(0, 99999):05d}"
        )
        number = identifiers.make(first)
        if number is not None:
            return number


def person(rng: random.Random, role: str) -> PartyInput:
    female = rng.random() < 0.5
    contact = f"+7{rng.choice(_OPERATORS)}{rng.randint(0, 9999999):07d}"
    language = rng.choices(("kk", "ru", "en"), weights=(55, 43, 2))[0]
    if rng.random() < 0.3:
        return PartyInput(
            role=role,
            name=person_name(rng, female),
            iin_bin=make_iin(rng, female),
            email=f"party{rng.randint(1000, 99999)}@mail.kz",
            language=language,
        )
    return PartyInput(
        role=role,
        name=person_name(rng, female),
        iin_bin=make_iin(rng, female),
        phone=contact,
        language=language,
    )


def company(rng: random.Random, role: str) -> PartyInput:
    name = rng.choice(_COMPANIES)
    slug = name.split()[0].lower()
    return PartyInput(
        role=role,
        name=name,
        iin_bin=make_bin(rng),
        email=f"legal@{slug}.kz",
        language=rng.choice(("kk", "ru")),
    )


def staff() -> list[User]:
    """The centres' coordinators and mediators, registered before the year starts: a
    mediator is assigned only if he is a registered mediator of the case's centre."""
    return [
        User(name, name, role, region=c.region, centre=c.name)
        for c in CENTRES
        for name, role in ((c.coordinator, "coordinator"), *((m, "mediator") for m in c.mediators))
    ]


def pick_centre(rng: random.Random) -> Centre:
    return rng.choices(CENTRES, weights=[c.weight for c in CENTRES])[0]
