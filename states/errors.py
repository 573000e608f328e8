"""The root of tatulasu's exceptions, and the one raised while loading a lifecycle.

The root lives here because `states` is the lowest layer: everything else may import
it, and it imports nothing of ours. The whole tree is drawn in `workflow.errors`.
"""

from __future__ import annotations


class TatulasuError(Exception):
    """Base class of every error tatulasu raises on purpose."""


class InvalidDefinition(TatulasuError):
    """A lifecycle definition is broken; raised when it is loaded, never at run time."""

    def __init__(self, source: str, where: str, reason: str) -> None:
        self.source = source
        self.where = where
        self.reason = reason
        super().__init__(f"{source}: {where}: {reason}")
