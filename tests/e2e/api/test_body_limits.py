"""Limits before work: the token, then the body's size, settled before the body is read.

A generator body records how much of it the server pulled: a refusal that comes before
the body is read leaves it untouched. The chunked cases are also driven through the ASGI
interface directly, chunk by chunk, to see that the server stops reading at the limit
(the test client would hand the whole body over in one piece).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tatulasu.settings import Settings
from tests.e2e.api.conftest import Api, add_people, party_referral, wire
from tests.e2e.api.test_csv_import import good_file
from tests.e2e.web.forms import PASSWORD, sign_in
from workflow import passwords
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.store import Store

MB = 1024 * 1024
CHUNK = 64 * 1024
JSON = {"Content-Type": "application/json"}
MULTIPART = "multipart/form-data; boundary=x"


class Body:
    """A request body of `total` bytes of spaces, counting what the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.pulled < self.total:
            chunk = b" " * min(CHUNK, self.total - self.pulled)
            self.pulled += len(chunk)
            yield chunk


def declared(body: Body, token: str | None, **headers: str) -> dict[str, str]:
    given = {**JSON, "Content-Length": str(body.total), **headers}
    if token is not None:
        given["Authorization"] = f"Bearer {token}"
    return given


def assert_problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = answer.json()
    assert (doc["type"], doc["status"]) == (f"urn:tatulasu:problem:{slug}", status)
    return doc


@pytest.mark.parametrize("token", [None, "tat_bogus"], ids=["no token", "unknown token"])
def test_a_200_mb_body_without_a_known_token_is_refused_with_401_before_it_is_read(
    api: Api, token: str | None
) -> None:
    body = Body(200 * MB)
    answer = api.client.post("/cases", content=iter(body), headers=declared(body, token))
    assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert body.pulled == 0


def test_a_csv_upload_with_an_unknown_token_is_refused_with_401_before_it_is_read(
    api: Api,
) -> None:
    body = Body(30 * MB)
    headers = declared(body, "tat_bogus", **{"Content-Type": MULTIPART})
    answer = api.client.post("/referrals/import", content=iter(body), headers=headers)
    assert_problem(answer, 401, "unauthenticated")
    assert body.pulled == 0


def test_a_small_body_with_an_unknown_token_is_still_refused_with_401(api: Api) -> None:
    answer = api.client.post(
        "/cases", json=party_referral(), headers={"Authorization": "Bearer tat_bogus"}
    )
    assert_problem(answer, 401, "unauthenticated")
    assert api.get("root", "/cases").json()["total"] == 0


def test_an_oversize_json_body_is_refused_with_413_before_it_is_read(api: Api) -> None:
    body = Body(MB + 1)
    headers = declared(body, api.tokens["coord-vko"])
    answer = api.client.post("/cases", content=iter(body), headers=headers)
    doc = assert_problem(answer, 413, "body-too-large")
    assert doc["limit"] == MB
    assert "1 MB" in doc["detail"] and "TATULASU_MAX_JSON_BODY_BYTES" in doc["detail"]
    assert answer.headers["connection"] == "close"
    assert body.pulled == 0


def test_an_oversize_csv_upload_is_refused_with_413_before_it_is_read(api: Api) -> None:
    body = Body(50 * MB + 1)
    headers = declared(body, api.tokens["bailiff-vko"], **{"Content-Type": MULTIPART})
    answer = api.client.post("/referrals/import", content=iter(body), headers=headers)
    doc = assert_problem(answer, 413, "body-too-large")
    assert doc["limit"] == 50 * MB and "TATULASU_MAX_CSV_BODY_BYTES" in doc["detail"]
    assert body.pulled == 0


