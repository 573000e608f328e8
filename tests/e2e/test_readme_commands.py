"""The README's commands are the ones that work: checked by running them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks(section: str) -> list[str]:
    body = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", body, flags=re.S)


def _locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def _uv() -> str:
    """The uv the lock pins, installed beside this interpreter by the test extra."""
    return str(Path(sys.executable).with_name("uv"))


def _quick_start() -> tuple[str, str]:
    blocks = _bash_blocks("Quick start")
    assert len(blocks) == 2, "Quick start must hold exactly two commands"
    main, tests = (b.strip() for b in blocks)
    return main, tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, tests = _quick_start()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci


def test_readme_main_command_installs_from_the_lock_and_runs_the_demo(tmp_path: Path) -> None:
    """`pip install uv==… && uv run --locked tatulasu demo`, into a fresh environment.

    uv is told to install into a throwaway environment and to use only its cache
    (`UV_OFFLINE`): the tests talk to no registry. The pip half is checked, not run: the
    uv it installs must be the one the lock holds.
    """
    main, _ = _quick_start()
    install, run = (part.strip() for part in main.split("&&"))
    assert install == f"pip install uv=={_locked_version('uv')}"
    argv = shlex.split(run)
    assert argv[:3] == ["uv", "run", "--locked"], run
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TATULASU_", "UV_"))}
    env |= {
        "UV_PROJECT": str(ROOT),
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
        "UV_OFFLINE": "1",
        "VIRTUAL_ENV": "",
    }
    done = subprocess.run(
        [_uv(), *argv[1:]], cwd=work, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "audit chain verified" in done.stdout
    assert re.search(r"reconciled: \d+ of \d+", done.stdout)
    assert (work / "tatulasu-demo.db").exists()


def test_readme_cli_walkthrough_runs(tmp_path: Path) -> None:
    """Every command of "Using it", in order, against a fresh SQLite file."""
    commands = _bash_blocks("Using it")[0]
    joined = re.sub(r"\\\n\s*", " ", commands)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env["TATULASU_DATABASE_URL"] = f"sqlite:///{tmp_path / 'readme.db'}"
    for line in joined.splitlines():
        line = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
        if not line:
            continue
        line = line.replace("2026-11-26", date.today().isoformat())
        argv = shlex.split(line)
        assert argv[0] == "tatulasu"
        done = subprocess.run(
            [sys.executable, "-m", "tatulasu", *argv[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
