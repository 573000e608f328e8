"""The SMS gateway's delivery reports: signed, recorded once, in a party's case history.

Through the HTTP API on both databases. A report is taken only with a valid HMAC of its
timestamp and body made with the shared secret and a timestamp within five minutes; a
report sent again changes nothing; its id reused with another content, a message that
does not exist, or a wrong field is refused and writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tatulasu.api.delivery_reports import SIGNATURE, TIMESTAMP, signature
from tests.e2e.api.conftest import Api, add_people, party_referral, wire
from workflow import audit
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.schema import audit_events, delivery_reports, outbox
from workflow.schema import cases as cases_table
from workflow.store import Store

SECRET = "a secret the gateway and the centre share"


@pytest.fixture
def gateway_api(store: Store, clock: SimulatedClock, calendar: BusinessCalendar) -> Iterator[Api]:
    wired = wire(store, clock, calendar)
    settings = wired.settings.model_copy(update={"sms_report_secret": SECRET})
    wired = dataclasses.replace(wired, settings=settings)
    tokens = add_people(wired)
    with TestClient(create_app(wired)) as client:
        yield Api(client, wired, clock, tokens)


def message(api: Api, case_id: int, recipient: str, channel: str = "sms") -> Any:
    """The case's first message to `recipient` (a LIKE pattern) by `channel`."""
    with api.wired.store.reading() as conn:
        return conn.execute(
            sa.select(outbox).where(
                outbox.c.case_id == case_id, outbox.c.recipient.like(recipient),
                outbox.c.channel == channel,
            ).order_by(outbox.c.id).limit(1)
        ).one()  # fmt: skip


def report(key: str, ident: str = "dr-1", status: str = "delivered", **extra: Any) -> bytes:
    body = {"id": ident, "key": key, "status": status, "at": "2024-04-22T08:30:00+05:00"}
    return json.dumps({**body, **extra}).encode()


def send(api: Api, body: bytes, secret: str = SECRET, moved: float = 0) -> Any:
    stamp = str(int(api.clock.now().timestamp() + moved))
    headers = {TIMESTAMP: stamp, SIGNATURE: signature(secret, stamp, body)}
    return api.client.post("/delivery-reports", content=body, headers=headers)


def written(api: Api) -> tuple[int, int]:
    """History records and delivery reports stored: what a refused report must not change."""
    with api.wired.store.reading() as conn:
        count = sa.select(sa.func.count())
        return (
            conn.execute(count.select_from(audit_events)).scalar_one(),
            conn.execute(count.select_from(delivery_reports)).scalar_one(),
        )


def test_a_signed_report_of_a_partys_sms_is_recorded_on_the_message_and_in_the_history(
    gateway_api: Api,
) -> None:
    api = gateway_api
    case_id = api.refer("coord-vko", party_referral())
    sms = message(api, case_id, "party:%")
    assert sms.channel == "sms"
    answer = send(api, report(sms.key))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": "dr-1", "message_id": sms.id, "case_id": case_id, "duplicate": False,
        "in_history": True,
    }  # fmt: skip
    with api.wired.store.reading() as conn:
        last = conn.execute(
            sa.select(audit_events).where(audit_events.c.case_id == case_id)
            .order_by(audit_events.c.seq.desc()).limit(1)
        ).one()  # fmt: skip
        stored = conn.execute(sa.select(delivery_reports)).one()
        assert audit.verify(conn, case_ids=[case_id]).ok  # the replay accepts the record
    assert last.event == "record_delivery" and (last.actor, last.role) == ("system", "system")
    assert json.loads(last.payload)["deliveries"] == [
        {"key": sms.key, "channel": "sms", "status": "reported_delivered",
         "reference": "report dr-1 of 2024-04-22T03:30:00.000000Z"},
    ]  # fmt: skip
    assert (stored.outbox_id, stored.status) == (sms.id, "delivered")


