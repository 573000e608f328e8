"""How the people behind a recipient are reached, and which messages wait for a sink.

A message whose channel has no configured sink has not failed: this deployment cannot
send it yet. It stays pending, is not claimed, its attempts are not counted, and it is
sent as usual once a sink for its channel is configured. A party's channel is on its
outbox row; an official's is chosen at send time from the user directory: e-mail first,
then SMS, among the channels that have a sink. A message to officials waits when none
of them can be reached through a configured sink but some could through another channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tasks.directory import Directory
from workflow.schema import outbox

# The channels an official may be reached through, in order of preference.
OFFICIAL_CHANNELS = ("email", "sms")
# The channel of an outbox row to officials: decided at send time.
DECIDED_AT_SEND = "user"


@dataclass(frozen=True)
class Contact:
    suffix: str  # added to the row's key when several people share one row
    name: str
    channel: str
    address: str
    language: str


@dataclass(frozen=True)
class Reach:
    """Who can be sent to now, and the channels lacking a sink for the others."""

    contacts: list[Contact]
    missing: frozenset[str]

    @property
    def waits(self) -> bool:
        return not self.contacts and bool(self.missing)


def reach(row: Any, directory: Directory, channels: Collection[str]) -> Reach:
    """The contacts behind an outbox row (recipient, channel, address, language)."""
    kind, _, ident = row.recipient.partition(":")
    if kind == "party":
        if row.channel not in channels:
            return Reach([], frozenset({row.channel}))
        name = directory.party_names.get(int(ident), "")
        return Reach([Contact("", name, row.channel, row.address, row.language)], frozenset())
    officials = directory.officials(kind, ident)
    contacts: list[Contact] = []
    missing: set[str] = set()
    for user in officials:
        addresses = zip(OFFICIAL_CHANNELS, (user.email, user.phone), strict=True)
        known = [(c, a) for c, a in addresses if a]
        usable = [(c, a) for c, a in known if c in channels]
        if usable:
            suffix = user.id if len(officials) > 1 else ""
            channel, address = usable[0]
            contacts.append(Contact(suffix, user.name, channel, address, user.language))
        else:
            missing.update(c for c, _ in known)
    return Reach(contacts, frozenset(missing))


def claimable_channels(channels: Collection[str]) -> list[str]:
    """The row channels worth claiming: those with a sink, and officials' if any sink."""
    found = sorted(channels)
    return [*found, DECIDED_AT_SEND] if found else []


def waiting_counts(conn: Connection, channels: Collection[str]) -> Counter[str]:
    """Pending messages waiting for a sink, by the channel that lacks one.

    A message to several officials lacking different channels counts under each.
    """
    pending = outbox.c.status == "pending"
    counts: Counter[str] = Counter()
    by_channel = (
        sa.select(outbox.c.channel, sa.func.count())
        .where(pending, outbox.c.channel.not_in([*channels, DECIDED_AT_SEND]))
        .group_by(outbox.c.channel)
    )
    for channel, n in conn.execute(by_channel):
        counts[str(channel)] += int(n)
    to_officials = (
        sa.select(outbox.c.recipient, sa.func.count())
        .where(pending, outbox.c.channel == DECIDED_AT_SEND)
        .group_by(outbox.c.recipient)
    )
    per_recipient = {str(r): int(n) for r, n in conn.execute(to_officials)}
    for recipient, missing in _officials_missing(conn, per_recipient, channels).items():
        for channel in missing:
            counts[channel] += per_recipient[recipient]
    return counts


def waiting_rows(conn: Connection, rows: Iterable[Any], channels: Collection[str]) -> set[int]:
    """The ids of those `rows` (outbox rows) that wait for a sink."""
    pending = [r for r in rows if r.status == "pending"]
    waiting = {r.id for r in pending if r.channel not in (*channels, DECIDED_AT_SEND)}
    officials = {r.recipient for r in pending if r.channel == DECIDED_AT_SEND}
    missing = _officials_missing(conn, officials, channels)
    return waiting | {
        r.id for r in pending if r.channel == DECIDED_AT_SEND and r.recipient in missing
    }


def _officials_missing(
    conn: Connection, recipients: Iterable[str], channels: Collection[str]
) -> dict[str, frozenset[str]]:
    """Recipients (officials) nobody behind whom has a channel with a sink, and why."""
    wanted = list(recipients)
    directory = Directory.load(conn, wanted)
    found = {}
    for recipient in wanted:
        row = _Official(recipient)
        reached = reach(row, directory, channels)
        if reached.waits:
            found[recipient] = reached.missing
    return found


@dataclass(frozen=True)
class _Official:
    recipient: str
    channel: str = DECIDED_AT_SEND
    address: str | None = None
    language: str = ""
