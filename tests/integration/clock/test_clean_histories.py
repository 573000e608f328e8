"""A case's history records each notice once, when its fate is known, and nothing else.

Messages without a sink wait (pending, unclaimed, counted by channel), notices about the
terms of a closed case are voided, and a receipt does not make a closed case look changed.
Against a real SMTP server and a real HTTP SMS gateway.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from typer.testing import CliRunner

from tasks.dispatch import Dispatcher, Policy
from tasks.sinks import Sink, SmsGatewaySink, SmtpSink
from tatulasu.api.metrics import StoreCollector
from tatulasu.cli import app
from tests.conftest import Desk
from tests.integration.clock.sinks import Deliveries
from workflow import audit, queries
from workflow.schema import users
from workflow.timers import sweep

POLICY = Policy(lease_seconds=60, max_attempts=4, backoff_base_seconds=10)
ROUNDS = 12


def _sinks(
    smtp: tuple[int, Deliveries] | None = None, sms: tuple[str, Deliveries] | None = None
) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {}
    if smtp is not None:
        sinks["email"] = SmtpSink("127.0.0.1", smtp[0], "tatulasu@example.kz")
    if sms is not None:
        sinks["sms"] = SmsGatewaySink(sms[0], token="secret")
    return sinks


def _dispatcher(desk: Desk, sinks: Mapping[str, Sink]) -> Dispatcher:
    return Dispatcher(desk.engine, sinks, policy=POLICY)


def _coordinator(desk: Desk, **contact: str) -> None:
    with desk.store.transaction() as conn:
        conn.execute(
            users.insert().values(
                id="coord-1",
                name="Coordinator",
                role="coordinator",
                region="VKO",
                centre="Oskemen Tatulasu centre",
                language="ru",
                active=True,
                created_at=desk.clock.now(),
                **contact,
            )
        )


def _receipts(desk: Desk, case_id: int) -> list[dict[str, str]]:
    """Every delivery recorded in the case's history, in order."""
    return [
        receipt
        for record in desk.history(case_id)
        if record.event == "record_delivery"
        for receipt in json.loads(record.payload)["deliveries"]
    ]


def _to_parties(desk: Desk, case_id: int) -> list[Any]:
    return [m for m in desk.outbox(case_id) if m.recipient.startswith("party:")]


def _waiting_metric(desk: Desk, channels: frozenset[str]) -> dict[str, float]:
    collector = StoreCollector(desk.store, desk.clock, channels)
    (family,) = [m for m in collector.collect() if m.name == "tatulasu_outbox_waiting"]
    return {s.labels["channel"]: s.value for s in family.samples}


def _rounds(dispatcher: Dispatcher, desk: Desk, n: int = ROUNDS) -> None:
    for _ in range(n):
        dispatcher.run_once()
        desk.advance(hours=2)  # past any backoff or recheck


