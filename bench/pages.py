"""The pages' server time with 100,000 cases stored, beside `/healthz` in the same run.

The store is a year of referrals (`bench.pages_store`: states, terms, reminders,
escalations, agreements), then a supervisor and a coordinator are signed in (a session
started as signing in starts one). The app runs under uvicorn in its own process, one
worker, without the embedded clock (nothing writes while we read). One client asks, one
request at a time on a kept-alive connection, for each page in turn, in alternating
rounds; the time is from sending the request to the last byte of the answer, on the
loopback. The reference is `/healthz` (a `SELECT 1` through the same app, pool and
middleware), measured in the same rounds.

    python -m bench.pages                 # 100,000 cases, SQLite file
    python -m bench.pages --postgres      # the same on PostgreSQL (status 3 if unreachable)
    python -m bench.pages --quick         # 2,000 cases, a few seconds
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import Row, parser, print_table, sqlite_store
from bench.pages_store import COORDINATOR, SUPERVISOR, Stored, build, count_events
from bench.postgres import database_url, reachable, recreate_database
from tatulasu.settings import Settings
from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.web.session import COOKIE, lifetimes
from tatulasu.wiring import App
from tatulasu.wiring import build as wire
from tests.integration.clock.sinks import free_port
from workflow import web_sessions
from workflow.clock import SimulatedClock

TARGET = "p95 ≤ 50 ms"
UNREACHABLE = 3


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    user: str | None  # whose session's cookie is sent


def pages(stored: Stored, today: date) -> list[Page]:
    year = f"since={today - timedelta(days=365)}&until={today + timedelta(days=1)}"
    return [
        Page("/healthz (reference)", "/healthz", None),
        Page("case list, first page", "/web/cases", SUPERVISOR),
        Page("case list, open, by term end", "/web/cases?open=true&sort=due", SUPERVISOR),
        Page("case list, centre typed, page 3", "/web/cases?centre=centre%20vko-2&page=3",
             SUPERVISOR),
        Page("case page, long history", f"/web/cases/{stored.long_case}", COORDINATOR),
        Page("statistics, a year of the region", f"/web/reports?{year}", SUPERVISOR),
        Page("coordinator's work queue", "/web/work", COORDINATOR),
    ]  # fmt: skip


def make_store(url: str, n: int, made: int) -> tuple[App, Stored]:
    """The store with the year of cases, its users, their sessions not yet started."""
    clock = SimulatedClock(datetime.now(UTC))
    app = wire(Settings(database_url=url), clock=clock)
    app.store.migrate()
    started = time.perf_counter()
    stored = build(app.engine, clock, n, made)
    with app.store.reading() as conn:
        events = count_events(conn)
    print(f"stored {stored.cases:,} cases and {events:,} events "
          f"in {time.perf_counter() - started:.0f} s; long case #{stored.long_case}")  # fmt: skip
    return app, stored


def sign_in(app: App, user: str) -> str:
    """A session of `user` begun now on the system clock, which the server reads."""
    with app.store.transaction() as conn:
        return web_sessions.start(conn, user, datetime.now(UTC), lifetimes(app.settings)).token


@contextmanager
def serving(url: str, logs: Path) -> Iterator[str]:
    """uvicorn with the app of `url` (no broker, no embedded clock); its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env["TATULASU_DATABASE_URL"] = url
    with (logs / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "tatulasu.api.asgi:from_environment",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, proc, logs)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _wait_for(base: str, proc: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError((logs / "serve.log").read_text(errors="replace")[-2000:])


def measure(base: str, shown: list[Page], tokens: dict[str, str], rounds: int, per_round: int
            ) -> dict[str, list[float]]:  # fmt: skip
    """Milliseconds of each request, by page; rounds alternate the pages."""
    times: dict[str, list[float]] = {p.name: [] for p in shown}
    with httpx.Client(base_url=base, timeout=60) as client:
        for round_ in range(rounds + 1):  # the first round warms up and is not counted
            for page in shown:
                cookies = {LANGUAGE_COOKIE: "ru"}
                if page.user:
                    cookies[COOKIE] = tokens[page.user]
                for _ in range(per_round):
                    started = time.perf_counter()
                    answer = client.get(page.url, cookies=cookies)
                    elapsed = (time.perf_counter() - started) * 1000
                    if answer.status_code != 200:
                        raise RuntimeError(f"{page.url}: {answer.status_code} {answer.text[:300]}")
                    if round_:
                        times[page.name].append(elapsed)
    return times


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def rows(times: dict[str, list[float]]) -> list[Row]:
    reference = next(iter(times.values()))
    ref50, ref95 = percentile(reference, 50), percentile(reference, 95)
    found = []
    for name, values in times.items():
        found += [
            Row(f"{name}: p50 (ms)", percentile(values, 50), ref50, "ms", "reported",
                higher_is_better=False),
            Row(f"{name}: p95 (ms)", percentile(values, 95), ref95, "ms", TARGET,
                higher_is_better=False),
        ]  # fmt: skip
    return found


def run(url: str, n: int, made: int, rounds: int, per_round: int) -> list[Row]:
    app, stored = make_store(url, n, made)
    try:
        tokens = {user: sign_in(app, user) for user in (SUPERVISOR, COORDINATOR)}
    finally:
        app.close()
    logs = Path(tempfile.mkdtemp(prefix="tatulasu-pages-"))
    shown = pages(stored, datetime.now(UTC).date())
    with serving(url, logs) as base:
        times = measure(base, shown, tokens, rounds, per_round)
    print(f"{rounds} rounds of {per_round} requests per page; every answer 200")
    return rows(times)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--cases", type=int, help="cases stored (default 100,000; 2,000 with --quick)")
    p.add_argument("--postgres", action="store_true", help="PostgreSQL instead of a SQLite file")
    args = p.parse_args()
    n = args.cases or (2_000 if args.quick else 100_000)
    made = min(n, 1_000 if args.quick else 5_000)  # cases made through the engine
    rounds, per_round = (2, 5) if args.quick else (5, 40)
    if args.postgres:
        if not reachable():
            print("PostgreSQL is unreachable: `--postgres` needs it", file=sys.stderr)
            raise SystemExit(UNREACHABLE)
        name = f"tatulasu_bench_pages_{os.getpid()}"
        recreate_database(name)
        try:
            found = run(database_url(name), n, made, rounds, per_round)
        finally:
            recreate_database(name, create=False)
        store_name = "PostgreSQL"
    else:
        path = Path(tempfile.mkdtemp(prefix="tatulasu-pages-")) / "pages.db"
        sqlite_store(path).dispose()
        found = run(f"sqlite:///{path}", n, made, rounds, per_round)
        store_name = "SQLite file"
    print_table(f"Pages with {n:,} cases stored ({store_name}): server time",
                found, "/healthz")  # fmt: skip


if __name__ == "__main__":
    main()
