"""The query parameters of the pages, checked as the API checks its own.

A form sends an empty field as `name=`; for the pages that means "not given", so blanks
become None before a value is checked. What a value means (a state of the lifecycle, a
region) is checked against the same vocabularies the engine uses, naming the field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BeforeValidator, StringConstraints

import states
from workflow.errors import InvalidField
from workflow.regions import REGIONS
from workflow.search import Order
from workflow.users import User

PAGE_SIZE = 50


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Short = Annotated[str, StringConstraints(max_length=40)]
Long = Annotated[str, StringConstraints(max_length=80)]
State = Annotated[Short | None, BeforeValidator(_blank_is_none), Query()]
Region = Annotated[Short | None, BeforeValidator(_blank_is_none), Query()]
Centre = Annotated[Long | None, BeforeValidator(_blank_is_none), Query()]
Day = Annotated[date | None, BeforeValidator(_blank_is_none), Query()]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
Sort = Annotated[Order | None, BeforeValidator(_blank_is_none), Query()]
OpenOnly = Annotated[bool, Query(alias="open")]


@functools.cache
def all_states() -> tuple[str, ...]:
    """Every state of every lifecycle version: old cases keep the version they began with."""
    return tuple(sorted({s for v in states.versions() for s in states.get(v).states}))


def known_state(state: str | None) -> str | None:
    if state is not None and state not in all_states():
        raise InvalidField("state", f"{state!r} is not a state of the lifecycle")
    return state


def regions_for(user: User) -> dict[str, str]:
    """The regions a user may choose from: all for one without a region (an admin), else his.

    A supervisor of East Kazakhstan is offered East Kazakhstan, not twenty regions of
    which nineteen would be refused.
    """
    if user.region is None:
        return dict(REGIONS)
    return {code: name for code, name in REGIONS.items() if code == user.region}


def known_region(region: str | None) -> str | None:
    if region is not None and region not in REGIONS:
        raise InvalidField("region", f"{region!r} is not one of {', '.join(REGIONS)}")
    return region


@dataclass(frozen=True)
class Paging:
    """Page `number` of `pages`, and the links to its neighbours."""

    number: int
    pages: int
    total: int
    previous: str | None
    next: str | None


def offset(number: int) -> int:
    return (number - 1) * PAGE_SIZE


def paging(request: Request, number: int, total: int) -> Paging:
    """The links keep every other parameter of the page's own address.

    They are relative (path and query): the request's `Host` is the client's word, and a
    forged one must never become a link on the page.
    """

    def link(n: int) -> str:
        address = request.url.include_query_params(page=n)
        return f"{address.path}?{address.query}"

    pages = max(1, -(-total // PAGE_SIZE))
    return Paging(
        number=number,
        pages=pages,
        total=total,
        previous=link(number - 1) if number > 1 else None,
        next=link(number + 1) if number < pages else None,
    )
