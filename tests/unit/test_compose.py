"""docker-compose.yml parses, and every command it runs exists in the CLI."""

from __future__ import annotations

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
