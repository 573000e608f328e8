"""`python -m tatulasu`: the same command as the `tatulasu` console script."""

from __future__ import annotations

from tatulasu.cli import app

app(prog_name="tatulasu")
