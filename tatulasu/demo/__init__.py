"""`tatulasu demo`: a reproducible year of a reconciliation centre in East Kazakhstan."""

from __future__ import annotations

from tatulasu.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
