"""Each benchmark runs in --quick mode and prints its table (numbers are never asserted).

The PostgreSQL benchmark exits with status 3 when the server cannot be reached: that is a
skip locally and a failure under CI=true.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_tool

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = 3


def run_bench(name: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_table(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert "ratio" in done.stdout and "ours" in done.stdout, done.stdout
    assert "x  " in done.stdout  # at least one ratio printed


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "machine",
        "sqlite",
        "memory",
        "startup",
        "verify",
        "pages",
        "counters",
        "page_indexes",
        "migrate",
    ],
)
def test_benchmark_runs_quick_and_prints_its_table(name: str) -> None:
    assert_table(run_bench(name))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("name", ["postgres", "clock", "clock_faults", "http", "imports"])
def test_server_benchmarks_run_quick_or_say_the_server_is_unreachable(name: str) -> None:
    if name == "http":
        need_tool("wrk", "apt-get install wrk; .ci/run installs it")
    done = run_bench(name, timeout=600)
    if done.returncode == UNREACHABLE:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable under CI: {done.stderr}")
        pytest.skip(f"PostgreSQL unreachable: {done.stderr.strip()}")
    assert_table(done)
