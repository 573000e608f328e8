"""The errors only an interface raises, and how an interface looks an error up.

They are branches of the one tree drawn in `workflow.errors`, under the category that
says what the caller should do next (a request without credentials, a scope refused, a
body too large, a tool missing on the server), so whoever catches by category catches
them too. They live here, not in `workflow`, because nothing below the interfaces has
requests, sessions, forms or diagrams.

Each interface maps the tree in one table by class (`tatulasu.api.problems`,
`tatulasu.exits`, `tatulasu.web.errors`) and reads it with `nearest`: the nearest class
of the error's MRO that the table names decides, so a new subclass gets its parent's
status, exit code and page until it is given its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from workflow.errors import InvalidInput, MissingDependency, NotAllowed, TatulasuError

if TYPE_CHECKING:
    from workflow.users import User

T = TypeVar("T")


class Unauthenticated(TatulasuError):
    """A valid bearer token is required."""


class SignInRequired(Unauthenticated):
    """The page needs a signed-in user."""


class Forbidden(NotAllowed):
    """The user's role or scope does not allow this request."""


class NoPages(Forbidden):
    """The user is signed in, but his role has no pages (yet)."""

    def __init__(self, user: User, page_roles: Iterable[str]) -> None:
        self.user = user
        super().__init__(
            f"the role {user.role!r} has no pages yet; pages are for {', '.join(page_roles)}"
        )


class CsrfRefused(Forbidden):
    """The form's CSRF token is missing or wrong."""


class BodyTooLarge(InvalidInput):
    """The request body is too large."""

    def __init__(self, limit: int, detail: str) -> None:
        self.field = "body"
        self.limit = limit
        super().__init__(detail)


class Unreadable(InvalidInput):
    """A referral file that cannot be read as a whole: what to tell the bailiff, and why."""

    def __init__(
        self, message: str, detail: str, values: dict[str, str] | None = None,
        columns: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        super().__init__(detail)
        self.message = message  # an English msgid with %(…)s placeholders
        self.detail = detail
        self.values = values or {}
        self.columns = columns  # missing columns, by their canonical names


class GraphvizMissing(MissingDependency):
    """SVG or PNG was asked for, but `dot` or the Python `graphviz` package is missing."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"SVG and PNG need {' and '.join(missing)}: install "
            f"{'them' if len(missing) > 1 else 'it'}, or use --format mermaid"
        )


def mapped_by(
    table: Mapping[type[TatulasuError], object], kind: type[TatulasuError]
) -> type[TatulasuError]:
    """The class of `kind`'s MRO nearest to `kind` that `table` names."""
    for cls in kind.__mro__:
        if issubclass(cls, TatulasuError) and cls in table:
            return cls
    raise LookupError(f"no class of {kind.__name__}'s MRO is in the table")


def nearest(table: Mapping[type[TatulasuError], T], error: TatulasuError) -> T:
    """What `table` says of `error`: the entry of the nearest class of its MRO."""
    return table[mapped_by(table, type(error))]
