"""`tatulasu serve` believes X-Forwarded-Proto/-For only from the proxies it is told of."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

from tests.e2e.conftest import Run


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({}, (False, None)), ({"TATULASU_FORWARDED_ALLOW_IPS": "10.0.0.1"}, (True, "10.0.0.1"))],
)
def test_forwarded_headers_are_believed_only_when_configured(
    initialised: Run,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    expected: tuple[bool, str | None],
) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **kwargs: seen.append(kwargs))
    for name, value in {"TATULASU_BROKER_URL": "redis://127.0.0.1:1/0", **environment}.items():
        monkeypatch.setenv(name, value)
    for workers in ("1", "2"):
        done = initialised("serve", "--workers", workers)
        assert done.exit_code == 0, done.output
    assert [(k["proxy_headers"], k["forwarded_allow_ips"]) for k in seen] == [expected] * 2
