"""Who can sign in to the demo: one person per role, each with a fresh random password.

The year the demo simulates is reproducible; its passwords are not (`secrets`), so a
demo file copied somewhere else does not come with a password everyone knows. They are
printed once, like a bearer token; only their Argon2id hashes are stored.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from tatulasu.demo.people import CENTRES
from tatulasu.settings import Settings
from tatulasu.wiring import build
from workflow import passwords, users
from workflow.users import User

_HOME = CENTRES[0]


@dataclass(frozen=True)
class Account:
    id: str
    role: str
    password: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def people() -> list[User]:
    """One of each role, in the demo's main centre and region."""
    region, centre = _HOME.region, _HOME.name
    return [
        User("demo-admin", "Demo Admin", "admin", language="en"),
        User("demo-supervisor", "Demo Supervisor", "supervisor", region=region, language="en"),
        User("demo-coordinator", "Demo Coordinator", "coordinator", region=region,
             centre=centre, language="en"),
        User("demo-mediator", "Demo Mediator", "mediator", region=region, centre=centre,
             language="en"),
        User("demo-bailiff", "Demo Bailiff", "bailiff", region=region, language="en"),
        User("demo-court", "Demo Court", "court", region=region, language="en"),
        User("demo-chamber", "Demo Chamber", "chamber", region=region, language="en"),
        User("demo-party", "Demo Party", "party", iin_bin="850101300124", language="en"),
    ]  # fmt: skip


def add_accounts(url: str) -> list[Account]:
    """Create the demo's people in the file at `url`, each with a new password."""
    wired = build(Settings(database_url=url))
    made = []
    try:
        with wired.store.transaction() as conn:
            for person in people():
                users.create(conn, person, wired.engine.clock.now())
                password = secrets.token_urlsafe(12)
                passwords.set_password(conn, person.id, password)
                made.append(Account(person.id, person.role, password))
    finally:
        wired.close()
    return made
