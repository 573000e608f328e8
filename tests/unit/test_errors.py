"""The public exception surface: exactly the intended names, one root."""

from __future__ import annotations

import inspect

import pytest

import workflow.errors as errors
from states.errors import InvalidDefinition, TatulasuError

INTENDED = {
    "TatulasuError",
    "InvalidDefinition",
    "InvalidCalendar",
    "InvalidInput",
    "InvalidField",
    "InvalidIdentifier",
    "NotAllowed",
    "EventNotAllowed",
    "GuardFailed",
    "CaseSuspended",
    "RoleNotAllowed",
    "PartyRoleNotAllowed",
    "Conflict",
    "StaleVersion",
    "ConcurrentUpdate",
    "IdempotencyKeyReused",
    "DuplicateCase",
    "ReportNotReady",
    "NotRetryable",
    "ReportIdReused",
    "NotFound",
    "StoreError",
    "StoreUnavailable",
    "HistoryIsAppendOnly",
    "UnknownEvent",
    "Unavailable",
    "StoreMisconfigured",
    "MissingDependency",
    "KeyFileError",
    "HeadsRefused",
    "HeadsUnsigned",
    "SignatureMismatch",
    "PublicKeyMissing",
    "HeadsMalformed",
    "ConcurrentInsert",
    "ConstraintViolated",
    "ReplayRefused",
    "NoMoveRule",
}


def test_the_module_exports_exactly_the_intended_names() -> None:
    assert set(errors.__all__) == INTENDED
    assert len(errors.__all__) == len(INTENDED)
    assert list(errors.__all__) == sorted(errors.__all__)


def test_every_exported_name_exists_and_is_an_exception_under_the_root() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert inspect.isclass(cls), name
        assert issubclass(cls, TatulasuError), name
        assert cls.__doc__, f"{name} has no docstring"


def test_every_exception_class_defined_in_the_module_is_exported() -> None:
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    assert defined == INTENDED


def test_the_root_is_shared_with_the_definition_errors() -> None:
    assert errors.TatulasuError is TatulasuError
    assert errors.InvalidDefinition is InvalidDefinition


@pytest.mark.parametrize(
    ("cls", "category"),
    [
        ("InvalidField", "InvalidInput"),
        ("InvalidIdentifier", "InvalidField"),
        ("EventNotAllowed", "NotAllowed"),
        ("GuardFailed", "NotAllowed"),
        ("CaseSuspended", "NotAllowed"),
        ("RoleNotAllowed", "NotAllowed"),
        ("StaleVersion", "Conflict"),
        ("ConcurrentUpdate", "Conflict"),
        ("IdempotencyKeyReused", "Conflict"),
        ("DuplicateCase", "Conflict"),
        ("ReportNotReady", "Conflict"),
        ("ReportIdReused", "Conflict"),
        ("StoreUnavailable", "StoreError"),
        ("StoreMisconfigured", "StoreError"),
        ("StoreError", "Unavailable"),
        ("MissingDependency", "Unavailable"),
        ("UnknownEvent", "InvalidField"),
        ("KeyFileError", "Unavailable"),
        ("HeadsRefused", "InvalidInput"),
        ("HeadsUnsigned", "HeadsRefused"),
        ("SignatureMismatch", "HeadsRefused"),
        ("PublicKeyMissing", "HeadsRefused"),
        ("InvalidCalendar", "InvalidDefinition"),
        ("HeadsMalformed", "HeadsRefused"),
        ("ConcurrentInsert", "Conflict"),
        ("ConstraintViolated", "StoreError"),
        ("NoMoveRule", "NotAllowed"),
    ],
)
def test_errors_can_be_caught_by_category(cls: str, category: str) -> None:
    assert issubclass(getattr(errors, cls), getattr(errors, category))


def test_categories_do_not_overlap() -> None:
    categories = [errors.InvalidInput, errors.NotAllowed, errors.Conflict, errors.NotFound]
    categories += [errors.Unavailable, InvalidDefinition]
    for a in categories:
        for b in categories:
            assert a is b or not issubclass(a, b), (a, b)


def test_structured_errors_carry_their_fields_and_a_readable_message() -> None:
    exc = errors.EventNotAllowed("approve", "referred", ["decline", "accept"])
    assert (exc.event, exc.state, exc.allowed) == ("approve", "referred", ["accept", "decline"])
    assert str(exc) == (
        "event 'approve' is not allowed in state 'referred'; allowed: accept, decline"
    )
    stale = errors.StaleVersion(7, 2, 3)
    assert (stale.case_id, stale.expected, stale.current) == (7, 2, 3)
    assert "version 3, not 2" in str(stale)
