"""End to end: a notice refused by a real SMTP server, sent again by an admin over HTTP,
delivered once by the dispatcher, and its history honest about both fates."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tasks.dispatch import Dispatcher, Policy
from tasks.sinks import SmsGatewaySink, SmtpSink
from tatulasu.api import create_app
from tests.conftest import Desk
from tests.e2e.api.conftest import add_people, wire
from tests.integration.clock.sinks import Deliveries
from workflow import audit
from workflow.users import User

POLICY = Policy(lease_seconds=60, max_attempts=3, backoff_base_seconds=10)


def test_a_refused_notice_retried_by_an_admin_is_delivered_once_and_recorded_honestly(
    desk: Desk, smtp: tuple[int, Deliveries], sms: tuple[str, Deliveries]
) -> None:
    wired = wire(desk.store, desk.clock, desk.engine.calendar)
    tokens = add_people(wired, (User("root", "Root Admin", "admin"),))
    case_id = desk.refer().case_id  # the claimant by e-mail, the respondent by SMS
    sinks = {
        "email": SmtpSink("127.0.0.1", smtp[0], "tatulasu@example.kz"),
        "sms": SmsGatewaySink(sms[0], token="secret"),
    }
    dispatcher = Dispatcher(desk.engine, sinks, policy=POLICY)
    smtp[1].mode = "permanent"  # 550: the mailbox is unavailable
    assert dispatcher.run_once().failed >= 1
    (claimant,) = [m for m in desk.outbox(case_id) if m.recipient == "party:1"]
    assert claimant.status == "failed" and "550" in claimant.last_error

    with TestClient(create_app(wired)) as client:
        admin = {"Authorization": f"Bearer {tokens['root']}"}
        listed = client.get("/notifications?status=failed", headers=admin).json()
        assert claimant.id in {n["id"] for n in listed["items"]}
        desk.advance(hours=1)
        retried = client.post(f"/notifications/{claimant.id}/retry", headers=admin)
        assert retried.status_code == 200, retried.text
        retried_at = desk.clock.now()
        smtp[1].mode = "accept"  # the mailbox works again
        desk.advance(minutes=1)
        result = dispatcher.run_once()
        assert dispatcher.run_once().handled == 0
        assert client.post(f"/notifications/{claimant.id}/retry", headers=admin).status_code == 409

    assert result.sent == 1 and result.failed == 0
    key = claimant.key
    assert smtp[1].attempts[key] == 2  # refused once, accepted once
    assert list(smtp[1].delivered) == [key]  # exactly one copy reached the mailbox
    (row,) = [m for m in desk.outbox(case_id) if m.id == claimant.id]
    assert (row.status, row.attempts) == ("sent", 2)

    records = [r for r in desk.history(case_id) if r.event == "record_delivery"]
    fates = [
        (r["status"], r.get("retried_by"), r.get("retried_at"))
        for record in records
        for r in json.loads(record.payload)["deliveries"]
        if r["key"] == key
    ]
    assert fates == [
        ("failed", None, None),
        ("delivered", "root", audit.format_instant(retried_at)),
    ]  # one record for each fate, none for an attempt
    with desk.store.reading() as conn:
        assert audit.verify(conn, case_ids=[case_id]).ok
