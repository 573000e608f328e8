"""The CLI's unmasked reads need a reason and land in the access log; `audit access-log`."""

from __future__ import annotations

import csv
import io
import json

from tests.e2e.conftest import Run, as_json


def test_an_unmasked_show_without_a_reason_exits_2_naming_the_option(
    initialised: Run, opened_case: int
) -> None:
    refused = initialised("show", str(opened_case), "--unmasked")
    assert refused.exit_code == 2
    assert "--reason" in refused.stderr
    assert "061211600012" not in refused.stdout
    assert initialised("audit", "access-log").stdout == ""


def test_unmasked_reads_are_recorded_and_exported(initialised: Run, opened_case: int) -> None:
    run, case = initialised, str(opened_case)
    as_json(run("show", case, "--unmasked", "--reason", "court request 12", "--actor", "ops-1",
                "--json"))  # fmt: skip
    assert run("history", case, "--unmasked", "--reason", "audit", "--json").exit_code == 0
    lines = [json.loads(x) for x in run("audit", "access-log").stdout.splitlines()]
    assert [(e["actor"], e["action"], e["reason"]) for e in lines[:1]] == [
        ("ops-1", "show", "court request 12")
    ]
    first, second = lines
    assert first["role"] == "operator" and first["channel"] == "cli"
    assert first["case_id"] == opened_case and first["region"] == "VKO" and first["at"]
    assert second["action"] == "history" and second["actor"]  # the login name by default
    rows = list(csv.DictReader(io.StringIO(run("audit", "access-log", "--format", "csv").stdout)))
    assert [r["reason"] for r in rows] == ["court request 12", "audit"]
    assert run("audit", "access-log", "--region", "KAR").stdout == ""


def test_the_list_scrubs_personal_data_from_subjects(initialised: Run) -> None:
    run = initialised
    as_json(run("refer", "--actor", "a", "--role", "party", "--region", "VKO", "--centre", "C",
                "--subject", "call 8 701 123 45 67", "--party",
                "claimant:Aigerim Serikova:061211600012", "--json"))  # fmt: skip
    (line,) = as_json(run("list", "--json"))
    assert line["subject"] == "call [phone]"
