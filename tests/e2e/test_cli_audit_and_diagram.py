"""`audit verify` names the first bad record; `diagram` draws the lifecycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import need_tool
from tests.e2e.conftest import Run


def _tamper(db_url: str, statement: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def test_verify_passes_on_an_untouched_history(initialised: Run, opened_case: int) -> None:
    result = initialised("audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert "audit chain verified: 3 events in 1 cases" in result.stdout


def test_an_altered_record_is_named_and_exits_1(
    initialised: Run, opened_case: int, db_url: str
) -> None:
    _tamper(db_url, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    result = initialised("audit", "verify")
    assert result.exit_code == 1
    assert f"case {opened_case}, record seq 2" in result.stderr
    assert "altered" in result.stderr
    report = initialised("audit", "verify", "--json")
    assert report.exit_code == 1
    doc = as_json_any(report.stdout)
    assert doc["ok"] is False
    assert doc["breaks"][0]["seq"] == 2


def as_json_any(text: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_exported_heads_catch_a_removed_tail(
    initialised: Run, opened_case: int, db_url: str, tmp_path: Path
) -> None:
    heads = tmp_path / "heads.json"
    exported = initialised("audit", "export-heads", "--output", str(heads))
    assert exported.exit_code == 0, exported.stderr
    # Drop the last record and point the case back at the one before: the chain is sound...
    _tamper(
        db_url,
        "UPDATE cases SET audit_head = (SELECT hash FROM audit_events WHERE seq = 2), version = 2",
    )
    _tamper(db_url, "DELETE FROM audit_events WHERE seq = 3")
    assert initialised("audit", "verify").exit_code == 0
    # ...but not against the heads kept outside the database.
    result = initialised("audit", "verify", "--heads", str(heads))
    assert result.exit_code == 1
    assert "exported version 3" in result.stderr


def test_a_broken_heads_file_is_bad_input(initialised: Run, tmp_path: Path) -> None:
    heads = tmp_path / "heads.json"
    heads.write_text("{}", encoding="utf-8")
    result = initialised("audit", "verify", "--heads", str(heads))
    assert result.exit_code == 2
    assert "--heads" in result.stderr


def test_diagram_prints_mermaid(run: Run) -> None:
    result = run("diagram")
    assert result.exit_code == 0, result.stderr
    assert "stateDiagram-v2" in result.stdout
    for state in ("referred", "in_mediation", "returned_to_bailiff", "settled"):
        assert state in result.stdout


def test_diagram_to_a_file(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "lifecycle.mmd"
    assert run("diagram", "--output", str(target)).exit_code == 0
    assert "stateDiagram-v2" in target.read_text(encoding="utf-8")


def test_svg_without_graphviz_says_what_to_install(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on the PATH
    result = run("diagram", "--format", "svg")
    assert result.exit_code == 2
    assert "install graphviz" in result.stderr


def test_svg_with_graphviz(run: Run, tmp_path: Path) -> None:
    need_tool("dot", "apt-get install graphviz; .ci/run installs it")
    target = tmp_path / "lifecycle.svg"
    result = run("diagram", "--format", "svg", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert "<svg" in target.read_text(encoding="utf-8")


def test_unknown_diagram_format(run: Run) -> None:
    result = run("diagram", "--format", "gif")
    assert result.exit_code == 2
    assert "--format" in result.stderr
