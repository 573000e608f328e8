"""docker-compose.yml parses, and every command it runs exists in the CLI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import typer.main
import yaml

from tatulasu.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _cli_commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_every_tatulasu_command_in_compose_exists_in_the_cli() -> None:
    commands = _cli_commands()
    used = []
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if not command or command[0] != "tatulasu":
            continue
        assert command[1] in commands, f"service {name}: no `tatulasu {command[1]}`"
        options = {p for param in commands[command[1]].params for p in param.opts}
        for word in command[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"service {name}: unknown option {word}"
        used.append(command[1])
    assert {"init", "serve", "worker", "beat"} <= set(used)


def test_flower_runs_on_the_importable_celery_app() -> None:
    flower = _compose()["services"]["flower"]["command"]
    assert flower[:3] == ["celery", "--app", "tatulasu.celery_app"]
    import tatulasu.celery_app as module

    assert "tatulasu.sweep" in module.app.tasks
    assert "tatulasu.dispatch" in module.app.tasks


def test_the_deployment_has_one_beat_scalable_workers_and_shared_settings() -> None:
    services = _compose()["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "container_name" not in services["worker"]  # `--scale worker=N` needs this
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    for name in ("migrate", "api", "worker", "beat", "flower"):
        env = services[name]["environment"]
        assert env["TATULASU_DATABASE_URL"].startswith("postgresql://")
        assert env["TATULASU_BROKER_URL"].startswith("redis://")
    assert set(_compose()["volumes"]) == {"pgdata", "redisdata"}


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")]


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in _dockerfile() if line.split()[0] == name]


def test_the_image_installs_the_lock_and_pins_its_base() -> None:
    (base,) = (a for a in _instructions("ARG") if a.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.\d+\.\d+-slim-\w+", base), base
    runs = " ".join(_instructions("RUN"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    uv = next(p["version"] for p in lock["package"] if p["name"] == "uv")
    assert f"uv=={uv}" in runs
    assert runs.count("uv sync --locked") == 2
    assert "apt-get install -y --no-install-recommends graphviz" in runs  # `dot` for SVG


def test_the_image_runs_unprivileged_in_a_data_directory_it_owns() -> None:
    (user,) = _instructions("USER")
    assert user not in ("root", "0", "nobody")
    runs = " ".join(_instructions("RUN"))
    assert f"--home-dir /var/lib/{user}" in runs and "--create-home" in runs
    assert _instructions("WORKDIR")[-1] == f"/var/lib/{user}"
    env = " ".join(_instructions("ENV"))
    assert f"TATULASU_DATABASE_URL=sqlite:////var/lib/{user}/" in env


def test_the_image_serves_on_its_exposed_port_with_a_healthcheck() -> None:
    assert _instructions("EXPOSE") == ["8000"]
    (health,) = _instructions("HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in health
    (cmd,) = _instructions("CMD")
    assert "tatulasu init" in cmd and "tatulasu serve --host 0.0.0.0 --port 8000" in cmd


def test_compose_takes_secrets_from_the_environment_not_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert re.search(r"tatulasu:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres", text)
    assert _compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD=\n" in example and "FLOWER_BASIC_AUTH=\n" in example
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_flower_is_behind_basic_auth_on_the_loopback_only() -> None:
    flower = _compose()["services"]["flower"]
    assert flower["profiles"] == ["ops"]
    assert any(w.startswith("--basic-auth=${FLOWER_BASIC_AUTH:?") for w in flower["command"])
    assert flower["ports"] == ["127.0.0.1:5555:5555"]


def test_every_long_running_service_has_a_healthcheck_or_says_why_not() -> None:
    for name, service in _compose()["services"].items():
        assert "healthcheck" in service, f"{name} inherits the image's HTTP healthcheck"