def test_retries_leave_one_history_entry_per_notice_when_its_fate_is_known(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id  # the claimant by e-mail, the respondent by SMS
    smtp[1].mode = "temporary"
    dispatcher = _dispatcher(desk, _sinks(smtp, sms))

    dispatcher.run_once()  # the SMS is delivered, the e-mail refused for now
    assert [r["channel"] for r in _receipts(desk, case_id)] == ["sms"]
    recorded = len(desk.history(case_id))
    for _ in range(POLICY.max_attempts - 2):  # more refusals: nothing more recorded
        desk.advance(hours=2)
        assert dispatcher.run_once().retried == 1
    assert len(desk.history(case_id)) == recorded
    smtp[1].mode = "accept"
    desk.advance(hours=2)
    assert dispatcher.run_once().sent == 1  # the last try succeeds
    _rounds(dispatcher, desk)

    receipts = _receipts(desk, case_id)
    keys = Counter(r["key"] for r in receipts)
    assert sorted(keys) == sorted(m.key for m in _to_parties(desk, case_id))
    assert set(keys.values()) == {1}
    assert {r["status"] for r in receipts} == {"delivered"}
    assert smtp[1].attempts.total() == POLICY.max_attempts and smtp[1].count() == 1


def test_a_notice_failed_for_good_is_recorded_once_after_the_last_try(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.refer().case_id
    smtp[1].mode = "temporary"
    _rounds(_dispatcher(desk, _sinks(smtp, sms)), desk)

    receipts = _receipts(desk, case_id)
    assert Counter(r["key"] for r in receipts) == Counter(m.key for m in _to_parties(desk, case_id))
    (failed,) = [r for r in receipts if r["status"] == "failed"]
    assert failed["channel"] == "email" and "451" in failed["reference"]
    assert smtp[1].attempts.total() == POLICY.max_attempts


def test_without_a_sink_messages_wait_uncounted_and_out_of_the_history(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    _coordinator(desk, email="coord@example.kz")
    case_id = desk.refer().case_id
    history = desk.history(case_id)

    _rounds(_dispatcher(desk, {}), desk)

    assert desk.history(case_id) == history
    assert {(m.status, m.attempts, m.last_error) for m in desk.outbox(case_id)} == {
        ("pending", 0, None)
    }
    assert _waiting_metric(desk, frozenset()) == {"email": 2, "sms": 1}  # coordinator too

    _rounds(_dispatcher(desk, _sinks(smtp, sms)), desk)

    assert {m.status for m in desk.outbox(case_id)} == {"sent"}
    assert smtp[1].count() == 2 and sms[1].count() == 1
    assert smtp[1].duplicates == 0 and sms[1].duplicates == 0
    receipts = _receipts(desk, case_id)
    assert sorted(r["key"] for r in receipts) == sorted(m.key for m in _to_parties(desk, case_id))
    assert [r.event for r in desk.history(case_id)].count("record_delivery") == 1
    assert _waiting_metric(desk, frozenset({"email", "sms"})) == {"email": 0, "sms": 0}


def test_an_official_nobody_can_reach_through_a_configured_sink_waits(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    _coordinator(desk, email="coord@example.kz")  # an e-mail only, and only SMS is set up
    case_id = desk.refer().case_id

    _rounds(_dispatcher(desk, _sinks(sms=sms)), desk)

    to_coordinator = next(m for m in desk.outbox(case_id) if m.recipient.startswith("coord"))
    assert (to_coordinator.status, to_coordinator.attempts) == ("pending", 0)
    assert to_coordinator.last_error is None
    assert _waiting_metric(desk, frozenset({"sms"})) == {"email": 2, "sms": 0}
    assert [r["channel"] for r in _receipts(desk, case_id)] == ["sms"]

    _rounds(_dispatcher(desk, _sinks(smtp, sms)), desk)
    assert {m.status for m in desk.outbox(case_id)} == {"sent"}
    assert smtp[1].count() == 2 and sms[1].count() == 1


def test_the_outbox_list_shows_what_waits_for_a_sink(desk: Desk) -> None:
    case_id = desk.refer().case_id
    env = {"TATULASU_DATABASE_URL": desk.store.url, "TATULASU_SMS_GATEWAY_URL": "http://sms"}

    done = CliRunner().invoke(app, ["outbox", "list", "--json"], env=env)

    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    waiting = {m["channel"]: m["waiting_for_sink"] for m in listed["messages"]}
    assert waiting == {"email": True, "sms": False, "user": False}  # no coordinator on file
    assert listed["waiting_for_sink"] == {"email": 1}
    table = CliRunner().invoke(app, ["outbox", "list", "--case", str(case_id)], env=env)
    assert "waiting for a sink (none configured): email 1" in table.output


def test_a_closed_cases_term_notices_are_voided_and_its_closing_is_still_sent(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.to_state("offer_received")  # the reply term: reminders 3 and 1 days ahead
    desk.advance(days=8)
    assert sweep(desk.engine).fired == 1  # the first reminder, while no sink is configured
    _rounds(_dispatcher(desk, {}), desk, 2)
    reminders = [m for m in desk.outbox(case_id) if m.event == "remind"]
    assert reminders and {m.status for m in reminders} == {"pending"}
    desk.fire(case_id, "withdraw", "coordinator", reason="settled_outside")
    history = desk.history(case_id)
    assert _dispatcher(desk, {}).run_once().voided == len(reminders)  # sink or no sink

    _rounds(_dispatcher(desk, _sinks(smtp, sms)), desk)

    assert {(m.status, m.last_error) for m in desk.outbox(case_id) if m.event == "remind"} == {
        ("void", "the case is closed")
    }
    closing = [m for m in _to_parties(desk, case_id) if m.event == "withdraw"]
    assert len(closing) == 2 and {m.status for m in closing} == {"sent"}
    sent_keys = set(smtp[1].delivered) | set(sms[1].delivered)
    assert not any(m.key in sent_keys for m in reminders)
    added = desk.history(case_id)[len(history) :]
    assert added and {r.event for r in added} == {"record_delivery"}  # one per case and group
    recorded = {r["key"] for a in added for r in json.loads(a.payload)["deliveries"]}
    sent = {m.key for m in _to_parties(desk, case_id) if m.status == "sent"}
    assert recorded == sent, [
        (m.key, m.status, m.event, m.last_error)
        for m in _to_parties(desk, case_id)
        if m.key in recorded ^ sent
    ]
    assert not recorded & {m.key for m in reminders}


def test_a_receipt_does_not_change_a_closed_cases_last_change(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    case_id = desk.to_state("pre_trial")
    desk.fire(case_id, "withdraw", "coordinator", reason="settled_outside")
    desk.advance(days=3)

    _rounds(_dispatcher(desk, _sinks(smtp, sms)), desk)

    assert desk.history(case_id)[-1].event == "record_delivery"
    with desk.store.reading() as conn:
        shown = queries.get_case(conn, case_id)
        assert audit.verify(conn, decider=desk.engine).ok  # the row itself still replays
    assert shown.closed_at is not None and shown.updated_at == shown.closed_at
    assert desk.case(case_id).version == shown.version  # the receipt is in the history
