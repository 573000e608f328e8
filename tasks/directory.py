"""Who is behind a recipient, looked up once per batch of messages.

An outbox row names its recipient as `party:<id>`, `mediator:<user id>`,
`coordinator:<centre>` or `supervisor:<region>`. The dispatcher resolves a whole claimed
batch with two queries instead of one per message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import parties, users

_CHUNK = 500


@dataclass(frozen=True)
class Directory:
    party_names: dict[int, str]
    users: list[Any]

    @classmethod
    def load(cls, conn: Connection, recipients: Iterable[str]) -> Directory:
        split = [r.partition(":")[::2] for r in recipients]
        party_ids = sorted({int(ident) for kind, ident in split if kind == "party"})
        idents = sorted({ident for kind, ident in split if kind != "party"})
        names: dict[int, str] = {}
        for start in range(0, len(party_ids), _CHUNK):
            chunk = party_ids[start : start + _CHUNK]
            query = sa.select(parties.c.id, parties.c.name).where(parties.c.id.in_(chunk))
            names.update({int(i): str(n) for i, n in conn.execute(query)})
        found: list[Any] = []
        for start in range(0, len(idents), _CHUNK):
            names_chunk = idents[start : start + _CHUNK]
            query = sa.select(users).where(
                users.c.active.is_(True),
                sa.or_(
                    users.c.id.in_(names_chunk),
                    users.c.centre.in_(names_chunk),
                    users.c.region.in_(names_chunk),
                ),
            )
            found.extend(conn.execute(query))
        return cls(names, found)

    def officials(self, kind: str, ident: str) -> list[Any]:
        """The active users behind `mediator:<id>`, `coordinator:<centre>` or
        `supervisor:<region>`."""
        by_id = [u for u in self.users if u.id == ident]
        if by_id:
            return by_id
        if kind == "coordinator":
            return [u for u in self.users if u.role == kind and u.centre == ident]
        if kind == "supervisor":
            return [u for u in self.users if u.role == kind and u.region == ident]
        return []
