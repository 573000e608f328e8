"""Signed heads written to a directory on a schedule, by beat or by the embedded clock.

Each export is a new file named by its UTC time (`heads-20240422T040000Z.json`), written
to a temporary file and renamed, so a backup or a copy to another machine never picks up
half a file. The key is read at each export, so replacing the key file takes effect
without a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workflow import audit, audit_keys
from workflow.engine import Engine
from workflow.store import utc


@dataclass(frozen=True)
class HeadsExport:
    directory: Path
    every_minutes: float
    key_file: Path

    @property
    def every_seconds(self) -> float:
        return self.every_minutes * 60


def export_signed_heads(engine: Engine, export: HeadsExport) -> Path:
    """Write every chain's signed head to a new file in the directory; returns its path."""
    key = audit_keys.load_private(export.key_file)
    now = engine.clock.now()
    with engine.store.reading() as conn:
        doc = audit.export_heads(conn, key, now)
    export.directory.mkdir(parents=True, exist_ok=True)
    path = export.directory / f"heads-{utc(now):%Y%m%dT%H%M%SZ}.json"
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    audit_keys.write_atomically(path, text.encode("utf-8"))
    return path
