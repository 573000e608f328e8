"""Run one queued import job in a process of its own and say what it cost (for the tests).

    python -m tests.integration.import_runner DATABASE_URL

Prints one JSON line: the job's id and status, seconds taken, and the process's peak
resident memory before the job was claimed and after it ended (kB, `ru_maxrss`), so a
test can bound what a file of 200,000 rows costs in memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import states
from workflow import import_jobs
from workflow.engine import Engine
from workflow.store import Store


def main(url: str) -> None:
    store = Store(url)
    engine = Engine(store)
    with store.reading() as conn:  # warm the connection and the lifecycle before measuring
        conn.exec_driver_sql("SELECT 1")
    states.current()
    engine.calendar.local_date(engine.clock.now())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    job_id = import_jobs.claim(engine)
    job = import_jobs.run(engine, job_id) if job_id is not None else None
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.dispose()
    print(
        json.dumps(
            {
                "job": job_id,
                "status": job.status if job else None,
                "rows": job.rows if job else 0,
                "imported": job.imported if job else 0,
                "rejected": job.rejected if job else 0,
                "seconds": round(seconds, 2),
                "rss_before_kb": before,
                "rss_peak_kb": after,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
