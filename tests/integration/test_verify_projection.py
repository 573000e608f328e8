"""`audit verify` proves the projection: the case row, its parties and its open timers
are replayed from the history, and each edit made beside the engine is named by case
and column, with personal data masked in the message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import make_iin
from tests.tamper import drop_append_only_guard
from workflow import audit
from workflow.schema import audit_events, cases, timers


@pytest.fixture
def tampered(desk: Any) -> dict[str, int]:
    """A case in mediation with tallies and open timers, an enforcement case, a bystander.

    The history's guard is removed, as an attacker with DDL rights would; the tests
    then change the projection only (the case row, parties, timers).
    """
    mediated = desk.to_state("in_mediation")
    desk.fire(mediated, "record_consultation", "mediator")
    desk.fire(mediated, "record_session", "mediator", held_on=desk.today())
    enforcement = desk.to_state("enforcement_reconciliation")
    bystander = desk.to_state("pre_trial")
    with desk.store.transaction() as conn:
        drop_append_only_guard(conn)
    return {"mediated": mediated, "enforcement": enforcement, "bystander": bystander}


def verify(desk: Any) -> audit.VerifyReport:
    with desk.store.reading() as conn:
        return audit.verify(conn, decider=desk.engine)


def sql(desk: Any, statement: str, **params: Any) -> None:
    with desk.store.transaction() as conn:
        conn.execute(sa.text(statement), params)


def only(report: audit.VerifyReport) -> audit.Break:
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


def test_an_untouched_projection_verifies(desk: Any, tampered: dict[str, int]) -> None:
    report = verify(desk)
    assert report.ok, report.breaks
    assert report.cases == 3


CASE_EDITS = [
    ("state", "UPDATE cases SET state = 'settled' WHERE id = :c"),
    ("version", "UPDATE cases SET version = version + 1 WHERE id = :c"),
    ("definition_version", "UPDATE cases SET definition_version = 1 WHERE id = :c"),
    ("region", "UPDATE cases SET region = 'AST' WHERE id = :c"),
    ("centre", "UPDATE cases SET centre = 'Another centre' WHERE id = :c"),
    ("mediator", "UPDATE cases SET mediator = 'med-2' WHERE id = :c"),
    ("bailiff", "UPDATE cases SET bailiff = 'bailiff-9' WHERE id = :c"),
    ("court", "UPDATE cases SET court = 'judge-9' WHERE id = :c"),
    ("procedure", "UPDATE cases SET procedure = 'settlement_agreement' WHERE id = :c"),
    ("enforcement_suspended", "UPDATE cases SET enforcement_suspended = :yes WHERE id = :c"),
    ("consultations", "UPDATE cases SET consultations = consultations + 1 WHERE id = :c"),
    ("sessions", "UPDATE cases SET sessions = 0 WHERE id = :c"),
    ("reminders", "UPDATE cases SET reminders = reminders + 2 WHERE id = :c"),
    ("escalations", "UPDATE cases SET escalations = escalations + 1 WHERE id = :c"),
    ("terms_missed", "UPDATE cases SET terms_missed = terms_missed + 1 WHERE id = :c"),
    ("agreed_at", "UPDATE cases SET agreed_at = opened_at WHERE id = :c"),
    ("agreement_days", "UPDATE cases SET agreement_days = 3.5 WHERE id = :c"),
    ("extensions_used", "UPDATE cases SET extensions_used = 1 WHERE id = :c"),
    ("term_days_left", "UPDATE cases SET term_days_left = 12 WHERE id = :c"),
    ("suspended_at", "UPDATE cases SET suspended_at = opened_at WHERE id = :c"),
    ("closed_at", "UPDATE cases SET closed_at = opened_at WHERE id = :c"),
]


@pytest.mark.parametrize(("column", "statement"), CASE_EDITS, ids=[c for c, _ in CASE_EDITS])
def test_an_edited_case_column_is_named(
    desk: Any, tampered: dict[str, int], column: str, statement: str
) -> None:
    case_id = tampered["mediated"]
    sql(desk, statement, c=case_id, yes=True)
    found = only(verify(desk))
    assert (found.case_id, found.column, found.seq) == (case_id, f"cases.{column}", None)
    assert found.stored != found.replayed
    assert str(found).startswith(f"case {case_id}: cases.{column} is ")
    assert "its history says" in str(found)


def test_a_moved_term_is_named_with_both_instants(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["mediated"]
    due = desk.case(case_id).term_due_at
    with desk.store.transaction() as conn:
        later = due + timedelta(days=30)
        conn.execute(cases.update().where(cases.c.id == case_id).values(term_due_at=later))
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, "cases.term_due_at")
    assert found.replayed == audit.format_instant(due)
    assert found.stored == audit.format_instant(later)


def test_enforcement_resumed_beside_the_engine_is_named(
    desk: Any, tampered: dict[str, int]
) -> None:
    case_id = tampered["enforcement"]
    assert desk.case(case_id).enforcement_suspended
    sql(desk, "UPDATE cases SET enforcement_suspended = :no WHERE id = :c", c=case_id, no=False)
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, "cases.enforcement_suspended")
    assert (found.stored, found.replayed) == ("false", "true")


OTHER_IIN = make_iin(77)
PARTY_EDITS = [
    ("name", "claimant", "UPDATE parties SET name = 'Mallory Forger' WHERE id = :p", "Mallory"),
    ("iin_bin", "claimant", f"UPDATE parties SET iin_bin = '{OTHER_IIN}' WHERE id = :p", OTHER_IIN),
    ("phone", "respondent", "UPDATE parties SET phone = '+77019998877' WHERE id = :p", "9998877"),
    ("email", "claimant", "UPDATE parties SET email = 'x@evil.kz' WHERE id = :p", "x@evil"),
    ("role", "respondent", "UPDATE parties SET role = 'debtor' WHERE id = :p", None),
    ("language", "claimant", "UPDATE parties SET language = 'ru' WHERE id = :p", None),
]


@pytest.mark.parametrize(
    ("column", "role", "statement", "secret"), PARTY_EDITS, ids=[c for c, *_ in PARTY_EDITS]
)
def test_an_edited_party_is_named_and_masked(
    desk: Any,
    tampered: dict[str, int],
    column: str,
    role: str,
    statement: str,
    secret: str | None,
) -> None:
    case_id = tampered["mediated"]
    with desk.store.reading() as conn:
        rows = conn.execute(
            sa.text("SELECT id, role FROM parties WHERE case_id = :c ORDER BY id"), {"c": case_id}
        ).all()
    index, party_id = next((i, r.id) for i, r in enumerate(rows) if r.role == role)
    sql(desk, statement, p=party_id)
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, f"parties[{index}].{column}")
    if secret is not None:  # personal data never in the report in full
        assert secret not in str(found)
        assert secret not in (found.stored or "")


def test_a_removed_party_is_named(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["mediated"]
    sql(desk, "DELETE FROM parties WHERE case_id = :c AND role = 'respondent'", c=case_id)
    found = only(verify(desk))
    assert (found.case_id, found.column, found.stored, found.replayed) == (
        case_id,
        "parties",
        "1",
        "2",
    )


def _open_timer(desk: Any, case_id: int) -> Any:
    return desk.timers(case_id, open_only=True)[-1]


def test_a_moved_open_timer_is_named(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["mediated"]
    timer = _open_timer(desk, case_id)
    with desk.store.transaction() as conn:
        conn.execute(
            timers.update()
            .where(timers.c.id == timer.id)
            .values(due_at=timer.due_at + timedelta(days=60))
        )
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, "timers.due_at")
    assert found.replayed == audit.format_instant(timer.due_at)


def test_a_deleted_open_timer_is_named(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["mediated"]
    timer = _open_timer(desk, case_id)
    sql(desk, "DELETE FROM timers WHERE id = :t", t=timer.id)
    found = only(verify(desk))
    assert (found.case_id, found.column, found.stored) == (case_id, "timers", "none")
    assert "an open timer is missing" in found.reason
    assert timer.event in found.reason


def test_an_open_timer_marked_fired_beside_the_sweep_is_named(
    desk: Any, tampered: dict[str, int]
) -> None:
    case_id = tampered["mediated"]
    timer = _open_timer(desk, case_id)
    with desk.store.transaction() as conn:
        conn.execute(
            timers.update().where(timers.c.id == timer.id).values(fired_at=desk.clock.now())
        )
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, "timers")
    assert "missing" in found.reason


def test_an_extra_timer_is_named(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["bystander"]
    with desk.store.transaction() as conn:
        conn.execute(
            timers.insert().values(
                case_id=case_id,
                kind="expiry",
                term="acceptance",
                event="escalate",
                payload="{}",
                notify="",
                due_at=desk.clock.now() + timedelta(days=1),
                fired_at=None,
            )
        )
    found = only(verify(desk))
    assert (found.case_id, found.column, found.replayed) == (case_id, "timers", "none")
    assert "does not plan" in found.reason


def test_a_case_closed_by_its_row_alone_names_every_column_it_changed(
    desk: Any, tampered: dict[str, int]
) -> None:
    case_id = tampered["mediated"]
    sql(
        desk,
        "UPDATE cases SET state = 'settled', closed_at = updated_at, term_name = NULL,"
        " term_due_at = NULL WHERE id = :c",
        c=case_id,
    )
    sql(desk, "DELETE FROM timers WHERE case_id = :c AND fired_at IS NULL", c=case_id)
    report = verify(desk)
    assert {b.case_id for b in report.breaks} == {case_id}
    columns = {b.column for b in report.breaks}
    assert {"cases.state", "cases.closed_at", "cases.term_name", "cases.term_due_at"} <= columns
    assert "timers" in columns
    assert report.cases_broken == 1


def _rewrite(desk: Any, case_id: int, seq: int, **changes: Any) -> None:
    """Change one record and recompute every hash after it, and the case's head."""
    with desk.store.transaction() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.case_id == case_id)
            .order_by(audit_events.c.seq)
        ).all()
        prev = audit.GENESIS
        for row in rows:
            fields = {
                c: getattr(row, c)
                for c in ("event", "actor", "role", "at", "from_state", "to_state", "payload")
            }
            if row.seq == seq:
                fields.update(changes)
            digest = audit.record_hash(prev, case_id=case_id, seq=row.seq, **fields)
            conn.execute(
                audit_events.update()
                .where(audit_events.c.id == row.id)
                .values(**fields, prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(cases.update().where(cases.c.id == case_id).values(audit_head=prev))


def test_a_rewritten_history_the_rules_do_not_give_is_named_at_its_record(
    desk: Any, tampered: dict[str, int]
) -> None:
    case_id = tampered["mediated"]
    _rewrite(desk, case_id, 2, event="decline", to_state="closed_no_agreement")
    found = only(verify(desk))
    assert (found.case_id, found.seq, found.column) == (case_id, 2, None)
    assert "does not replay" in found.reason or "the rules take" in found.reason


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "{not json", '{"mediator": 7}'])
def test_a_rewritten_payload_the_engine_never_wrote_is_named_not_a_crash(
    desk: Any, tampered: dict[str, int], payload: str
) -> None:
    case_id = tampered["mediated"]
    assign = next(r for r in desk.history(case_id) if r.event == "assign_mediator")
    _rewrite(desk, case_id, assign.seq, payload=payload)
    found = only(verify(desk))
    assert (found.case_id, found.seq) == (case_id, assign.seq)
    assert found.reason.startswith("does not replay")


