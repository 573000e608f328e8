"""CLI start-up: wall time of `tatulasu --help`, `tatulasu show 1` vs. `python -c pass`.

Each command runs in a fresh process, in alternating rounds with the reference (an empty
Python start-up of the same interpreter), against a small SQLite file made once with
`tatulasu demo --cases 20`. Bytecode is cached as an installed package has it (in a
temporary PYTHONPYCACHEPREFIX, even under PYTHONDONTWRITEBYTECODE) and one run of each
command warms it. The median of the runs is reported, and how many modules
`import tatulasu.cli` loads.

    python -m bench.startup            # 10 runs of each
    python -m bench.startup --quick    # 3 runs of each
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, parser, print_table


def tatulasu_command() -> list[str]:
    """The `tatulasu` console script beside this interpreter, else `python -m tatulasu`."""
    script = Path(sys.executable).parent / "tatulasu"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tatulasu"]


def wall_ms(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds one run of `argv` takes, start to exit; it must succeed."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1e3


def modules_after(code: str) -> int:
    """How many modules are in sys.modules after running `code` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(len(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.split()[-1])


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    runs = 3 if args.quick else 10
    tatulasu = tatulasu_command()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'startup.db'}"
        env = {**os.environ, "TATULASU_DATABASE_URL": url, "PYTHONPYCACHEPREFIX": tmp}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [*tatulasu, "demo", "--cases", "20", "--database-url", url, "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        commands = {
            "tatulasu --help": [*tatulasu, "--help"],
            "tatulasu show 1": [*tatulasu, "show", "1"],
            "python -c 'import tatulasu.cli'": [sys.executable, "-c", "import tatulasu.cli"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():
            wall_ms(argv, env)
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(wall_ms(argv, env))
    median = {name: statistics.median(t) for name, t in times.items()}
    reference = median["python -c pass"]
    print_table(
        f"CLI start-up, wall time of a fresh process, median of {runs} runs",
        [
            Row(f"ms, {name}", median[name], reference, "ms", higher_is_better=False)
            for name in commands
            if name != "python -c pass"
        ]
        + [
            Row(
                "modules loaded by import tatulasu.cli",
                modules_after("import tatulasu.cli"),
                modules_after("pass"),
                "modules",
                higher_is_better=False,
            )
        ],
        "python -c pass",
    )
    for name, t in times.items():
        print(f"runs {name}: {[round(ms) for ms in t]}")


if __name__ == "__main__":
    main()
