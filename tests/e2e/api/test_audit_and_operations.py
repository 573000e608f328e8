"""Audit verify and export, reports as CSV, health, metrics and how tokens are kept."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tests.e2e.api.conftest import Api, Cases
from tests.tamper import drop_append_only_guard
from workflow import audit, audit_keys
from workflow.schema import audit_events, users


def test_verify_names_the_first_altered_record(api: Api, cases: Cases) -> None:
    api.fire("coord-vko", cases.party, "accept")
    with api.wired.store.transaction() as conn:
        drop_append_only_guard(conn)  # as an attacker with DDL rights would
        conn.execute(
            audit_events.update()
            .where(audit_events.c.case_id == cases.party, audit_events.c.seq == 2)
            .values(actor="someone-else")
        )
    report = api.get("sup-vko", "/audit/verify").json()
    assert not report["ok"]
    first = report["first_break"]
    assert (first["case_id"], first["seq"]) == (cases.party, 2)
    assert "altered" in first["reason"]
    assert api.get("sup-kar", "/audit/verify").json()["ok"]  # not his region's case


def test_verify_names_a_party_edited_beside_the_engine_masked(api: Api, cases: Cases) -> None:
    with api.wired.store.transaction() as conn:
        conn.execute(
            sa.text("UPDATE parties SET name = 'Mallory Forger' WHERE case_id = :c AND role = :r"),
            {"c": cases.party, "r": "claimant"},
        )
    report = api.get("sup-vko", "/audit/verify").json()
    assert not report["ok"]
    (found,) = report["breaks"]
    assert (found["case_id"], found["seq"], found["column"]) == (
        cases.party,
        None,
        "parties[0].name",
    )
    assert (found["stored"], found["replayed"]) == ("'M. F.'", "'A. S.'")
    assert "Mallory" not in json.dumps(report) and "Serikova" not in json.dumps(report)
    assert api.get("sup-kar", "/audit/verify").json()["ok"]  # not his region's case


@pytest.fixture
def keyed(api: Api, tmp_path: Path) -> Iterator[Api]:
    """The API of a server given the heads' key pair (TATULASU_AUDIT_*_KEY_FILE)."""
    private, public = tmp_path / "heads.pem", tmp_path / "heads.pub.pem"
    audit_keys.generate(private, public)
    settings = api.wired.settings.model_copy(
        update={"audit_signing_key_file": private, "audit_public_key_file": public}
    )
    wired = type(api.wired)(settings, api.wired.store, api.wired.calendar, api.wired.engine)
    with TestClient(create_app(wired)) as client:
        yield Api(client, wired, api.clock, api.tokens)


def _signed_heads(keyed: Api) -> dict[str, Any]:
    heads = json.loads(keyed.get("root", "/audit/export").text.splitlines()[-1])
    assert heads.pop("type") == "heads"
    return dict(heads)


def test_a_jsonl_export_ends_with_heads_that_verify_later(keyed: Api, cases: Cases) -> None:
    api = keyed
    api.fire("coord-vko", cases.party, "accept")
    api.fire("coord-vko", cases.party, "record_consultation")
    lines = [json.loads(x) for x in api.get("root", "/audit/export").text.splitlines()]
    assert lines[0]["type"] == "export" and lines[0]["masked"] is True
    records = [x for x in lines if x["type"] == "record"]
    assert len(records) == 5
    heads = lines[-1]
    assert heads["type"] == "heads"
    assert heads["cases"][str(cases.party)]["version"] == 3
    assert heads["signature"]["algorithm"] == "ed25519"
    body = {k: v for k, v in heads.items() if k != "type"}
    assert api.post("root", "/audit/verify", json=body).json()["ok"]

    # A chain cut short after the export, the case row put back as the shorter history
    # leaves it (consistent on its own), is caught by the exported heads.
    with api.wired.store.transaction() as conn:
        drop_append_only_guard(conn)
        conn.execute(audit_events.delete().where(
            audit_events.c.case_id == cases.party, audit_events.c.seq == 3))  # fmt: skip
        second = sa.select(audit_events).where(
            audit_events.c.case_id == cases.party, audit_events.c.seq == 2)  # fmt: skip
        kept = conn.execute(second).one()
        conn.execute(sa.text("UPDATE cases SET version = 2, audit_head = :h, consultations = 0,"
                             " updated_at = :at WHERE id = :i"),
                     {"h": kept.hash, "at": kept.at, "i": cases.party})  # fmt: skip
    assert api.get("root", "/audit/verify").json()["ok"]  # consistent on its own
    later = api.post("root", "/audit/verify", json=body).json()
    assert not later["ok"] and later["first_break"]["case_id"] == cases.party
    assert api.post("root", "/audit/verify", json={"cases": {}}).status_code == 422


def _refusal(answer: Any) -> str:
    assert answer.status_code == 422, answer.text
    return str(answer.json()["detail"])