def test_a_report_sent_again_changes_nothing(gateway_api: Api) -> None:
    api = gateway_api
    sms = message(api, api.refer("coord-vko", party_referral()), "party:%")
    assert send(api, report(sms.key)).status_code == 200
    before = written(api)
    again = send(api, report(sms.key), moved=60)  # the same report, a minute later
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert written(api) == before


def test_a_report_id_reused_with_another_content_is_refused(gateway_api: Api) -> None:
    api = gateway_api
    sms = message(api, api.refer("coord-vko", party_referral()), "party:%")
    assert send(api, report(sms.key)).status_code == 200
    before = written(api)
    other = send(api, report(sms.key, status="undeliverable"))
    assert other.status_code == 409, other.text
    assert other.json()["field"] == "id" and "another content" in other.json()["detail"]
    assert written(api) == before


def test_a_report_of_an_unknown_message_is_not_found_and_writes_nothing(gateway_api: Api) -> None:
    api = gateway_api
    api.refer("coord-vko", party_referral())
    before = written(api)
    answer = send(api, report("no-such-key"))
    assert answer.status_code == 404, answer.text
    assert written(api) == before


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"secret": "another secret"}, "does not match the body"),
        ({"moved": -301}, "more than 300 s"),
        ({"moved": 301}, "more than 300 s"),
    ],
)
def test_a_report_not_signed_with_the_secret_or_out_of_its_window_is_refused(
    gateway_api: Api, change: dict[str, Any], detail: str
) -> None:
    api = gateway_api
    sms = message(api, api.refer("coord-vko", party_referral()), "party:%")
    before = written(api)
    answer = send(api, report(sms.key), **change)
    assert answer.status_code == 401, answer.text
    assert detail in answer.json()["detail"]
    assert written(api) == before


def test_a_report_without_its_headers_or_with_a_tampered_body_is_refused(gateway_api: Api) -> None:
    api = gateway_api
    sms = message(api, api.refer("coord-vko", party_referral()), "party:%")
    before = written(api)
    bare = api.client.post("/delivery-reports", content=report(sms.key))
    assert bare.status_code == 401 and SIGNATURE in bare.json()["detail"]
    stamp = str(int(api.clock.now().timestamp()))
    signed = {TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, report(sms.key))}
    tampered = report(sms.key, status="undeliverable")
    answer = api.client.post("/delivery-reports", content=tampered, headers=signed)
    assert answer.status_code == 401
    assert written(api) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"id": "x", "key": "k", "status": "read", "at": "2024-04-01T10:00:00Z"}),
         "status"),
        (json.dumps({"id": "x", "key": "k", "status": "delivered", "at": "2024-04-01T10:00:00"}),
         "at"),
        (json.dumps({"id": "x", "key": "k", "status": "delivered", "at": "2999-01-01T00:00:00Z"}),
         "at"),
        (json.dumps({"id": "", "key": "k", "status": "delivered", "at": "2024-04-01T10:00:00Z"}),
         "id"),
        (json.dumps({"id": "x", "key": "k", "status": "delivered", "at": "2024-04-01T10:00:00Z",
                     "cost": 3}), "cost"),
    ],
)  # fmt: skip
def test_a_signed_report_with_a_wrong_field_is_refused_naming_it(
    gateway_api: Api, body: bytes | str, field: str
) -> None:
    api = gateway_api
    before = written(api)
    data = body.encode() if isinstance(body, str) else body
    answer = send(api, data)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert written(api) == before


def test_a_report_of_an_officials_message_stays_off_the_case_history(gateway_api: Api) -> None:
    api = gateway_api
    case_id = api.refer("coord-vko", party_referral())
    official = message(api, case_id, "coordinator:%", channel="user")
    history, reports = written(api)
    answer = send(api, report(official.key))
    assert answer.status_code == 200 and answer.json()["in_history"] is False
    assert written(api) == (history, reports + 1)