def test_a_rewritten_opening_is_named_at_its_first_record(
    desk: Any, tampered: dict[str, int]
) -> None:
    case_id = tampered["bystander"]
    _rewrite(desk, case_id, 1, payload='{"definition": 99}')
    found = only(verify(desk))
    assert (found.case_id, found.seq) == (case_id, 1)
    assert found.reason.startswith("does not replay")


def test_a_rewritten_payload_shows_in_the_projection(desk: Any, tampered: dict[str, int]) -> None:
    case_id = tampered["mediated"]
    assign = next(r for r in desk.history(case_id) if r.event == "assign_mediator")
    _rewrite(desk, case_id, assign.seq, payload='{"mediator":"med-9"}')
    found = only(verify(desk))
    assert (found.case_id, found.column) == (case_id, "cases.mediator")
    assert (found.stored, found.replayed) == ("'med-1'", "'med-9'")


def test_verifying_some_cases_replays_only_those(desk: Any, tampered: dict[str, int]) -> None:
    sql(desk, "UPDATE cases SET state = 'settled' WHERE id = :c", c=tampered["mediated"])
    with desk.store.reading() as conn:
        others = audit.verify(conn, case_ids=[tampered["bystander"], tampered["enforcement"]])
        alone = audit.verify(conn, case_ids=[tampered["mediated"]])
    assert others.ok and others.cases == 2
    assert [b.column for b in alone.breaks] == ["cases.state"]


