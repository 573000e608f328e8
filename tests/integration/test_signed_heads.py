"""Exported heads are signed with Ed25519: an edited or forged heads file is refused.

The scheduled export (beat, or the embedded clock) writes signed, verifiable files.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tasks.app import EXPORT_HEADS, ClockConfig, Runtime, create_app
from tasks.dispatch import Dispatcher
from tasks.embedded import EmbeddedClock
from tasks.heads_export import HeadsExport, export_signed_heads
from tatulasu.settings import Settings
from tatulasu.wiring import heads_export_from
from tests.conftest import Desk
from workflow import audit, audit_keys, errors
from workflow.errors import InvalidField


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "heads.pem", tmp_path / "keys" / "heads.pub.pem"
    private.parent.mkdir()
    audit_keys.generate(private, public)
    return private, public


@pytest.fixture
def signed(desk: Desk, keys: tuple[Path, Path]) -> dict[str, Any]:
    """Two cases' heads, signed, as read back from a file."""
    desk.to_state("pre_trial")
    desk.to_state("referred")
    with desk.store.reading() as conn:
        doc = audit.export_heads(conn, audit_keys.load_private(keys[0]), desk.clock.now())
    loaded: dict[str, Any] = json.loads(json.dumps(doc))
    return loaded


def public(keys: tuple[Path, Path]) -> Any:
    return audit_keys.load_public(keys[1])


def test_a_signed_heads_file_verifies(
    desk: Desk, keys: tuple[Path, Path], signed: dict[str, Any]
) -> None:
    assert signed["format"] == "tatulasu-audit-heads/2"
    assert signed["signature"]["algorithm"] == "ed25519"
    assert signed["signature"]["key_id"] == audit_keys.key_id(public(keys))
    heads = audit.parse_heads(signed, public(keys))
    assert sorted(heads) == [1, 2]
    assert heads[1] == (2, desk.case(1).audit_head)
    with desk.store.reading() as conn:
        assert audit.verify(conn, heads=heads).ok


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["cases"]["1"].update(head="0" * 64),
        lambda d: d["cases"]["1"].update(version=1),
        lambda d: d["cases"].pop("2"),
        lambda d: d["cases"].update({"3": {"version": 1, "head": "a" * 64}}),
        lambda d: d.update(exported_at="2020-01-01T00:00:00.000000Z"),
        lambda d: d["signature"].update(value=d["signature"]["value"][::-1]),
        lambda d: d["signature"].update(value="not base64!"),
    ],
)
def test_an_edited_heads_file_is_refused(
    keys: tuple[Path, Path], signed: dict[str, Any], edit: Any
) -> None:
    edit(signed)
    with pytest.raises(errors.SignatureMismatch, match="signature does not match"):
        audit.parse_heads(signed, public(keys))


def test_a_file_signed_with_another_key_is_refused(
    desk: Desk, keys: tuple[Path, Path], signed: dict[str, Any]
) -> None:
    # The forger signs his own rewritten heads: he does not hold the operator's key.
    mallory = Ed25519PrivateKey.generate()
    forged = audit.sign_heads(signed["cases"], mallory, signed["exported_at"])
    with pytest.raises(errors.SignatureMismatch, match=r"names key .* the public key given is"):
        audit.parse_heads(forged, public(keys))
    # ...even when he copies the operator's key id into the file.
    forged["signature"]["key_id"] = signed["signature"]["key_id"]
    with pytest.raises(errors.SignatureMismatch, match="the file was changed"):
        audit.parse_heads(forged, public(keys))


def test_an_unsigned_or_unkeyed_file_is_refused(
    keys: tuple[Path, Path], signed: dict[str, Any]
) -> None:
    old = {"format": "tatulasu-audit-heads/1", "cases": signed["cases"], "digest": "x"}
    with pytest.raises(errors.HeadsUnsigned, match=r"unsigned .* export the heads again"):
        audit.parse_heads(old, public(keys))
    stripped = {k: v for k, v in signed.items() if k != "signature"}
    with pytest.raises(errors.HeadsUnsigned, match="no signature"):
        audit.parse_heads(stripped, public(keys))
    with pytest.raises(errors.PublicKeyMissing):
        audit.parse_heads(signed, None)
    with pytest.raises(errors.HeadsMalformed, match="not a tatulasu audit heads file"):
        audit.parse_heads([], public(keys))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- key files