def test_without_a_secret_configured_there_are_no_delivery_reports(api: Api) -> None:
    body = report("any")
    stamp = str(int(api.clock.now().timestamp()))
    headers = {TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, body)}
    answer = api.client.post("/delivery-reports", content=body, headers=headers)
    assert answer.status_code == 404


def test_the_clock_moved_on_makes_an_old_signed_request_useless(gateway_api: Api) -> None:
    api = gateway_api
    sms = message(api, api.refer("coord-vko", party_referral()), "party:%")
    stamp = str(int(api.clock.now().timestamp()))
    body = report(sms.key, ident="dr-late")
    headers = {TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, body)}
    api.clock.advance(timedelta(minutes=6))  # a captured request, replayed later
    answer = api.client.post("/delivery-reports", content=body, headers=headers)
    assert answer.status_code == 401


def _offer_sent(api: Api) -> int:
    """A party's case whose centre sent the offer to mediate (lifecycle version 2)."""
    case_id = api.refer("coord-vko", party_referral())
    for event, payload in (
        ("accept", {}),
        ("assign_mediator", {"mediator": "med-vko"}),
        ("send_offer", {"offer_sent_on": "2024-04-22"}),
    ):
        answer = api.fire("coord-vko", case_id, event, **payload)
        assert answer.status_code == 200, answer.text
    return case_id


def _case(api: Api, case_id: int) -> Any:
    with api.wired.store.reading() as conn:
        return conn.execute(sa.select(cases_table).where(cases_table.c.id == case_id)).one()


def test_a_report_that_the_offer_reached_the_party_starts_the_reply_term(gateway_api: Api) -> None:
    api = gateway_api
    case_id = _offer_sent(api)
    assert _case(api, case_id).state == "offer_sent"
    with api.wired.store.reading() as conn:
        offer = conn.execute(
            sa.select(outbox).where(
                outbox.c.case_id == case_id, outbox.c.event == "send_offer",
                outbox.c.recipient.like("party:%"), outbox.c.channel == "sms",
            ).limit(1)
        ).one()  # fmt: skip
    assert send(api, report(offer.key, "dr-offer")).status_code == 200
    row = _case(api, case_id)
    cal = api.wired.calendar
    # Received on 22 April 2024 (local): ten calendar days, to Thursday 2 May; 1-3 May are
    # working or not as the calendar says, and a last day off moves to a working day.
    assert (row.state, row.term_name) == ("offer_received", "reply_to_offer")
    last = cal.local_date(row.term_due_at.replace(tzinfo=UTC) - timedelta(microseconds=1))
    assert last >= cal.add_days(date(2024, 4, 22), 10, "calendar") and cal.is_working_day(last)
    history = [r.event for r in _records(api, case_id)]
    assert history[-2:] == ["record_delivery", "receive_offer"]
    with api.wired.store.reading() as conn:
        assert audit.verify(conn, case_ids=[case_id]).ok


def test_an_undeliverable_offer_or_another_notice_starts_no_term(gateway_api: Api) -> None:
    api = gateway_api
    case_id = _offer_sent(api)
    with api.wired.store.reading() as conn:
        rows = conn.execute(
            sa.select(outbox).where(
                outbox.c.case_id == case_id, outbox.c.recipient.like("party:%"),
                outbox.c.channel == "sms",
            ).order_by(outbox.c.id)
        ).all()  # fmt: skip
    earlier = next(r for r in rows if r.event != "send_offer")  # the referral's notice
    offer = next(r for r in rows if r.event == "send_offer")
    assert send(api, report(earlier.key, "dr-old")).status_code == 200
    assert send(api, report(offer.key, "dr-lost", status="undeliverable")).status_code == 200
    assert _case(api, case_id).state == "offer_sent"  # the fallback term still runs


def _records(api: Api, case_id: int) -> list[Any]:
    with api.wired.store.reading() as conn:
        return list(
            conn.execute(
                sa.select(audit_events)
                .where(audit_events.c.case_id == case_id)
                .order_by(audit_events.c.seq)
            )
        )
