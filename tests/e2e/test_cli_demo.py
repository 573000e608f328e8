"""`tatulasu demo` builds a consistent, verifiable, reproducible year in a fresh file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from tatulasu.cli import app


def _demo(path: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        app, ["demo", "--database-url", f"sqlite:///{path}", "--json", *args]
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_summary_is_consistent_and_the_chain_verifies(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    doc = _demo(db, "--cases", "40", "--seed", "7")
    s = doc["summary"]
    assert s["cases"] == 40
    assert sum(s["by_origin"].values()) == 40
    assert sum(s["by_state"].values()) == 40
    assert s["open"] == 0 and s["closed"] == 40  # every dispute ends within the year
    assert s["reconciled"] == s["outcomes"]["settled"]
    assert 0.6 * 40 <= s["reconciled"] <= 0.95 * 40  # calibrated on 107 of 134, drawn per case
    assert abs(s["reconciled_share"] - s["reconciled"] / s["closed"]) < 1e-9
    assert set(s["by_origin"]) <= {"party", "centre", "court", "bailiff"}
    assert {"returned_to_bailiff", "judgment"} <= set(s["outcomes"])
    agreements = s["days_to_agreement"]
    assert agreements["count"] >= s["reconciled"]
    assert 0 < agreements["median"] <= agreements["p90"]
    assert s["consultations"] >= 40
    assert s["reminders_sent"] > 0 and s["terms_missed"] > 0
    assert doc["refused_actions"] == 0

    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
        by_system = conn.execute(
            sa.text("SELECT count(*) FROM audit_events WHERE role = 'system'")
        ).scalar_one()
        open_timers = conn.execute(
            sa.text("SELECT count(*) FROM timers WHERE fired_at IS NULL")
        ).scalar_one()
        settled = conn.execute(
            sa.text("SELECT count(*) FROM cases WHERE state = 'settled'")
        ).scalar_one()
    engine.dispose()
    assert doc["audit_verified_events"] == stored
    assert by_system >= s["reminders_sent"] + s["terms_missed"]
    assert open_timers == 0
    assert settled == s["reconciled"]

    verify = CliRunner().invoke(
        app, ["audit", "verify", "--json"], env={"TATULASU_DATABASE_URL": f"sqlite:///{db}"}
    )
    assert verify.exit_code == 0, verify.stderr
    assert json.loads(verify.stdout)["events"] == stored


def test_the_same_seed_gives_the_same_year_and_the_file_is_replaced(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = _demo(db, "--cases", "20", "--seed", "3")
    second = _demo(db, "--cases", "20", "--seed", "3")
    # the passwords are new each time (never one everybody knows); the year is the same
    assert first.pop("sign_in") != second.pop("sign_in")
    assert first == second  # replaced, not appended to
    other = _demo(tmp_path / "other.db", "--cases", "20", "--seed", "4")
    assert other["audit_verified_events"] != first["audit_verified_events"]


def test_demo_prints_the_supervisor_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--cases", "15", "--database-url", f"sqlite:///{tmp_path / 'd.db'}"]
    )
    assert result.exit_code == 0, result.stderr
    assert re.search(r"reconciled: \d+ of 15 \(\d+\.\d %\)", result.stdout)
    assert "audit chain verified:" in result.stdout
    assert "median" in result.stdout


def test_demo_refuses_anything_but_a_sqlite_file() -> None:
    result = CliRunner().invoke(
        app, ["demo", "--database-url", "postgresql://postgres@127.0.0.1/prod"]
    )
    assert result.exit_code == 2
    assert "--database-url" in result.stderr


def test_the_demo_prints_one_person_per_role_who_can_sign_in(tmp_path: Path) -> None:
    from workflow import passwords
    from workflow.users import USER_ROLES

    db = tmp_path / "demo.db"
    doc = _demo(db, "--cases", "5", "--seed", "1")
    accounts = {a["role"]: a for a in doc["sign_in"]}
    assert set(accounts) == USER_ROLES
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            for account in accounts.values():
                found = passwords.credentials(conn, account["id"])
                assert found is not None and found[0].role == account["role"]
                assert passwords.verify(found[1], account["password"]).ok
    finally:
        engine.dispose()


def test_the_demo_says_who_signs_in_with_which_password_and_how_to_open_the_pages(
    tmp_path: Path,
) -> None:
    from workflow import passwords
    from workflow.users import USER_ROLES

    db = tmp_path / "demo.db"
    url = f"sqlite:///{db}"
    result = CliRunner().invoke(app, ["demo", "--cases", "5", "--database-url", url])
    assert result.exit_code == 0, result.stderr
    shown = re.findall(r"^  (\w+) +(\S+) +(\S+)$", result.stdout, flags=re.MULTILINE)
    assert sorted(role for role, _, _ in shown) == sorted(USER_ROLES)  # one per role
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for role, user, password in shown:
                found = passwords.credentials(conn, user)
                assert found is not None and found[0].role == role
                assert passwords.verify(found[1], password).ok
    finally:
        engine.dispose()
    said = "".join(result.stderr.split())  # the console wraps long lines, even a path
    assert f"tatulasuserve--database-url{url},thenhttp://127.0.0.1:8000/web/login" in said
    assert "everyrolebutpartyhaspages" in said