def test_keygen_writes_a_private_key_only_its_owner_reads(keys: tuple[Path, Path]) -> None:
    private, pub = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(errors.KeyFileError, match="already exists"):
        audit_keys.generate(private, pub.with_name("other.pem"))
    with pytest.raises(errors.KeyFileError, match="already exists"):
        audit_keys.generate(private.with_name("other.pem"), pub)


def test_a_wrong_key_file_is_named(keys: tuple[Path, Path], tmp_path: Path) -> None:
    private, pub = keys
    with pytest.raises(errors.KeyFileError, match="does not exist"):
        audit_keys.load_private(tmp_path / "missing.pem")
    with pytest.raises(errors.KeyFileError, match="not an unencrypted private key"):
        audit_keys.load_private(pub)
    with pytest.raises(errors.KeyFileError, match="not a public key"):
        audit_keys.load_public(private)


# ---------------------------------------------------------------------------- on a schedule


def _files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def test_the_scheduled_export_writes_a_signed_verifiable_file(
    desk: Desk, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    case_id = desk.to_state("pre_trial")
    export = HeadsExport(tmp_path / "heads" / "vault", 60, keys[0])
    first = export_signed_heads(desk.engine, export)
    assert first.name == "heads-20240422T040000Z.json"  # the clock's UTC time
    desk.advance(hours=1)
    desk.fire(case_id, "assign_mediator", "coordinator", mediator=desk.register("med-1"))
    second = export_signed_heads(desk.engine, export)
    assert second.name == "heads-20240422T050000Z.json"
    assert _files(export.directory) == [first, second]  # no temporary file left behind

    for path, version in ((first, 2), (second, 3)):
        heads = audit.parse_heads(json.loads(path.read_text()), public(keys))
        assert heads[case_id][0] == version
        with desk.store.reading() as conn:
            assert audit.verify(conn, heads=heads).ok


def test_the_embedded_clock_exports_when_due(
    desk: Desk, keys: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.refer()
    export = HeadsExport(tmp_path / "heads", 5, keys[0])
    clock = EmbeddedClock(desk.engine, Dispatcher(desk.engine, {}), 1, heads_export=export)
    written = clock.export_heads_if_due()  # the first one when the clock starts
    assert written is not None and written.parent == export.directory
    assert clock.export_heads_if_due() is None  # not again before five minutes
    now = clock._next_export
    monkeypatch.setattr("tasks.embedded.time.monotonic", lambda: now + 1)
    desk.advance(minutes=5)
    assert clock.export_heads_if_due() is not None
    assert len(_files(export.directory)) == 2
    assert EmbeddedClock(desk.engine, clock.dispatcher, 1).export_heads_if_due() is None


def test_beat_schedules_the_export_only_when_configured(
    desk: Desk, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    case_id = desk.refer().case_id
    runtime = Runtime(lambda: desk.engine, lambda engine: Dispatcher(engine, {}))
    assert "export-heads" not in create_app(ClockConfig(), runtime).conf.beat_schedule
    export = HeadsExport(tmp_path / "heads", 15, keys[0])
    app = create_app(ClockConfig(heads_export=export), runtime)
    entry = app.conf.beat_schedule["export-heads"]
    assert (entry["task"], entry["schedule"]) == (EXPORT_HEADS, 900)
    path = Path(app.tasks[EXPORT_HEADS].run())  # what a worker runs when beat asks
    assert list(audit.parse_heads(json.loads(path.read_text()), public(keys))) == [case_id]


def test_the_export_settings_go_together(tmp_path: Path) -> None:
    assert heads_export_from(Settings()) is None
    with pytest.raises(InvalidField, match="TATULASU_HEADS_EXPORT_EVERY_MINUTES"):
        heads_export_from(Settings(heads_export_dir=tmp_path))
    with pytest.raises(InvalidField, match="TATULASU_AUDIT_SIGNING_KEY_FILE"):
        heads_export_from(Settings(heads_export_dir=tmp_path, heads_export_every_minutes=5))
    export = heads_export_from(
        Settings(
            heads_export_dir=tmp_path,
            heads_export_every_minutes=0.5,
            audit_signing_key_file=tmp_path / "k.pem",
        )
    )
    assert export == HeadsExport(tmp_path, 0.5, tmp_path / "k.pem")
    assert export.every_seconds == 30
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(heads_export_every_minutes=0)
