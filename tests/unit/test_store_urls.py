"""A database URL tatulasu cannot use is refused by the store, in words, before any I/O."""

from __future__ import annotations

import socket

import pytest

from workflow.errors import StoreMisconfigured, StoreUnavailable
from workflow.store import Store

SUPPORTED = "tatulasu supports SQLite (sqlite:///FILE) and PostgreSQL (postgresql://USER@HOST/DB)"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "database URL 'not a url' is not a valid URL"),
        ("postgresql://u@127.0.0.1:port/db", "is not a valid URL"),
        ("mysql://u@h/db", "database URL 'mysql://u@h/db' names the 'mysql' backend"),
        ("oracle://u@h/db", "names the 'oracle' backend"),
        ("sqlite+nosuchdriver:///x.db", "cannot be used (Can't load plugin"),
        ("postgresql+psycopg2://u@h/db", "cannot be used (No module named 'psycopg2')"),
    ],
)
def test_a_url_that_is_malformed_or_names_an_unsupported_backend_is_refused(
    url: str, says: str
) -> None:
    with pytest.raises(StoreMisconfigured) as caught:
        Store(url)
    assert says in str(caught.value)
    assert str(caught.value).endswith(SUPPORTED)


def test_the_password_of_a_refused_url_is_not_repeated() -> None:
    with pytest.raises(StoreMisconfigured) as caught:
        Store("mysql://u:s3cret@h/db")
    assert "s3cret" not in str(caught.value)
    assert "mysql://u:***@h/db" in str(caught.value)


def test_an_unreachable_database_is_unavailable_when_first_asked() -> None:
    store = Store(f"postgresql://postgres@127.0.0.1:{closed_port()}/x")
    with pytest.raises(StoreUnavailable, match=r"database unavailable: .*refused"):
        store.has_table("cases")
    store.dispose()