def test_a_body_within_its_limit_is_read_as_before(api: Api) -> None:
    big_but_allowed = party_referral(subject="x" * 100) | {"padding": " " * (MB // 2)}
    answer = api.post("coord-vko", "/cases", content=json.dumps(big_but_allowed), headers=JSON)
    assert answer.status_code == 201, answer.text


def test_a_csv_file_larger_than_a_json_body_may_still_be_uploaded(api: Api) -> None:
    text = good_file(2) + (" " * 1023 + "\n") * 2 * 1024  # 2 MB of blank lines, skipped
    answer = api.post(
        "bailiff-vko",
        "/referrals/import?background=false",
        files={"file": ("r.csv", text.encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 2


# ------------------------------------------------------------------ chunked, through ASGI


def asgi_post(
    app: Any,
    path: str,
    token: str | None,
    chunks: list[bytes],
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any], int]:
    """POST `chunks` with `Transfer-Encoding: chunked`; the status, the answer, bytes pulled."""
    headers = [(b"content-type", content_type.encode()), (b"transfer-encoding", b"chunked")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    pending = list(chunks)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if not pending:
            await asyncio.sleep(3600)  # the body is over: wait for a disconnect
        chunk = pending.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def test_an_oversize_chunked_json_body_is_refused_with_413_once_the_limit_is_passed(
    api: Api,
) -> None:
    chunks = [b" " * CHUNK] * (4 * MB // CHUNK)  # 4 MB, in 64 KB chunks, no Content-Length
    status, doc, pulled = asgi_post(api.client.app, "/cases", api.tokens["coord-vko"], chunks)
    assert (status, doc["type"]) == (413, "urn:tatulasu:problem:body-too-large")
    assert MB < pulled <= MB + CHUNK  # reading stopped at the chunk that passed the limit
    assert api.get("root", "/cases").json()["total"] == 0


def test_an_oversize_chunked_csv_upload_is_refused_with_413_once_its_limit_is_passed(
    store: Store, clock: SimulatedClock, calendar: BusinessCalendar
) -> None:
    """With the limits set small (the defaults are checked above), through the settings."""
    small = Settings(database_url=store.url, max_json_body_bytes=1000, max_csv_body_bytes=CHUNK)
    wired = dataclasses.replace(wire(store, clock, calendar), settings=small)
    token = add_people(wired)["bailiff-vko"]
    app = create_app(wired)
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'
    chunks = [head, *[b" " * 1023 + b"\n"] * 1024]  # a 1 MB file part, 1 KB a chunk
    status, doc, pulled = asgi_post(app, "/referrals/import", token, chunks, MULTIPART)
    assert (status, doc["limit"]) == (413, CHUNK)
    assert "64 KB" in doc["detail"] and "TATULASU_MAX_CSV_BODY_BYTES" in doc["detail"]
    assert CHUNK < pulled <= CHUNK + 1024
    json_status, json_doc, _ = asgi_post(app, "/cases", token, [b" " * 600] * 2)
    assert (json_status, json_doc["limit"]) == (413, 1000)
    assert "1000 bytes" in json_doc["detail"]
    with TestClient(app) as client:  # a CSV file larger than a JSON body is still read
        text = good_file(2) + (" " * 1023 + "\n") * 8
        answer = client.post(
            "/referrals/import", headers={"Authorization": f"Bearer {token}"},
            files={"file": ("r.csv", text.encode(), "text/csv")},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text


def test_a_chunked_body_with_an_unknown_token_is_refused_with_401_unread(api: Api) -> None:
    status, doc, pulled = asgi_post(api.client.app, "/cases", "tat_bogus", [b" " * MB] * 200)
    assert (status, doc["type"], pulled) == (401, "urn:tatulasu:problem:unauthenticated", 0)


def test_a_page_form_gets_the_json_sized_limit(api: Api) -> None:
    body = Body(MB + 1)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(MB + 1)}
    answer = api.client.post("/web/login", content=iter(body), headers=headers)
    assert_problem(answer, 413, "body-too-large")
    assert body.pulled == 0
    with api.wired.store.transaction() as conn:
        passwords.set_password(conn, "sup-vko", PASSWORD)
    assert sign_in(api.client, "sup-vko", PASSWORD).status_code == 303


# ------------------------------------------------------------------ /metrics


def test_metrics_are_open_when_no_metrics_token_is_set(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "Basic c2NyYXBlcg==", "Bearer "], ids=repr
)
def test_metrics_need_the_metrics_token_when_one_is_set(
    api: Api, authorization: str | None
) -> None:
    settings = api.wired.settings.model_copy(update={"metrics_token": "s3cret-scrape"})
    client = TestClient(create_app(dataclasses.replace(api.wired, settings=settings)))
    headers = {"Authorization": authorization} if authorization else {}
    assert_problem(client.get("/metrics", headers=headers), 401, "unauthenticated")
    shown = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert shown.status_code == 200 and "tatulasu_cases" in shown.text
