"""Terms as timer rows: reminders, expiry, extension, suspension, and the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workflow import audit, timers
from workflow.errors import CaseSuspended, GuardFailed
from workflow.schema import timers as timer_table
from workflow.store import utc

pytestmark = pytest.mark.lifecycle(1)  # version 1's terms: its cases live on by them

ALMATY = ZoneInfo("Asia/Almaty")


def due_of(desk: Any, case_id: int) -> datetime | None:
    due = desk.case(case_id).term_due_at
    return None if due is None else utc(due)


def last_day(desk: Any, case_id: int) -> date:
    due = due_of(desk, case_id)
    assert due is not None
    return desk.engine.calendar.local_date(due - timedelta(microseconds=1))


def open_timers(desk: Any, case_id: int) -> list[tuple[str, str, datetime]]:
    return [(t.kind, t.event, utc(t.due_at)) for t in desk.timers(case_id, open_only=True)]


def sweep_until_quiet(desk: Any) -> int:
    fired = 0
    while True:
        result = timers.sweep(desk.engine)
        assert result.refused == []
        if not result.fired:
            return fired
        fired += result.fired


def test_a_term_in_working_days_skips_the_may_2024_holidays(desk: Any) -> None:
    desk.clock.set(datetime(2024, 5, 6, 10, 0, tzinfo=ALMATY))
    opened = desk.refer()
    # 7, 8 (transferred from Saturday 4 May) and 9 May are off: 10, 13, 14 May count.
    assert opened.term_due_at == "2024-05-14T19:00:00.000000Z"
    assert due_of(desk, opened.case_id) == datetime(2024, 5, 15, 0, 0, tzinfo=ALMATY)


def test_a_working_day_term_counts_the_transferred_saturday(desk: Any) -> None:
    desk.clock.set(datetime(2024, 5, 2, 10, 0, tzinfo=ALMATY))
    case_id = desk.refer().case_id
    assert last_day(desk, case_id) == date(2024, 5, 6)  # 3 May, Saturday 4 May, 6 May


def test_entering_a_state_replaces_the_open_timers_of_the_old_one(desk: Any) -> None:
    case_id = desk.refer().case_id
    assert {t.term for t in desk.timers(case_id)} == {"acceptance"}
    desk.fire(case_id, "accept", "coordinator")
    assert {t.term for t in desk.timers(case_id)} == {"reply_to_offer"}
    assert [k for k, _e, _d in open_timers(desk, case_id)] == ["reminder", "reminder", "expiry"]


def test_mediation_can_be_extended_once_and_the_due_moves_by_30_days(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")
    before = due_of(desk, case_id)
    assert before is not None
    planned_before = open_timers(desk, case_id)

    done = desk.fire(case_id, "extend", "mediator")
    after = due_of(desk, case_id)
    assert after == before + timedelta(days=30)
    assert done.term_due_at == audit.format_instant(after)
    case = desk.case(case_id)
    assert (case.state, case.extensions_used) == ("in_mediation", 1)
    assert open_timers(desk, case_id) == [
        (k, e, d + timedelta(days=30)) for k, e, d in planned_before
    ]

    snapshot = desk.snapshot()
    with pytest.raises(GuardFailed, match="extension_available"):
        desk.fire(case_id, "extend", "coordinator")
    assert desk.snapshot() == snapshot


def test_the_extended_term_runs_out_only_at_its_new_end(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")
    desk.fire(case_id, "extend", "mediator")
    desk.advance(40)
    sweep_until_quiet(desk)
    assert desk.case(case_id).state == "in_mediation"
    desk.advance(21)
    sweep_until_quiet(desk)
    assert desk.case(case_id).state == "court"


def test_suspension_keeps_the_days_left_and_resume_replans_them(desk: Any) -> None:
    case_id = desk.to_state("in_mediation")  # contract of Monday 22 April: ends after 22 May
    assert last_day(desk, case_id) == date(2024, 5, 22)
    desk.advance(5)  # Saturday 27 April
    desk.fire(case_id, "suspend", "coordinator", reason="illness")
    case = desk.case(case_id)
    assert case.suspended_at is not None
    assert (case.term_name, case.term_due_at, case.term_days_left) == ("mediation", None, 25)
    assert open_timers(desk, case_id) == []

    desk.advance(60)  # long past the original end: nothing may fire
    assert sweep_until_quiet(desk) == 0
    assert desk.case(case_id).state == "in_mediation"
    with pytest.raises(CaseSuspended):
        desk.fire(case_id, "reach_agreement", "mediator", agreement_ref="A")

    resumed = desk.fire(case_id, "resume", "court")  # Wednesday 26 June
    case = desk.case(case_id)
    assert case.suspended_at is None and case.term_days_left is None
    assert last_day(desk, case_id) == date(2024, 6, 26) + timedelta(days=25)
    assert resumed.term_due_at == audit.format_instant(due_of(desk, case_id))
    assert [k for k, _e, _d in open_timers(desk, case_id)] == ["reminder", "reminder", "expiry"]

    desk.advance(26)
    sweep_until_quiet(desk)
    assert desk.case(case_id).state == "court"


def test_a_working_day_term_keeps_working_days_across_a_suspension(desk: Any) -> None:
    desk.clock.set(datetime(2024, 5, 2, 10, 0, tzinfo=ALMATY))  # Thursday
    case_id = desk.refer().case_id  # due after 6 May: 3, 4 and 6 May
    desk.fire(case_id, "suspend", "coordinator", reason="court_stay")
    assert desk.case(case_id).term_days_left == 3
    desk.clock.set(datetime(2024, 5, 6, 10, 0, tzinfo=ALMATY))  # Monday
    desk.fire(case_id, "resume", "coordinator")
    assert last_day(desk, case_id) == date(2024, 5, 14)  # 10, 13, 14 May


def test_a_suspended_case_can_be_withdrawn_and_has_no_timers_left(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    desk.fire(case_id, "suspend", "coordinator", reason="party_request")
    desk.fire(case_id, "withdraw", "coordinator", reason="settled_outside")
    case = desk.case(case_id)
    assert (case.state, case.suspended_at, case.term_name) == ("withdrawn", None, None)
    assert open_timers(desk, case_id) == []


def test_a_case_cannot_be_suspended_twice(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    desk.fire(case_id, "suspend", "coordinator", reason="illness")
    with pytest.raises(CaseSuspended):
        desk.fire(case_id, "suspend", "coordinator", reason="illness")


def test_reminders_fire_exactly_once_and_write_outbox_rows(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("med-1"))
    outbox_before = len(desk.outbox(case_id))

    desk.clock.set(datetime(2024, 4, 29, 8, 59, tzinfo=ALMATY))
    assert timers.sweep(desk.engine).fired == 0
    desk.clock.set(datetime(2024, 4, 29, 9, 0, tzinfo=ALMATY))
    assert timers.sweep(desk.engine).fired == 1
    assert timers.sweep(desk.engine).fired == 0

    remind = desk.history(case_id)[-1]
    assert (remind.event, remind.role, remind.from_state) == ("remind", "system", "pre_trial")
    assert '"term":"reply_to_offer"' in remind.payload
    new = [m for m in desk.outbox(case_id)][outbox_before:]
    assert {m.seq for m in new} == {remind.seq}
    assert sorted(m.recipient.split(":")[0] for m in new) == ["mediator", "party", "party"]
    assert all(m.template == "remind" and '"term":"reply_to_offer"' in m.context for m in new)

    desk.clock.set(datetime(2024, 5, 1, 12, 0, tzinfo=ALMATY))
    assert timers.sweep(desk.engine).fired == 1
    assert timers.sweep(desk.engine).fired == 0
    reminders = [r for r in desk.history(case_id) if r.event == "remind"]
    assert len(reminders) == 2
    assert len(desk.outbox(case_id)) == outbox_before + 6


def test_the_sweep_never_fires_a_timer_twice(desk: Any) -> None:
    ids = [desk.to_state("pre_trial") for _ in range(3)]
    ids += [desk.to_state("in_mediation") for _ in range(2)]
    desk.advance(45)
    fired = sweep_until_quiet(desk)
    for _ in range(3):
        assert timers.sweep(desk.engine).fired == 0
    system_records = [r for i in ids for r in desk.history(i) if r.role == "system"]
    fired_timers = [t for i in ids for t in desk.timers(i) if t.fired_at is not None]
    assert fired == len(system_records) == len(fired_timers) == 3 * 3 + 2 * 3
    assert all(desk.timers(i, open_only=True) == [] for i in ids)


def test_a_late_sweep_fires_overdue_reminders_in_order_before_the_expiry(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    desk.advance(30)
    sweep_until_quiet(desk)
    assert [(r.event, r.to_state) for r in desk.history(case_id) if r.role == "system"] == [
        ("remind", "pre_trial"),
        ("remind", "pre_trial"),
        ("no_consent", "court"),
    ]


def test_an_unaccepted_referral_escalates_to_the_coordinator_then_the_supervisor(
    desk: Any,
) -> None:
    desk.clock.set(datetime(2024, 5, 2, 10, 0, tzinfo=ALMATY))
    case_id = desk.refer().case_id  # acceptance term ends after Monday 6 May

    desk.clock.set(datetime(2024, 5, 7, 0, 1, tzinfo=ALMATY))
    sweep_until_quiet(desk)
    escalations = [r for r in desk.history(case_id) if r.event == "escalate"]
    assert len(escalations) == 1
    first = [m.recipient for m in desk.outbox(case_id) if m.seq == escalations[0].seq]
    assert first == ["coordinator:Oskemen Tatulasu centre"]

    desk.clock.set(datetime(2024, 5, 13, 23, 59, tzinfo=ALMATY))  # 2 working days: 10, 13 May
    assert timers.sweep(desk.engine).fired == 0
    desk.clock.set(datetime(2024, 5, 14, 0, 0, tzinfo=ALMATY))
    assert timers.sweep(desk.engine).fired == 1
    second = desk.history(case_id)[-1]
    assert second.event == "escalate"
    assert [m.recipient for m in desk.outbox(case_id) if m.seq == second.seq] == ["supervisor:VKO"]
    assert desk.case(case_id).state == "referred"
    assert open_timers(desk, case_id) == []


def test_timers_are_stored_in_utc_and_fall_at_local_times(desk: Any) -> None:
    case_id = desk.to_state("pre_trial")
    planned = open_timers(desk, case_id)
    assert [d.astimezone(ALMATY).time().isoformat() for _k, _e, d in planned] == [
        "09:00:00",
        "09:00:00",
        "00:00:00",
    ]
    assert all(d.tzinfo == UTC for _k, _e, d in planned)


def test_a_timer_whose_event_refuses_its_payload_is_retired_and_does_not_block_the_sweep(
    desk: Any,
) -> None:
    poisoned = desk.to_state("in_mediation")
    other = desk.to_state("pre_trial")
    with desk.store.transaction() as conn:
        conn.execute(
            timer_table.insert().values(
                case_id=poisoned,
                kind="expiry",
                term="mediation",
                event="fail",
                payload='{"reason":"not_a_code"}',
                notify="",
                due_at=desk.clock.now(),
            )
        )
    desk.advance(11)
    result = timers.sweep(desk.engine)
    assert len(result.refused) == 1 and "not_a_code" in result.refused[0]
    assert desk.case(poisoned).state == "in_mediation"
    assert desk.case(other).state == "court"  # its timers still fired
    assert timers.sweep(desk.engine).refused == []  # retired, not retried forever
