"""Keep-alive connections are recycled about once in N answers, never when N is 0."""

from __future__ import annotations

import random

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

from tatulasu.api.connections import RecycleConnections


def client(every: int) -> TestClient:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(RecycleConnections, every=every, rng=random.Random(7))
    return TestClient(app)


def closed_answers(every: int, n: int = 2000) -> int:
    with client(every) as http:
        answers = [http.get("/ping") for _ in range(n)]
    assert all(a.status_code == 200 and a.json() == {"ok": "yes"} for a in answers)
    return sum(a.headers.get("connection") == "close" for a in answers)


def test_about_one_answer_in_every_closes_the_connection() -> None:
    assert 10 < closed_answers(50, 1000) < 30  # 20 expected


def test_every_answer_closes_with_one_and_none_with_zero() -> None:
    assert closed_answers(1, 50) == 50
    assert closed_answers(0) == 0


def test_an_answer_that_closes_already_keeps_one_connection_header() -> None:
    app = FastAPI()

    @app.get("/refused")
    def refused() -> JSONResponse:  # as the body limit's 413 answers
        return JSONResponse({"too": "large"}, status_code=413, headers={"Connection": "close"})

    app.add_middleware(RecycleConnections, every=1)  # this answer is drawn to close too
    with TestClient(app) as http:
        answer = http.get("/refused")
    assert answer.headers.get_list("connection") == ["close"]
