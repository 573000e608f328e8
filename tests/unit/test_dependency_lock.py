"""uv.lock is the install: it agrees with pyproject.toml and is what this run imports.

`uv lock --check --offline` asks uv whether the lock still satisfies the project's
ranges without a registry (the tests talk only to 127.0.0.1).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
UV = str(Path(sys.executable).with_name("uv"))


def _lock() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def _uv_lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [UV, "lock", "--check", "--offline", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_lock_agrees_with_pyproject() -> None:
    done = _uv_lock_check(ROOT)
    assert done.returncode == 0, f"run `uv lock` and commit uv.lock:\n{done.stderr}"


def test_a_changed_range_makes_the_lock_check_fail(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pinned = _lock()["holidays"]
    assert f'"holidays=={pinned}"' in text
    pyproject.write_text(text.replace(f'"holidays=={pinned}"', '"holidays==0.50"'), "utf-8")
    assert _uv_lock_check(tmp_path).returncode != 0


def test_holidays_is_pinned_exactly_and_installed_at_that_version() -> None:
    """Working-day terms depend on it: an upgrade must be a reviewed change."""
    deps = [Requirement(d) for d in _project()["dependencies"]]  # type: ignore[attr-defined]
    holidays = next(r for r in deps if r.name == "holidays")
    (spec,) = holidays.specifier
    assert spec.operator == "=="
    assert spec.version == _lock()["holidays"] == metadata.version("holidays")


def test_every_direct_dependency_has_a_floor_and_a_ceiling() -> None:
    """A new major version is adopted on purpose, never by a fresh install."""
    optional: dict[str, list[str]] = _project()["optional-dependencies"]  # type: ignore[assignment]
    lines = [*_project()["dependencies"], *(d for ds in optional.values() for d in ds)]  # type: ignore[misc]
    loose = []
    for line in lines:
        req = Requirement(line)
        operators = {s.operator for s in req.specifier}
        if "==" in operators or req.name == "tzdata":  # tzdata follows the IANA database
            continue
        if not {">=", "<"} <= operators:
            loose.append(line)
    assert loose == []


@pytest.mark.parametrize("extra", [None, "test"])
def test_this_run_imports_the_locked_versions(extra: str | None) -> None:
    """The environment running the suite was installed from the lock, not resolved anew."""
    project = _project()
    wanted = [Requirement(d) for d in project["dependencies"]]  # type: ignore[attr-defined]
    if extra:
        wanted += [Requirement(d) for d in project["optional-dependencies"][extra]]  # type: ignore[index]
    locked = _lock()
    differ = {}
    for req in wanted:
        name = canonicalize_name(req.name)
        installed = metadata.version(req.name)
        if installed != locked[name]:
            differ[name] = (installed, locked[name])
    assert differ == {}, "installed vs locked; run `uv sync --locked --extra test`"
