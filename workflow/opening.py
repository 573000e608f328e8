"""The checks a referral must pass before a case is opened, and what it implies.

Every field is checked before anything is written, each refusal naming its field: the
region among Kazakhstan's twenty, the parties (role, name, IIN/BIN with its check digit,
contacts), and for a bailiff's referral the proceeding, its debtor and its creditor. An
enforcement proceeding may have only one open case.
"""

from __future__ import annotations

from states import Lifecycle
from states.definition import Opening
from states.vocabulary import PARTY_ROLES, PROCEDURES
from workflow import identifiers, names
from workflow.commands import LANGUAGES, OpenCase, PartyInput
from workflow.contacts import EMAIL, PHONE
from workflow.errors import InvalidField
from workflow.regions import REGIONS


def check_opening(cmd: OpenCase, opens: Opening) -> None:
    """Refuse, naming the field, a referral whose content is wrong for what it `opens`."""
    if cmd.region not in REGIONS:
        raise InvalidField("region", f"{cmd.region!r} is not one of {', '.join(REGIONS)}")
    require_text("centre", cmd.centre, 80)
    require_text("actor", cmd.actor, 80)
    for official in ("court", "bailiff"):
        given = getattr(cmd, official)
        if given is not None:
            names.check(official, given)
    if cmd.proposed_mediator is not None:
        require_text("proposed_mediator", cmd.proposed_mediator, 80)
    if len(cmd.subject) > 200:
        raise InvalidField("subject", "is longer than 200 characters")
    if cmd.language not in LANGUAGES:
        raise InvalidField("language", f"{cmd.language!r} is not one of kk, ru, en")
    if cmd.procedure is not None and cmd.procedure not in PROCEDURES:
        raise InvalidField("procedure", f"{cmd.procedure!r} is not one of {sorted(PROCEDURES)}")
    if not cmd.parties:
        raise InvalidField("parties", "at least one party is required")
    seen: set[str] = set()
    for i, party in enumerate(cmd.parties):
        check_party(f"parties[{i}]", party)
        if party.iin_bin in seen:
            raise InvalidField(f"parties[{i}].iin_bin", f"{party.iin_bin} appears twice")
        seen.add(party.iin_bin)
    if opens.proceeding:
        require_text("enforcement_proceeding", cmd.enforcement_proceeding or "", 40)
    if not set(opens.parties) <= {p.role for p in cmd.parties}:
        needed = " and a ".join(opens.parties)
        raise InvalidField("parties", f"a referral by {cmd.event} needs a {needed}")


def opens(lc: Lifecycle, cmd: OpenCase) -> Opening:
    """What the opening event of `cmd` opens (the caller checked it is one)."""
    found = lc.events[cmd.event].opens
    assert found is not None  # every event leaving the initial state has one (at load)
    return found


def origin_of(lc: Lifecycle, cmd: OpenCase) -> str:
    """Who opened the case: by the opening event and the role that fired it."""
    return opens(lc, cmd).origin_for(cmd.role)


def require_text(field: str, value: str, limit: int) -> None:
    if not value or not value.strip():
        raise InvalidField(field, "is required")
    if len(value) > limit:
        raise InvalidField(field, f"is longer than {limit} characters")
    names.check(field, value)


def check_party(where: str, party: PartyInput) -> None:
    if party.role not in PARTY_ROLES:
        raise InvalidField(f"{where}.role", f"{party.role!r} is not one of {sorted(PARTY_ROLES)}")
    require_text(f"{where}.name", party.name, 200)
    identifiers.validate(party.iin_bin, f"{where}.iin_bin")
    if party.email is not None and not EMAIL.match(party.email):
        raise InvalidField(f"{where}.email", f"{party.email!r} is not an e-mail address")
    if party.phone is not None and not PHONE.match(party.phone):
        raise InvalidField(f"{where}.phone", f"{party.phone!r} must look like +7XXXXXXXXXX")
    if party.language not in LANGUAGES:
        raise InvalidField(f"{where}.language", f"{party.language!r} is not one of kk, ru, en")


def is_open_twin(exc: Exception) -> bool:
    """The insert of a case broke `ux_cases_open_proceeding`: its proceeding is open.

    `exc` is SQLAlchemy's IntegrityError, or the driver's own from a COPY."""
    text = str(getattr(exc, "orig", exc))
    return "ux_cases_open_proceeding" in text or "cases.enforcement_proceeding" in text
