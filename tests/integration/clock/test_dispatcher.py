"""The outbox dispatcher against a real SMTP server and a real HTTP SMS gateway."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tasks.dispatch import Dispatcher, Policy
from tasks.sinks import Outgoing, SmsGatewaySink, SmtpSink
from tasks.templates import Renderer
from tests.conftest import Desk
from tests.integration.clock.sinks import Deliveries
from workflow import dates
from workflow.schema import outbox, timers, users
from workflow.store import utc
from workflow.timers import sweep

POLICY = Policy(lease_seconds=60, max_attempts=3, backoff_base_seconds=10)


def _dispatcher(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries], **kw: object
) -> Dispatcher:
    sinks = {
        "email": SmtpSink("127.0.0.1", smtp[0], "tatulasu@example.kz"),
        "sms": SmsGatewaySink(sms[0], token="secret"),
    }
    renderer = kw.get("renderer") or Renderer()
    assert isinstance(renderer, Renderer)
    return Dispatcher(desk.engine, sinks, renderer, POLICY)


def _add_official(desk: Desk, user_id: str, role: str, **contact: str) -> None:
    with desk.store.transaction() as conn:
        conn.execute(
            users.insert().values(
                id=user_id,
                name=f"{role} {user_id}",
                role=role,
                region="VKO",
                centre="Oskemen Tatulasu centre",
                language=contact.pop("language", "ru"),
                active=True,
                created_at=desk.clock.now(),
                **contact,
            )
        )


def _statuses(desk: Desk, case_id: int) -> dict[str, str]:
    return {m.recipient: m.status for m in desk.outbox(case_id)}


def test_messages_are_sent_once_and_receipts_enter_the_history(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    _add_official(desk, "coord-1", "coordinator", email="coord@example.kz")
    case_id = desk.refer().case_id  # notifies the coordinator and both parties
    dispatcher = _dispatcher(desk, smtp, sms)

    result = dispatcher.run_once()
    again = dispatcher.run_once()

    assert (result.sent, result.failed, again.handled) == (3, 0, 0)
    assert set(_statuses(desk, case_id).values()) == {"sent"}
    assert smtp[1].count() == 2 and sms[1].count() == 1  # claimant and coordinator; respondent
    assert smtp[1].duplicates == 0 and sms[1].duplicates == 0
    last = desk.history(case_id)[-1]
    assert last.event == "record_delivery" and last.role == "system"
    receipts = json.loads(last.payload)["deliveries"]
    assert {r["status"] for r in receipts} == {"delivered"}
    assert all(r["reference"].startswith(("smtp 250", "sms 200")) for r in receipts)
    to_parties = [m for m in desk.outbox(case_id) if m.recipient.startswith("party:")]
    assert sorted(r["key"] for r in receipts) == sorted(m.key for m in to_parties)
    official = next(m for m in desk.outbox(case_id) if m.recipient.startswith("coordinator:"))
    assert official.receipt.startswith("smtp 250")  # kept on the outbox row, not in history
    assert [r.event for r in desk.history(case_id)].count("record_delivery") == 1


def test_the_recipients_language_picks_the_template(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    _add_official(desk, "coord-1", "coordinator", email="coord@example.kz", language="ru")
    desk.refer()
    _dispatcher(desk, smtp, sms).run_once()
    subjects = {d["to"]: d["subject"] for d in smtp[1].delivered.values()}
    assert subjects["coord@example.kz"].startswith("Дело ")  # Russian
    assert subjects["aigerim@example.kz"].startswith("Іс ")  # Kazakh, the default


def test_an_operator_template_overrides_the_shipped_one(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries], tmp_path: Path
) -> None:
    (tmp_path / "kk").mkdir()
    (tmp_path / "kk" / "refer.txt").write_text(
        "Subject: Жаңа іс {{ case_id }}\nОрталық: {{ centre }}\n", encoding="utf-8"
    )
    desk.refer()
    dispatcher = _dispatcher(desk, smtp, sms, renderer=Renderer(tmp_path))
    dispatcher.run_once()
    subjects = {d["to"]: d["subject"] for d in smtp[1].delivered.values()}
    assert subjects["aigerim@example.kz"].startswith("Жаңа іс ")


def test_a_refusing_smtp_server_is_retried_with_backoff_then_marked_failed(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id
    smtp[1].mode = "temporary"
    dispatcher = _dispatcher(desk, smtp, sms)

    first = dispatcher.run_once()
    assert first.retried == 1 and first.sent == 1  # the SMS is not held up by the e-mail
    waiting = [m for m in desk.outbox(case_id) if m.channel == "email"]
    assert waiting[0].status == "pending" and "451" in waiting[0].last_error
    assert dispatcher.run_once().handled == 0  # backing off: not due yet

    for _ in range(POLICY.max_attempts - 1):
        desk.advance(hours=2)
        dispatcher.run_once()
    failed = next(m for m in desk.outbox(case_id) if m.channel == "email")
    assert failed.status == "failed" and failed.attempts == POLICY.max_attempts
    assert "451" in failed.last_error
    receipts = json.loads(desk.history(case_id)[-1].payload)["deliveries"]
    assert receipts[-1]["status"] == "failed"


def test_a_permanent_refusal_fails_at_once_with_the_reason(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    _add_official(desk, "coord-1", "coordinator", email="coord@example.kz")
    case_id = desk.refer().case_id
    sms[1].mode = "permanent"
    result = _dispatcher(desk, smtp, sms).run_once()
    assert result.failed == 1
    (sms_row,) = [m for m in desk.outbox(case_id) if m.channel == "sms"]
    assert sms_row.status == "failed" and "400" in sms_row.last_error


def test_an_official_without_contact_is_a_visible_failure(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id  # no coordinator is on file
    _dispatcher(desk, smtp, sms).run_once()
    row = next(m for m in desk.outbox(case_id) if m.recipient.startswith("coordinator:"))
    assert row.status == "failed" and "no contact on file" in row.last_error


def test_a_claim_abandoned_by_a_dead_worker_is_sent_after_its_lease(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id
    dispatcher = _dispatcher(desk, smtp, sms)
    claimed = dispatcher.claim(100)  # a worker claims, then dies before sending
    assert len(claimed) == 3
    assert dispatcher.run_once().handled == 0  # leased: nobody else sends meanwhile

    desk.advance(seconds=POLICY.lease_seconds + 1)
    assert dispatcher.run_once().sent == 2  # the coordinator has no contact: failed
    assert smtp[1].count() == 1 and sms[1].count() == 1
    assert {m.attempts for m in desk.outbox(case_id)} == {2}


def test_a_late_worker_cannot_settle_a_message_claimed_again(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id
    slow, fast = _dispatcher(desk, smtp, sms), _dispatcher(desk, smtp, sms)
    stale = slow.claim(100)
    desk.advance(seconds=POLICY.lease_seconds + 1)
    assert fast.run_once().handled == 3
    before = desk.outbox(case_id)

    with desk.store.transaction() as conn:
        for row in stale:
            fenced = outbox.update().where(
                outbox.c.id == row.id,
                outbox.c.status == "sending",
                outbox.c.attempts == row.attempts,
            )
            assert conn.execute(fenced.values(status="pending")).rowcount == 0
    assert desk.outbox(case_id) == before


def test_backoff_grows_and_is_capped() -> None:
    policy = Policy(backoff_base_seconds=30, backoff_cap_seconds=600)
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (6, 600), (20, 600)]:
        delay = policy.backoff(attempts)
        assert timedelta(seconds=ceiling / 2) <= delay <= timedelta(seconds=ceiling)


def test_sending_rows_are_counted_by_status(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    desk.refer()
    _dispatcher(desk, smtp, sms).run_once()
    with desk.store.reading() as conn:
        query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
        counts = {status: n for status, n in conn.execute(query)}
    assert counts == {"sent": 2, "failed": 1}


def test_a_reminder_names_the_terms_last_day_as_the_pages_and_the_cli_do(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    """One way of saying when a term ends: its last day, dd.mm.yyyy, not "00:00" after it."""
    _add_official(desk, "coord-1", "coordinator", email="coord@example.kz", language="ru")
    case_id = desk.refer().case_id
    due = utc(desk.case(case_id).term_due_at)
    mine = sa.and_(timers.c.case_id == case_id, timers.c.kind == "reminder")
    with desk.store.reading() as conn:
        first = conn.execute(
            sa.select(timers.c.due_at).where(mine).order_by(timers.c.due_at)
        ).scalar()
    assert first is not None
    _dispatcher(desk, smtp, sms).run_once()  # the referral's own notices
    sent_before = set(smtp[1].delivered)
    desk.clock.advance(utc(first) + timedelta(minutes=1) - desk.clock.now())
    assert sweep(desk.engine).fired >= 1
    _dispatcher(desk, smtp, sms).run_once()
    reminders = [d for k, d in smtp[1].delivered.items() if k not in sent_before]
    last_day = dates.day(dates.term_end(due, desk.engine.calendar.tz).last_day)
    said = [d["subject"] for d in reminders if last_day in d["subject"]]
    assert said, [d["subject"] for d in reminders]
    assert all(" 00:00" not in d["subject"] for d in reminders)
    assert dates.until(due, desk.engine.calendar.tz) == f"until {last_day} inclusive"


def test_a_long_message_reaches_the_smtp_server_whole(smtp: tuple[int, Deliveries]) -> None:
    """Over 1,000 bytes on the wire (a long Kazakh notice): sent with CRLF line ends, as
    SMTP has them, not as one bare-LF "line" an SMTP server refuses as too long."""
    sink = SmtpSink("127.0.0.1", smtp[0], "tatulasu@example.kz")
    body = "Құрметті тарап, медиация туралы жазбаша ұсыныс жіберілді. " * 30
    subject = (
        "Іс 1: екінші тарап оны алған күннен бастап он күнтізбелік күн ішінде жауап бере алады"
    )
    try:
        receipt = sink.send(Outgoing("1:4:party:1", "email", "aigerim@example.kz", subject, body))
    finally:
        sink.close()
    assert receipt.reference.startswith("smtp 250")
    assert smtp[1].count() == 1 and list(smtp[1].delivered) == ["1:4:party:1"]