def test_fired_reminders_and_escalations_replay(desk: Any) -> None:
    """Terms run out, the sweep fires reminders, escalations and the expiry's move."""
    from workflow import timers as sweep

    referred = desk.to_state("referred")
    mediated = desk.to_state("in_mediation")
    desk.fire_filled(mediated, "extend", "mediator")
    suspended = desk.to_state("in_mediation")
    desk.fire(suspended, "suspend", "coordinator", reason="illness")
    for _ in range(80):
        desk.advance(days=1)
        sweep.sweep(desk.engine)
        if _ == 10:
            desk.fire(suspended, "resume", "coordinator")
    with desk.store.reading() as conn:
        fired = conn.execute(
            sa.select(sa.func.count()).select_from(timers).where(timers.c.fired_at.is_not(None))
        ).scalar_one()
    assert fired > 5
    assert desk.case(referred).escalations > 0
    report = verify(desk)
    assert report.ok, report.breaks


def test_the_demo_history_verifies_and_a_tamper_in_it_is_named(tmp_path: Path) -> None:
    from tatulasu.demo.run import run_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(url, progress=False)  # verifies with the replay, or raises
    assert result.verified_events > 1000
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE cases SET sessions = sessions + 1 WHERE id = 17"))
        with engine.connect() as conn:
            report = audit.verify(conn)
    finally:
        engine.dispose()
    assert report.cases == 134
    assert [(b.case_id, b.column) for b in report.breaks] == [(17, "cases.sessions")]


def test_a_timer_the_sweep_retired_is_not_a_difference(
    desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timer whose event the rules refuse is retired (fired, no record): not tampering."""
    from workflow import timers as sweep
    from workflow.engine import Decider
    from workflow.errors import EventNotAllowed

    case_id = desk.to_state("referred")
    admit = Decider.admit

    def refusing(self: Decider, row: Any, event: str, role: str, *args: Any) -> Any:
        if role == "system":  # a definition whose timers outlive what they may fire
            raise EventNotAllowed(event, row.state, [])
        return admit(self, row, event, role, *args)

    monkeypatch.setattr(Decider, "admit", refusing)
    desk.advance(days=40)
    result = sweep.sweep(desk.engine)
    assert result.refused and not result.fired
    assert not desk.timers(case_id, open_only=True)
    assert verify(desk).ok  # the replay refuses them too: retired, not removed

    monkeypatch.undo()  # rules under which the sweep would have fired them
    found = verify(desk).breaks
    assert found and {b.column for b in found} == {"timers"}
