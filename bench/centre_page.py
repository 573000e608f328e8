"""The centres page with hundreds of centres: two grouped queries beside a query per centre.

The store has 20 regions; Almaty city has 300 centres and every other region 15 (585 in
all), each with a coordinator (but every tenth), two mediators and a bailiff, and 60
cases per centre (35,100), a third of them closed and a fifth of the open ones past their
term. Cases are inserted as rows, not through the engine: the page reads only the cases
table, and no history is needed to count it. Measured: `centre_overview.overview` for an
admin (every region), the whole page through the app in-process (session, queries,
Jinja2), and as the reference the same counts asked centre by centre (two queries each),
which is what the grouped queries are there to avoid.

    python -m bench.centre_page              # SQLite file
    python -m bench.centre_page --postgres   # the same on PostgreSQL (status 3 if unreachable)
    python -m bench.centre_page --quick      # fewer rounds
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bench.common import Row, parser, print_table, sqlite_store
from bench.postgres import database_url, reachable, recreate_database
from tatulasu.api import create_app
from tatulasu.settings import Settings
from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.web.session import COOKIE, lifetimes
from tatulasu.wiring import build
from workflow import centre_overview, web_sessions
from workflow.regions import REGIONS
from workflow.schema import cases, users
from workflow.store import Store
from workflow.users import User

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
ADMIN = User("bench-admin", "Admin", "admin")
PER_CENTRE = 60
UNREACHABLE = 3
DB = "bench_centres"


def centres() -> list[tuple[str, str]]:
    return [
        (region, f"{region} centre {n}")
        for region in REGIONS
        for n in range(300 if region == "ALA" else 15)
    ]


def fill(store: Store) -> int:
    """The people and cases above; the number of centres."""
    found = centres()
    people, rows = [], []
    for i, (region, centre) in enumerate(found):
        roles = ["mediator", "mediator", "bailiff"] + ([] if i % 10 == 0 else ["coordinator"])
        people += [
            {"id": f"u{i}-{k}", "name": "N", "role": role, "region": region, "centre": centre,
             "language": "kk", "active": True, "created_at": NOW}
            for k, role in enumerate(roles)
        ]  # fmt: skip
        for k in range(PER_CENTRE):
            closed = k % 3 == 0
            late = not closed and k % 5 == 1
            due = NOW + timedelta(days=-2 if late else 5)
            rows.append(
                {"definition_version": 1, "state": "withdrawn" if closed else "pre_trial",
                 "version": 1, "origin": "centre", "procedure": "mediation", "region": region,
                 "centre": centre, "language": "kk", "subject": "", "opened_at": NOW,
                 "updated_at": NOW, "closed_at": NOW if closed else None,
                 "term_due_at": None if closed else due, "audit_head": "0" * 64}
            )  # fmt: skip
    with store.transaction() as conn:
        conn.execute(users.insert(), [*people, {**people[0], "id": ADMIN.id, "role": "admin",
                                                "region": None, "centre": None}])  # fmt: skip
        conn.execute(cases.insert(), rows)
    return len(found)


def per_centre(store: Store) -> int:
    """The reference: the same counts, centre by centre (what one must not do)."""
    with store.reading() as conn:
        seen = 0
        for region, centre in centres():
            q_people = sa.select(users.c.role, sa.func.count()).where(
                users.c.region == region, users.c.centre == centre, users.c.active
            )
            conn.execute(q_people.group_by(users.c.role)).all()
            q_cases = sa.select(
                sa.func.count(), sa.func.sum(sa.case((cases.c.term_due_at <= NOW, 1), else_=0))
            ).where(cases.c.region == region, cases.c.centre == centre, cases.c.closed_at.is_(None))
            conn.execute(q_cases).one()
            seen += 1
        return seen


def grouped(store: Store) -> int:
    with store.reading() as conn:
        return sum(len(r.centres) for r in centre_overview.overview(conn, ADMIN, NOW))


def median_p95(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    action()  # warm: compiled statements, templates, catalogues
    took = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]


def measure(url: str, rounds: int) -> list[Row]:
    wired = build(Settings(database_url=url))
    try:
        shown = fill(wired.store)
        assert grouped(wired.store) == shown == per_centre(wired.store)
        with wired.store.transaction() as conn:
            token = web_sessions.start(conn, ADMIN.id, datetime.now(UTC), lifetimes(wired.settings))
        client = TestClient(create_app(wired))
        client.cookies.set(COOKIE, token.token)
        client.cookies.set(LANGUAGE_COOKIE, "ru")

        def page() -> None:
            answer = client.get("/web/centres")
            assert answer.status_code == 200 and answer.text.count("<tr") > shown

        ours = median_p95(lambda: grouped(wired.store), rounds)
        naive = median_p95(lambda: per_centre(wired.store), max(3, rounds // 5))
        whole = median_p95(page, rounds)
    finally:
        wired.close()
    return [
        Row(f"{shown} centres read, median (ms)", ours[0], naive[0], "ms", "", False),
        Row(f"{shown} centres read, p95 (ms)", ours[1], naive[1], "ms", "", False),
        Row("GET /web/centres in-process, median (ms)", whole[0], naive[0], "ms", "", False),
        Row("GET /web/centres in-process, p95 (ms)", whole[1], naive[1], "ms", "", False),
    ]


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--postgres", action="store_true", help="on PostgreSQL instead of SQLite")
    args = p.parse_args()
    rounds = 5 if args.quick else 30
    if args.postgres:
        if not reachable():
            print("PostgreSQL is unreachable: nothing measured", file=sys.stderr)
            sys.exit(UNREACHABLE)
        recreate_database(DB)
        try:
            Store(database_url(DB)).migrate()
            rows = measure(database_url(DB), rounds)
        finally:
            recreate_database(DB, create=False)
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "centres.db"
            sqlite_store(path).dispose()
            rows = measure(f"sqlite:///{path}", rounds)
    store = "PostgreSQL" if args.postgres else "SQLite"
    print_table(f"Centres page, {store}", rows, "per centre")


if __name__ == "__main__":
    main()
