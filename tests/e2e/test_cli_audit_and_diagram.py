"""`audit verify` names the first bad record; `diagram` draws the lifecycle."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tatulasu.cli import app
from tests.conftest import need_tool
from tests.e2e.conftest import Run
from tests.tamper import tamper


def _tamper(db_url: str, statement: str) -> None:
    tamper(db_url, statement)  # drops the history's triggers first, as an attacker would


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


def test_a_case_row_edited_beside_the_engine_is_named_and_exits_1(
    initialised: Run, opened_case: int, db_url: str
) -> None:
    tamper(db_url, f"UPDATE cases SET state = 'settled' WHERE id = {opened_case}")
    result = initialised("audit", "verify")
    assert result.exit_code == 1
    assert f"case {opened_case}: cases.state is 'settled'; its history says 'pre_trial'" in (
        result.stderr
    )
    assert "1 of 1 cases with a broken chain or a difference from their history" in result.stderr
    report = initialised("audit", "verify", "--json")
    assert report.exit_code == 1
    (found,) = as_json_any(report.stdout)["breaks"]  # type: ignore[misc]
    assert (found["column"], found["stored"], found["replayed"]) == (
        "cases.state",
        "'settled'",
        "'pre_trial'",
    )


@pytest.fixture
def keys(run: Run, tmp_path: Path) -> tuple[str, str]:
    """The operator's key pair, made by `audit keygen`: (private, public)."""
    private, public = tmp_path / "audit-key.pem", tmp_path / "audit-key.pub.pem"
    made = run("audit", "keygen", "--private-key", str(private), "--public-key", str(public))
    assert made.exit_code == 0, made.stderr
    assert "key id" in made.stderr
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    return str(private), str(public)


def _export(run: Run, keys: tuple[str, str], heads: Path) -> None:
    exported = run("audit", "export-heads", "--key", keys[0], "--output", str(heads))
    assert exported.exit_code == 0, exported.stderr
    assert "exported the signed heads of 1 cases" in exported.stderr


def test_exported_heads_catch_a_removed_tail(
    initialised: Run, opened_case: int, db_url: str, tmp_path: Path, keys: tuple[str, str]
) -> None:
    heads = tmp_path / "heads.json"
    _export(initialised, keys, heads)
    signed = initialised("audit", "verify", "--heads", str(heads), "--public-key", keys[1])
    assert signed.exit_code == 0, signed.stderr
    # Drop the last record (the mediator's assignment) and put the case back as the record
    # before left it: the chain is sound and the case row is what it replays to...
    _tamper(
        db_url,
        "UPDATE cases SET audit_head = (SELECT hash FROM audit_events WHERE seq = 2), version = 2,"
        " mediator = NULL, updated_at = (SELECT at FROM audit_events WHERE seq = 2)",
    )
    _tamper(db_url, "DELETE FROM audit_events WHERE seq = 3")
    assert initialised("audit", "verify").exit_code == 0
    # ...but not against the heads kept outside the database.
    result = initialised("audit", "verify", "--heads", str(heads), "--public-key", keys[1])
    assert result.exit_code == 1
    assert "exported version 3" in result.stderr


def _one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_an_edited_heads_file_is_refused_before_anything_is_checked(
    initialised: Run, opened_case: int, tmp_path: Path, keys: tuple[str, str]
) -> None:
    heads = tmp_path / "heads.json"
    _export(initialised, keys, heads)
    doc = json.loads(heads.read_text(encoding="utf-8"))
    doc["cases"][str(opened_case)]["version"] = 2  # as if the chain had been shorter
    heads.write_text(json.dumps(doc), encoding="utf-8")
    result = initialised("audit", "verify", "--heads", str(heads), "--public-key", keys[1])
    assert result.exit_code == 1
    line = _one_line_error(result)
    assert "--heads" in line and "signature does not match: the file was changed" in line
    assert "verified" not in result.stdout


