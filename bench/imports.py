"""A bailiff's file of referrals imported on PostgreSQL vs. a plain COPY of the same file.

Ours: the file queued as an import job and run all or nothing (`workflow.import_jobs`):
every row checked (fields, IIN/BIN check digits, scope, twins), then every case opened
with its parties, genesis record, timers and notices, in one transaction. Reference: the
same bytes loaded with `COPY … FROM STDIN (FORMAT csv, HEADER)` into a scratch table of
text columns, in the same run on the same server: the floor of getting those rows in.

    python -m bench.imports                  # 200,000 rows
    python -m bench.imports --quick          # 5,000 rows, a few seconds
    python -m bench.imports --rows 50000

Exits with status 3 (and says so) when PostgreSQL cannot be reached.
"""

from __future__ import annotations

import resource
import sys
import time

import sqlalchemy as sa

from bench.common import Row, parser, print_table
from bench.postgres import SERVER, UNREACHABLE, database_url, reachable, recreate_database
from workflow import identifiers, import_jobs, users
from workflow.clock import SystemClock
from workflow.engine import Engine
from workflow.referral_rows import Referrer
from workflow.store import Store

DB = f"bench_imports_{__import__('os').getpid()}"
CENTRE = "Oskemen Tatulasu centre"
BIN = "940140000385"
HEADER = (
    "enforcement_proceeding,proceeding_opened_on,centre,debtor_name,debtor_iin_bin,"
    "debtor_phone,creditor_name,creditor_iin_bin,creditor_email\n"
)


def referral_file(rows: int) -> bytes:
    iins = [
        made
        for n in range(4000)
        if (made := identifiers.make(f"8511123{n:04d}")) is not None and _valid(made)
    ][:1000]
    lines = [HEADER]
    for i in range(rows):
        lines.append(
            f"EP-{i},01.03.2024,{CENTRE},Debtor {i},{iins[i % len(iins)]},8 701 123 45 67,"
            f"Altai LLP,{BIN},debt@altai.kz\n"
        )
    return "".join(lines).encode()


def _valid(number: str) -> bool:
    try:
        identifiers.validate(number)
    except ValueError:
        return False
    return True


def ours(store: Store, data: bytes) -> tuple[float, float, str]:
    """(seconds, peak RSS growth in MB, the job's status)."""
    engine = Engine(store, clock=SystemClock())
    bailiff = users.User("bailiff-1", "Bailiff", "bailiff", region="VKO", centre=CENTRE)
    with store.transaction() as conn:
        users.create(conn, bailiff, engine.clock.now())
        job_id = import_jobs.submit(
            conn, Referrer(bailiff, "VKO", CENTRE), data, filename="f.csv", partial=False,
            now=engine.clock.now(),
        )  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    claimed = import_jobs.claim(engine)
    assert claimed == job_id
    job = import_jobs.run(engine, job_id)
    seconds = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return seconds, growth, job.status


def reference(store: Store, data: bytes) -> float:
    """Seconds to COPY the same file into a scratch table of text columns."""
    columns = HEADER.strip().split(",")
    with store.transaction() as conn:
        conn.exec_driver_sql(f"CREATE TABLE scratch ({', '.join(f'{c} text' for c in columns)})")
    started = time.perf_counter()
    with store.transaction() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(  # type: ignore[attr-defined]
                "COPY scratch FROM STDIN (FORMAT csv, HEADER)"
            ) as copy,
        ):
            copy.write(data)
    return time.perf_counter() - started


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--rows", type=int, default=None, help="rows in the file")
    args = p.parse_args()
    rows = args.rows or (5_000 if args.quick else 200_000)
    if not reachable():
        print(f"PostgreSQL unreachable at {SERVER}: benchmark not run", file=sys.stderr)
        sys.exit(UNREACHABLE)
    data = referral_file(rows)
    recreate_database(DB)
    try:
        store = Store(database_url(DB))
        store.migrate()
        copy_seconds = reference(store, data)
        our_seconds, growth, status = ours(store, data)
        with store.reading() as conn:
            opened = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
        store.dispose()
    finally:
        recreate_database(DB, create=False)
    assert status == "done" and opened == rows, (status, opened)
    print_table(
        f"PostgreSQL, a bailiff's file of {rows:,} rows ({len(data) / 2**20:.1f} MB), all or "
        f"nothing as an import job; reference: COPY of the same file into a text table",
        [
            Row("rows per second", rows / our_seconds, rows / copy_seconds, "rows/s"),
            Row("seconds for the file", our_seconds, copy_seconds, "s", higher_is_better=False),
        ],
        "COPY",
    )
    print(f"peak RSS growth of the importing process: {growth:.0f} MB (target <= 100 MB)")


if __name__ == "__main__":
    main()
