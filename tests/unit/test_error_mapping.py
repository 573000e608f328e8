"""One error tree, two front ends: the CLI's exit codes and the API's statuses agree."""

from __future__ import annotations

import pytest

from states.errors import TatulasuError
from tatulasu.api.problems import status_of
from tatulasu.diagram import GraphvizMissing
from tatulasu.exits import exit_code
from workflow.errors import (
    GuardFailed,
    NotRetryable,
    ReportIdReused,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
    UnknownEvent,
)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (UnknownEvent("acept", ["accept"], []), 2, 422),
        (GuardFailed("extend", "in_mediation", ["extension_available"]), 3, 409),
        (NotRetryable(7, "sent", "was delivered"), 3, 409),
        (ReportIdReused("dr-1"), 3, 409),
        (StoreUnavailable("database unavailable: refused"), 5, 503),
        (StoreError("database error: disk full"), 5, 503),
        # The CLI's user typed the URL; the API's client did not.
        (StoreMisconfigured("database URL 'mysql://h/db' names the 'mysql' backend"), 2, 503),
        # A tool missing on the server is not the client's fault either.
        (GraphvizMissing(["Graphviz's `dot` program"]), 5, 503),
    ],
)
def test_each_error_has_its_exit_code_and_its_http_status(
    error: TatulasuError, code: int, status: int
) -> None:
    assert (exit_code(error), status_of(error)) == (code, status)
