"""The README's commands are the ones that work: checked by running them."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _walkthrough() -> str:
    """The blocks of "Using it" then "HTTP API", as a newcomer pastes them: one script."""
    blocks = _bash_blocks("Using it") + _bash_blocks("HTTP API")
    return "set -euo pipefail\n" + "\n".join(blocks)


def _end_group(process: subprocess.Popen[str]) -> None:
    """Whatever the script left running (the API server if a step failed) ends too."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_readme_walkthroughs_run_in_order_in_a_fresh_directory(tmp_path: Path) -> None:
    """The bash blocks of "Using it" and "HTTP API", pasted in order, all succeed.

    A fresh directory and SQLite file; the API on a free port (`PORT`); PATH starts with
    this interpreter's bin, so `tatulasu` and `uvicorn` are the installed ones.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env |= {
        "TATULASU_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PORT": str(_free_port()),
    }
    script = subprocess.Popen(
        ["bash", "-c", _walkthrough()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = script.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        _end_group(script)
        out, err = script.communicate()
        raise AssertionError(f"the walkthrough hung\n{out}\n{err}") from None
    finally:
        _end_group(script)
    assert script.returncode == 0, f"{out}\n{err}"
    for expected in (
        "opened case 1: referred",
        "start_mediation: pre_trial → in_mediation (version 4)",
        "audit chain verified: 4 events in 1 cases",
        '"case_id":2,"seq":1,"version":1,"event":"refer","from_state":"new","to_state":"referred"',
        '"total":1,',
        'etag: "1"',
        '"event":"accept","from_state":"referred","to_state":"pre_trial"',
        '"rows":3,"imported":3,"rejected":0',
    ):
        assert expected in out, f"{expected!r} not in\n{out}\n{err}"
    assert not re.search(r'"status":\s*[45]\d\d', out), out
    shipped = (ROOT / "examples" / "referrals.csv").read_text(encoding="utf-8")
    assert (tmp_path / "referrals.csv").read_text(encoding="utf-8") == shipped