def test_heads_signed_with_another_key_are_refused(
    initialised: Run, opened_case: int, tmp_path: Path, keys: tuple[str, str]
) -> None:
    other = tmp_path / "other.pem", tmp_path / "other.pub.pem"
    made = initialised("audit", "keygen", "--private-key", str(other[0]), "--public-key",
                       str(other[1]))  # fmt: skip
    assert made.exit_code == 0, made.stderr
    heads = tmp_path / "heads.json"
    _export(initialised, (str(other[0]), str(other[1])), heads)
    result = initialised("audit", "verify", "--heads", str(heads), "--public-key", keys[1])
    assert result.exit_code == 1
    assert "signature does not match: the file names key" in _one_line_error(result)


def test_the_public_key_comes_from_the_option_or_the_environment(
    initialised: Run, opened_case: int, tmp_path: Path, keys: tuple[str, str], db_url: str
) -> None:
    heads = tmp_path / "heads.json"
    _export(initialised, keys, heads)
    missing = initialised("audit", "verify", "--heads", str(heads))
    assert missing.exit_code == 2
    assert "--public-key: needed to check the signature" in _one_line_error(missing)
    env = {"TATULASU_DATABASE_URL": db_url, "TATULASU_AUDIT_PUBLIC_KEY_FILE": keys[1]}
    from_env = CliRunner().invoke(app, ["audit", "verify", "--heads", str(heads)], env=env)
    assert from_env.exit_code == 0, from_env.stderr
    gone = initialised("audit", "verify", "--heads", str(heads), "--public-key",
                       str(tmp_path / "nowhere.pem"))  # fmt: skip
    assert gone.exit_code == 2
    assert "nowhere.pem does not exist" in _one_line_error(gone)


def test_an_old_unsigned_heads_file_is_refused_with_what_to_do(
    initialised: Run, opened_case: int, tmp_path: Path, keys: tuple[str, str]
) -> None:
    heads = tmp_path / "heads.json"
    heads.write_text(
        json.dumps({"format": "tatulasu-audit-heads/1", "cases": {}, "digest": "0" * 64}),
        encoding="utf-8",
    )
    result = initialised("audit", "verify", "--heads", str(heads), "--public-key", keys[1])
    assert result.exit_code == 2
    line = _one_line_error(result)
    assert "unsigned" in line and "tatulasu audit export-heads --key" in line


def test_export_heads_needs_a_signing_key(
    initialised: Run, opened_case: int, tmp_path: Path, keys: tuple[str, str]
) -> None:
    result = initialised("audit", "export-heads")
    assert result.exit_code == 2
    assert "TATULASU_AUDIT_SIGNING_KEY_FILE" in _one_line_error(result)
    wrong = initialised("audit", "export-heads", "--key", keys[1])  # the public one
    assert wrong.exit_code == 2
    assert "not an unencrypted private key" in _one_line_error(wrong)
    again = initialised("audit", "keygen", "--private-key", keys[0], "--public-key",
                        str(tmp_path / "new.pub.pem"))  # fmt: skip
    assert again.exit_code == 2
    assert "already exists" in _one_line_error(again)


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
    assert result.exit_code == 5  # the machine lacks a tool: not the user's input
    assert "install graphviz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_svg_without_the_graphviz_package_writes_no_svg_file_and_names_the_extra(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `dot` may be installed; the Python package is not: transitions would draw Mermaid.
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` fails
    target = tmp_path / "x.svg"
    result = run("diagram", "--format", "svg", "--output", str(target))
    assert result.exit_code == 5
    assert "pip install 'tatulasu[graphviz]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_an_output_named_for_another_format_is_refused_and_not_written(
    run: Run, tmp_path: Path
) -> None:
    target = tmp_path / "x.svg"
    result = run("diagram", "--format", "mermaid", "--output", str(target))
    assert result.exit_code == 2
    assert "error: --output: x.svg is named for svg, but --format is mermaid" in result.stderr
    assert not target.exists()


def test_without_format_the_output_suffix_chooses_it(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tatulasu.diagram.shutil.which", lambda _name: None)
    target = tmp_path / "x.svg"
    result = run("diagram", "--output", str(target))
    assert result.exit_code == 5  # it set out to draw SVG, not Mermaid
    assert not target.exists()


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