def test_verify_refuses_edited_foreign_and_unsigned_heads(
    keyed: Api, api: Api, cases: Cases
) -> None:
    body = _signed_heads(keyed)
    assert keyed.post("sup-vko", "/audit/verify", json=body).json()["ok"]
    edited = json.loads(json.dumps(body))
    edited["cases"][str(cases.party)]["version"] = 7
    assert "signature does not match" in _refusal(
        keyed.post("sup-vko", "/audit/verify", json=edited)
    )
    # A public key in the request is not used: it is only more content under the signature.
    mallory = Ed25519PrivateKey.generate()
    forged = audit.sign_heads(body["cases"], mallory, body["exported_at"])
    assert "the file names key" in _refusal(keyed.post("root", "/audit/verify", json=forged))
    with_key = {**forged, "public_key": "-----BEGIN PUBLIC KEY-----..."}
    assert "signature does not match" in _refusal(
        keyed.post("root", "/audit/verify", json=with_key)
    )
    # A server with no signing key exports unsigned heads; they are not accepted.
    unsigned = json.loads(api.get("root", "/audit/export").text.splitlines()[-1])
    assert "unsigned" in _refusal(keyed.post("root", "/audit/verify", json=unsigned))
    # A server with no public key cannot check signed ones.
    assert "TATULASU_AUDIT_PUBLIC_KEY_FILE" in _refusal(
        api.post("root", "/audit/verify", json=body)
    )
    assert keyed.post("party-aigerim", "/audit/verify", json=body).status_code == 403


def test_an_unmasked_export_holds_personal_data_and_a_masked_one_does_not(
    api: Api, cases: Cases
) -> None:
    masked = api.get("sup-vko", "/audit/export").text
    unmasked = api.get("sup-vko", "/audit/export?unmasked=true&reason=audit").text
    assert "061211600012" not in masked and "0612******12" in masked
    assert "061211600012" in unmasked
    assert cases.court not in {json.loads(x).get("case_id") for x in masked.splitlines()}


def test_a_csv_export_has_records_heads_and_a_digest(api: Api, cases: Cases) -> None:
    rows = list(csv.DictReader(io.StringIO(api.get("root", "/audit/export?format=csv").text)))
    kinds = [r["type"] for r in rows]
    assert kinds == ["record"] * 3 + ["head"] * 3 + ["digest"]
    heads = {int(r["case_id"]): r["hash"] for r in rows if r["type"] == "head"}
    records = {int(r["case_id"]): r["hash"] for r in rows if r["type"] == "record"}
    assert heads == records
    assert json.loads(rows[0]["payload"])["origin"] == "centre"


def test_the_summary_as_csv_has_one_figure_a_row(api: Api, cases: Cases) -> None:
    answer = api.get("sup-vko", "/reports/summary?format=csv&since=2024-01-01&until=2025-01-01")
    assert answer.headers["content-type"].startswith("text/csv")
    figures = {
        (r["metric"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(answer.text))
    }
    assert figures[("cases", "")] == "2"
    assert figures[("by_origin", "bailiff")] == "1"
    assert figures[("scope", "region")] == "VKO"
    assert (
        api.get("sup-vko", "/reports/summary?since=2025-01-01&until=2024-01-01").status_code == 422
    )
    assert api.get("sup-vko", "/reports/summary?since=0001-01-01").status_code == 422


def test_metrics_count_events_cases_and_the_outbox(api: Api, cases: Cases) -> None:
    api.get("root", f"/cases/{cases.party}")
    text = api.client.get("/metrics").text
    assert 'tatulasu_events_total{event="refer"} 1.0' in text
    assert 'tatulasu_cases{state="referred"} 1.0' in text
    assert 'tatulasu_outbox_messages{status="pending"}' in text
    assert 'tatulasu_outbox_waiting{channel="email"}' in text  # no SMTP server configured
    assert 'tatulasu_outbox_waiting{channel="email"} 0.0' not in text
    assert "tatulasu_terms_missed 0.0" in text
    assert "tatulasu_timers_overdue 0.0" in text  # the referral's term is days away
    assert 'route="/cases/{case_id}"' in text


def test_health_names_the_failing_broker(api: Api) -> None:
    assert api.client.get("/healthz").json()["checks"]["database"]["ok"]
    settings = api.wired.settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    wired = type(api.wired)(settings, api.wired.store, api.wired.calendar, api.wired.engine)
    from fastapi.testclient import TestClient

    with TestClient(create_app(wired)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] and not body["checks"]["broker"]["ok"]


def test_only_the_hash_of_a_token_is_stored(api: Api) -> None:
    with api.wired.store.reading() as conn:
        stored = conn.execute(sa.select(users.c.token_hash).where(users.c.id == "root")).scalar()
    token = api.tokens["root"]
    assert token.startswith("tat_") and token not in str(stored)
    assert stored == hashlib.sha256(token.encode()).hexdigest()
