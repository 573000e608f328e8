"""The API as a deployment starts it: uvicorn in its own process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.integration.clock.sinks import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def uvicorn_api(database_url: str, start_within: float = 120) -> Iterator[str]:
    """Run `uvicorn --factory tatulasu.api.asgi:from_environment`; yield its base URL."""
    port = free_port()
    env = {**os.environ, "TATULASU_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tatulasu.api.asgi:from_environment",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_within
        last = "no answer"
        while True:
            try:
                answer = httpx.get(f"{base}/healthz", timeout=1)
                if answer.status_code == 200:
                    break
                last = f"{answer.status_code} {answer.text[:300]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, (
                f"uvicorn did not start in {start_within} s (last /healthz: {last})"
            )
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()
