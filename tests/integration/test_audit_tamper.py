"""The history is tamper-evident: every kind of tampering is named by case and record."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.tamper import drop_append_only_guard
from workflow import audit, errors
from workflow.schema import audit_events, cases


@pytest.fixture
def two_cases(desk: Any) -> tuple[int, int]:
    """Two cases with five records each; the tests tamper with the first.

    The history's triggers are removed first, as an attacker with DDL rights would.
    """
    a = desk.to_state("in_mediation")
    b = desk.to_state("in_mediation")
    for case_id in (a, b):
        desk.fire(case_id, "record_session", "mediator", held_on=desk.today())
    with desk.store.transaction() as conn:
        drop_append_only_guard(conn)
    return a, b


KEY = Ed25519PrivateKey.generate()  # the operator's signing key, outside the database


def exported_heads(desk: Any) -> dict[int, tuple[int, str]]:
    """Heads signed now, kept outside the database, read back with the public key."""
    with desk.store.reading() as conn:
        doc = json.loads(json.dumps(audit.export_heads(conn, KEY, desk.clock.now())))
    return audit.parse_heads(doc, KEY.public_key())


def verify(desk: Any, heads: Any = None) -> audit.VerifyReport:
    with desk.store.reading() as conn:
        return audit.verify(conn, heads=heads)


def sql(desk: Any, statement: str, **params: Any) -> None:
    with desk.store.transaction() as conn:
        conn.execute(sa.text(statement), params)


def record_id(desk: Any, case_id: int, seq: int) -> int:
    return next(r.id for r in desk.history(case_id) if r.seq == seq)


def only_break(report: audit.VerifyReport) -> audit.Break:
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


def test_an_untouched_history_verifies(desk: Any, two_cases: tuple[int, int]) -> None:
    report = verify(desk)
    assert report.ok
    assert (report.cases, report.events) == (2, 10)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "someone-else"),
        ("role", "admin"),
        ("event", "reach_agreement"),
        ("to_state", "settled"),
        ("payload", '{"held_on":"2024-01-01"}'),
    ],
)
def test_a_changed_field_is_named_by_case_and_record(
    desk: Any, two_cases: tuple[int, int], column: str, value: str
) -> None:
    a, _b = two_cases
    sql(desk, f"UPDATE audit_events SET {column} = :v WHERE case_id = :c AND seq = 3", v=value, c=a)
    found = only_break(verify(desk))
    assert (found.case_id, found.seq, found.record_id) == (a, 3, record_id(desk, a, 3))
    assert "altered" in found.reason
    assert f"case {a}, record seq 3" in str(found)


def test_a_changed_timestamp_is_named(desk: Any, two_cases: tuple[int, int]) -> None:
    a, _b = two_cases
    with desk.store.transaction() as conn:
        row = conn.execute(
            sa.select(audit_events).where(audit_events.c.case_id == a, audit_events.c.seq == 2)
        ).one()
        conn.execute(
            audit_events.update()
            .where(audit_events.c.id == row.id)
            .values(at=row.at - timedelta(seconds=1))
        )
    found = only_break(verify(desk))
    assert (found.case_id, found.seq) == (a, 2)


def test_a_deleted_record_is_named_by_the_record_after_the_gap(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, _b = two_cases
    third = record_id(desk, a, 3)
    sql(desk, "DELETE FROM audit_events WHERE case_id = :c AND seq = 2", c=a)
    found = only_break(verify(desk))
    assert (found.case_id, found.seq, found.record_id) == (a, 3, third)
    assert "removed" in found.reason


def test_a_deleted_last_record_is_caught_by_the_case_head(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, _b = two_cases
    sql(desk, "DELETE FROM audit_events WHERE case_id = :c AND seq = 5", c=a)
    found = only_break(verify(desk))
    assert (found.case_id, found.seq) == (a, None)
    assert "head hash" in found.reason


def test_two_reordered_records_are_named(desk: Any, two_cases: tuple[int, int]) -> None:
    a, _b = two_cases
    second = record_id(desk, a, 2)
    sql(desk, "UPDATE audit_events SET seq = -1 WHERE case_id = :c AND seq = 2", c=a)
    sql(desk, "UPDATE audit_events SET seq = 2 WHERE case_id = :c AND seq = 3", c=a)
    sql(desk, "UPDATE audit_events SET seq = 3 WHERE case_id = :c AND seq = -1", c=a)
    found = only_break(verify(desk))
    # Storage order keeps the original record first: it now claims to be seq 3.
    assert (found.case_id, found.seq, found.record_id) == (a, 3, second)
    assert "reordered" in found.reason


def test_a_record_spliced_in_from_another_case_is_named(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, b = two_cases
    columns = ["event", "actor", "role", "at", "from_state", "to_state", "payload"]
    columns += ["prev_hash", "hash"]
    with desk.store.transaction() as conn:
        donor = conn.execute(
            sa.select(audit_events).where(audit_events.c.case_id == b, audit_events.c.seq == 3)
        ).one()
        conn.execute(
            audit_events.update()
            .where(audit_events.c.case_id == a, audit_events.c.seq == 3)
            .values({c: getattr(donor, c) for c in columns})
        )
    found = only_break(verify(desk))
    assert (found.case_id, found.seq, found.record_id) == (a, 3, record_id(desk, a, 3))


def test_a_record_moved_from_another_case_breaks_both_chains(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, b = two_cases
    moved = record_id(desk, b, 5)
    sql(desk, "UPDATE audit_events SET case_id = :a, seq = 6 WHERE id = :id", a=a, id=moved)
    breaks = {x.case_id: x for x in verify(desk).breaks}
    assert set(breaks) == {a, b}
    assert (breaks[a].seq, breaks[a].record_id) == (6, moved)
    assert breaks[b].seq is None  # b's head names a record that is gone


def test_a_record_appended_without_the_engine_is_caught(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, _b = two_cases
    last = desk.history(a)[-1]
    forged = {
        "case_id": a,
        "seq": 6,
        "event": "reach_agreement",
        "actor": "mallory",
        "role": "mediator",
        "at": last.at,
        "from_state": "in_mediation",
        "to_state": "settled",
        "payload": "{}",
        "prev_hash": last.hash,
    }
    forged["hash"] = audit.record_hash(
        last.hash,
        case_id=a,
        seq=6,
        event="reach_agreement",
        actor="mallory",
        role="mediator",
        at=last.at,
        from_state="in_mediation",
        to_state="settled",
        payload="{}",
    )
    with desk.store.transaction() as conn:
        conn.execute(audit_events.insert().values(**forged))
    found = only_break(verify(desk))
    assert (found.case_id, found.seq) == (a, None)  # the case row's head still says seq 5


def _rewrite_chain(desk: Any, case_id: int, seq: int, actor: str) -> None:
    """Change one record and recompute every hash after it and the case's head."""
    with desk.store.transaction() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.case_id == case_id)
            .order_by(audit_events.c.seq)
        ).all()
        prev = audit.GENESIS
        for row in rows:
            who = actor if row.seq == seq else row.actor
            digest = audit.record_hash(
                prev,
                case_id=row.case_id,
                seq=row.seq,
                event=row.event,
                actor=who,
                role=row.role,
                at=row.at,
                from_state=row.from_state,
                to_state=row.to_state,
                payload=row.payload,
            )
            conn.execute(
                audit_events.update()
                .where(audit_events.c.id == row.id)
                .values(actor=who, prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(cases.update().where(cases.c.id == case_id).values(audit_head=prev))


def test_a_consistently_rewritten_chain_is_caught_by_heads_exported_earlier(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, _b = two_cases
    heads = exported_heads(desk)
    version_a = desk.case(a).version

    _rewrite_chain(desk, a, 2, "someone-else")
    assert verify(desk).ok  # the rewrite is internally consistent

    found = only_break(verify(desk, heads))
    assert (found.case_id, found.seq) == (a, version_a)
    assert found.record_id == record_id(desk, a, version_a)
    assert "rewritten" in found.reason


def test_events_after_the_export_do_not_look_like_tampering(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, b = two_cases
    heads = exported_heads(desk)
    desk.fire(a, "reach_agreement", "mediator", agreement_ref="MA-1")
    desk.fire_filled(b, "extend", "mediator")
    assert verify(desk, heads).ok


def test_a_case_deleted_after_the_export_is_named(desk: Any, two_cases: tuple[int, int]) -> None:
    a, _b = two_cases
    heads = exported_heads(desk)
    for table in ("audit_events", "timers", "outbox", "parties"):
        sql(desk, f"DELETE FROM {table} WHERE case_id = :c", c=a)
    sql(desk, "DELETE FROM cases WHERE id = :c", c=a)
    found = only_break(verify(desk, heads))
    assert (found.case_id, found.seq) == (a, None)
    assert "missing" in found.reason


def test_a_truncated_chain_is_caught_by_the_exported_version(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, _b = two_cases
    heads = exported_heads(desk)
    # The last record (a session) goes, and the case row is put back to what the shorter
    # history replays to: consistent on its own.
    sql(desk, "DELETE FROM audit_events WHERE case_id = :c AND seq >= 5", c=a)
    with desk.store.transaction() as conn:
        last = conn.execute(
            sa.select(audit_events).where(audit_events.c.case_id == a, audit_events.c.seq == 4)
        ).one()
        conn.execute(
            cases.update()
            .where(cases.c.id == a)
            .values(audit_head=last.hash, version=4, sessions=0, updated_at=last.at)
        )
    assert verify(desk).ok
    found = only_break(verify(desk, heads))
    assert (found.case_id, found.seq) == (a, None)
    assert "shorter than the exported version" in found.reason


def test_an_edited_heads_file_is_refused(desk: Any, two_cases: tuple[int, int]) -> None:
    a, _b = two_cases
    with desk.store.reading() as conn:
        doc = audit.export_heads(conn, KEY, desk.clock.now())
    doc["cases"][str(a)]["head"] = "0" * 64
    with pytest.raises(errors.SignatureMismatch, match="the file was changed"):
        audit.parse_heads(doc, KEY.public_key())
    with pytest.raises(errors.HeadsMalformed, match="not a tatulasu audit heads file"):
        audit.parse_heads({"format": "something-else"}, KEY.public_key())


def test_verifying_some_cases_against_the_heads_checks_only_those(
    desk: Any, two_cases: tuple[int, int]
) -> None:
    a, b = two_cases
    heads = exported_heads(desk)
    _rewrite_chain(desk, b, 2, "someone-else")
    with desk.store.reading() as conn:
        only_a = audit.verify(conn, heads=heads, case_ids=[a])
        only_b = audit.verify(conn, heads=heads, case_ids=[b])
    assert only_a.ok, only_a.breaks
    assert (only_a.cases, only_a.events) == (1, 5)
    assert [x.case_id for x in only_b.breaks] == [b]
