"""Failed notifications: who sees which, and what an admin's retry does, on both stores.

The messages fail at a small fake sink that refuses (for good, or for now) and later
accepts; the real SMTP server and gateway run in `clock/test_retry_after_failure.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from tasks.dispatch import Dispatcher, Policy
from tasks.errors import PermanentDeliveryError, TemporaryDeliveryError
from tasks.sinks import Outgoing, Receipt
from tests.conftest import Desk
from workflow import audit, failed_notices, users
from workflow.errors import InvalidField, NotFound, NotRetryable
from workflow.schema import outbox
from workflow.store import utc
from workflow.users import User

POLICY = Policy(lease_seconds=60, max_attempts=2, backoff_base_seconds=10)
ADMIN = User("root", "Root Admin", "admin")
SUP_VKO = User("sup-vko", "Supervisor East", "supervisor", region="VKO")
SUP_KAR = User("sup-kar", "Supervisor Karaganda", "supervisor", region="KAR")


@dataclass
class FakeSink:
    """Accepts, or refuses for good or for now, counting what it delivered by key."""

    mode: str = "accept"  # accept | temporary | permanent
    delivered: Counter[str] = field(default_factory=Counter)

    def send(self, message: Outgoing) -> Receipt:
        if self.mode == "permanent":
            raise PermanentDeliveryError(f"550 5.1.1 <{message.address}>: mailbox unavailable")
        if self.mode == "temporary":
            raise TemporaryDeliveryError("451 4.3.0 try again later")
        self.delivered[message.key] += 1
        return Receipt(f"ok {message.key}")

    def close(self) -> None:
        return


def dispatcher(
    desk: Desk, sink: FakeSink, channels: tuple[str, ...] = ("email", "sms")
) -> Dispatcher:
    return Dispatcher(desk.engine, {c: sink for c in channels}, policy=POLICY)


def refer(desk: Desk, **overrides: str) -> int:
    """A party's referral (VKO) whose centre's coordinator has an e-mail: three messages."""
    with desk.store.transaction() as conn:
        if users.by_id(conn, "coord-1") is None:
            coordinator = User(
                "coord-1", "Coordinator", "coordinator", region="VKO",
                centre="Oskemen Tatulasu centre", email="coord@example.kz",
            )  # fmt: skip
            users.create(conn, coordinator, desk.clock.now())
    return desk.refer(**overrides).case_id


def parties_only(page: failed_notices.Page) -> list[failed_notices.FailedNotice]:
    return [n for n in page.items if n.recipient_kind == "party"]


def failed_ids(desk: Desk, case_id: int) -> list[int]:
    return [m.id for m in desk.outbox(case_id) if m.status == "failed"]


def retry(desk: Desk, ids: list[int]) -> list[int]:
    with desk.store.transaction() as conn:
        return failed_notices.retry(conn, ids, ADMIN.id, desk.clock.now())


def listed(desk: Desk, user: User, **kw: int) -> failed_notices.Page:
    with desk.store.reading() as conn:
        return failed_notices.listing(conn, user, **kw)


def receipts(desk: Desk, case_id: int) -> list[list[dict[str, str]]]:
    return [
        json.loads(r.payload)["deliveries"]
        for r in desk.history(case_id)
        if r.event == "record_delivery"
    ]


def test_a_supervisor_sees_his_regions_failures_and_an_admin_sees_all(desk: Desk) -> None:
    vko, kar = refer(desk), desk.court_refer().case_id
    dispatcher(desk, FakeSink("permanent")).run_once()

    assert {n.case_id for n in listed(desk, SUP_VKO).items} == {vko}
    assert {n.case_id for n in listed(desk, SUP_KAR).items} == {kar}
    everything = listed(desk, ADMIN)
    assert {n.case_id for n in everything.items} == {vko, kar}
    assert everything.total == len(failed_ids(desk, vko)) + len(failed_ids(desk, kar))
    assert listed(desk, User("bailiff-9", "B", "bailiff")).total == 0  # not his referrals
    assert {n.case_id for n in listed(desk, ADMIN, case_id=kar).items} == {kar}


def test_parties_are_shown_masked_and_the_sinks_error_is_scrubbed(desk: Desk) -> None:
    case_id = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()

    by_channel = {n.channel: n for n in parties_only(listed(desk, SUP_VKO))}
    email, sms = by_channel["email"], by_channel["sms"]
    assert (email.recipient_kind, email.position, email.recipient) == ("party", "claimant", "A. S.")
    assert email.address == "a******@example.kz" and email.event == "refer"
    assert "aigerim@example.kz" not in email.last_error and "[e-mail]" in email.last_error
    assert (sms.position, sms.recipient, sms.address) == ("respondent", "A. LLP", "+7701*****67")
    assert "+77011234567" not in sms.last_error
    assert {n.attempts for n in (email, sms)} == {1} and email.retried is None
    assert email.failed_at == desk.clock.now() and email.case_id == case_id


def test_the_list_is_paged_newest_failure_first(desk: Desk) -> None:
    first = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()
    desk.advance(hours=1)
    second = refer(desk, actor="aigerim-2")
    dispatcher(desk, FakeSink("permanent")).run_once()

    page = listed(desk, ADMIN, limit=3)
    assert page.total == 6 and [n.case_id for n in page.items] == [second] * 3
    rest = listed(desk, ADMIN, limit=3, offset=3)
    assert [n.case_id for n in rest.items] == [first] * 3
    assert [n.id for n in rest.items] == sorted((n.id for n in rest.items), reverse=True)
    with pytest.raises(InvalidField) as refused:
        listed(desk, ADMIN, limit=0)
    assert refused.value.field == "limit"


def test_a_message_waiting_for_a_sink_has_not_failed_and_is_not_listed(desk: Desk) -> None:
    case_id = refer(desk)  # the respondent is reached by SMS: no sink for it here
    dispatcher(desk, FakeSink("permanent"), channels=("email",)).run_once()
    statuses = {m.channel: m.status for m in desk.outbox(case_id)}
    assert statuses == {"email": "failed", "user": "failed", "sms": "pending"}
    assert sorted(n.channel for n in listed(desk, ADMIN).items) == ["email", "user"]


def test_a_retry_makes_it_due_now_counts_attempts_on_and_records_who(desk: Desk) -> None:
    case_id = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()
    ids = failed_ids(desk, case_id)
    desk.advance(hours=3)

    assert retry(desk, ids) == sorted(ids)

    for row in desk.outbox(case_id):
        due = utc(row.next_attempt_at)
        assert (row.status, row.attempts, due) == ("pending", 1, desk.clock.now())
        retried = failed_notices.last_retry(row.context)
        assert retried == failed_notices.Retry("root", desk.clock.now(), 1)
        assert "550" in row.last_error  # the last error stays until the next attempt
    assert listed(desk, ADMIN).total == 0


@pytest.mark.parametrize("status", ["sent", "pending", "void"])
def test_retrying_a_message_that_has_not_failed_is_refused_and_changes_nothing(
    desk: Desk, status: str
) -> None:
    case_id = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()
    failed, other, *_ = failed_ids(desk, case_id)
    with desk.store.transaction() as conn:
        conn.execute(outbox.update().where(outbox.c.id == other).values(status=status))
    before = desk.snapshot()

    with pytest.raises(NotRetryable) as refused:
        retry(desk, [failed, other])

    assert (refused.value.notice_id, refused.value.current, refused.value.field) == (
        other, status, "id")  # fmt: skip
    assert failed_notices.NOT_FAILED[status] in str(refused.value)
    assert desk.snapshot() == before  # the failed one of the batch was not retried either


def test_an_unknown_id_is_not_found_and_nothing_changes(desk: Desk) -> None:
    case_id = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()
    before = desk.snapshot()
    with pytest.raises(NotFound) as missing:
        retry(desk, [*failed_ids(desk, case_id), 999_999])
    assert missing.value.ident == 999_999
    assert desk.snapshot() == before
    with pytest.raises(InvalidField):
        retry(desk, [])


def test_a_second_retry_of_the_same_message_is_refused(desk: Desk) -> None:
    case_id = refer(desk)
    dispatcher(desk, FakeSink("permanent")).run_once()
    ids = failed_ids(desk, case_id)
    retry(desk, ids)
    with pytest.raises(NotRetryable) as refused:
        retry(desk, ids[:1])
    assert refused.value.current == "pending"


def test_all_failed_messages_of_a_case_are_retried_at_once(desk: Desk) -> None:
    case_id, other = refer(desk), desk.court_refer().case_id
    dispatcher(desk, FakeSink("permanent")).run_once()
    with desk.store.transaction() as conn:
        done = failed_notices.retry_case(conn, case_id, ADMIN.id, desk.clock.now())
    assert len(done) == 3 and not failed_ids(desk, case_id)
    assert failed_ids(desk, other)  # another case's failures stay
    with desk.store.transaction() as conn, pytest.raises(NotFound):
        failed_notices.retry_case(conn, case_id, ADMIN.id, desk.clock.now())


def test_a_retried_message_gets_a_fresh_round_of_attempts(desk: Desk) -> None:
    case_id = refer(desk)
    send = dispatcher(desk, FakeSink("temporary"), channels=("email",))

    def claimants() -> tuple[str, int]:
        (row,) = [m for m in desk.outbox(case_id) if m.recipient == "party:1"]
        return row.status, row.attempts

    for _ in range(POLICY.max_attempts):
        send.run_once()
        desk.advance(hours=2)
    assert claimants() == ("failed", 2)

    retry(desk, failed_ids(desk, case_id))
    send.run_once()  # the third attempt overall, the first since the retry: tried again later
    assert claimants() == ("pending", 3)
    desk.advance(hours=2)
    send.run_once()
    assert claimants() == ("failed", 4)


def test_a_retried_notice_delivered_is_recorded_once_more_naming_the_retry(desk: Desk) -> None:
    case_id = refer(desk)
    sink = FakeSink("permanent")
    send = dispatcher(desk, sink)
    send.run_once()
    assert [[r["status"] for r in batch] for batch in receipts(desk, case_id)] == [
        ["failed", "failed"]
    ]
    desk.advance(hours=1)
    ids = failed_ids(desk, case_id)
    retry(desk, ids)
    retried_at = desk.clock.now()
    sink.mode = "accept"
    desk.advance(minutes=1)

    result = send.run_once()
    again = send.run_once()

    assert (result.sent, again.handled) == (3, 0)
    assert set(sink.delivered.values()) == {1}  # one copy of each
    first, second = receipts(desk, case_id)
    assert all("retried_by" not in r for r in first)
    assert [(r["status"], r["retried_by"]) for r in second] == [("delivered", "root")] * 2
    assert {r["retried_at"] for r in second} == {audit.format_instant(retried_at)}
    assert {r["key"] for r in first} == {r["key"] for r in second}
    with desk.store.reading() as conn:
        assert audit.verify(conn, case_ids=[case_id]).ok  # the replay accepts the receipts
        sent = conn.execute(sa.select(outbox.c.status).where(outbox.c.case_id == case_id))
        assert set(sent.scalars()) == {"sent"}
