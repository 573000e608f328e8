"""One exception tree: defined in the layers' errors modules, drawn whole, mapped by each
interface, and the only exceptions tatulasu lets out (no KeyError, ValueError, nor a
driver's IntegrityError).

The source files are read with `ast`, not imported, so a module with import side
effects (the Alembic environment, the ASGI application) is checked too.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import importlib
import inspect
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import RedirectResponse

import states
import workflow.errors
from states.definition import load as definition_load
from states.definition import parse
from states.errors import InvalidDefinition, TatulasuError
from tatulasu.api.problems import SERVER_SIDE, STATUS, status_of
from tatulasu.errors import GraphvizMissing, mapped_by, nearest
from tatulasu.exits import BROKEN, CODES, exit_code
from tatulasu.web.errors import PAGES
from workflow import audit
from workflow.calendar_data import load as calendar_load
from workflow.errors import (
    ConcurrentInsert,
    ConstraintViolated,
    GuardFailed,
    HeadsMalformed,
    InvalidCalendar,
    StoreError,
)
from workflow.store import Store

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("states", "workflow", "tasks", "tatulasu")
# Where an exception class may be defined: the errors module of each layer.
ERROR_MODULES = {
    "states.errors": "the root and the definition errors",
    "workflow.errors": "the engine's errors, and the drawing of the whole tree",
    "tasks.errors": "the sinks' delivery errors",
    "tatulasu.errors": "the errors only an interface raises (requests, pages, diagram)",
}


# ------------------------------------------------------------------- reading the source


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_sources() -> dict[str, str]:
    return {
        module_of(path): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


class Scanner:
    """Which classes of some modules' source are exceptions, their bases followed through
    our imports to the standard library's or a third party's classes (imported to look)."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.classes: dict[str, dict[str, list[ast.expr]]] = {}
        self.imports: dict[str, dict[str, str]] = {}
        for module, text in sources.items():
            tree = ast.parse(text)
            self.classes[module] = {
                n.name: n.bases for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
            }
            self.imports[module] = dict(self._imports(module, tree))
        self._known: dict[str, bool] = {}

    def _imports(self, module: str, tree: ast.Module) -> Iterator[tuple[str, str]]:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    yield bound, alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.split(".")[: -node.level]
                    base = ".".join([*package, *([base] if base else [])])
                for alias in node.names:
                    yield alias.asname or alias.name, f"{base}.{alias.name}"

    def exceptions(self) -> dict[str, list[str]]:
        """Each module's exception classes, by name."""
        found = {
            module: sorted(c for c in classes if self.is_exception(f"{module}.{c}"))
            for module, classes in self.classes.items()
        }
        return {m: names for m, names in found.items() if names}

    def is_exception(self, qualified: str) -> bool:
        if qualified not in self._known:
            self._known[qualified] = False  # a cycle is no exception
            self._known[qualified] = self._resolve(qualified)
        return self._known[qualified]

    def _resolve(self, qualified: str) -> bool:
        module, _, name = qualified.rpartition(".")
        if module in self.classes:
            if name in self.classes[module]:
                return any(self._base(module, b) for b in self.classes[module][name])
            target = self.imports[module].get(name)
            return target is not None and self.is_exception(target)
        return _foreign_exception(qualified)

    def _base(self, module: str, node: ast.expr) -> bool:
        if isinstance(node, ast.Subscript):  # Generic[T] and the like
            return self._base(module, node.value)
        dotted = _dotted(node)
        if dotted is None:
            return False
        head, _, rest = dotted.partition(".")
        if head in self.classes[module] and not rest:
            start = f"{module}.{head}"
        elif head in self.imports[module]:
            start = self.imports[module][head]
        elif hasattr(builtins, head):
            start = f"builtins.{head}"
        else:
            return False
        return self.is_exception(f"{start}.{rest}" if rest else start)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _foreign_exception(qualified: str) -> bool:
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr, None)
        return inspect.isclass(found) and issubclass(found, BaseException)
    return False


SCANNED = Scanner(our_sources()).exceptions()


def test_the_scanner_finds_exception_classes_through_imports_and_parents() -> None:
    sources = {
        "pkg.base": "class Oops(ValueError):\n    pass\n\nclass Plain:\n    pass\n",
        "pkg.user": (
            "from pkg.base import Oops, Plain\n"
            "import sqlalchemy as sa\n"
            "from starlette.exceptions import HTTPException\n"
            "class Deep(Oops): ...\n"
            "class Driver(sa.exc.IntegrityError): ...\n"
            "class Web(HTTPException): ...\n"
            "class NotOne(Plain): ...\n"
            "def f():\n    class Hidden(Exception): ...\n"
        ),
    }
    assert Scanner(sources).exceptions() == {
        "pkg.base": ["Oops"],
        "pkg.user": ["Deep", "Driver", "Hidden", "Web"],
    }


def test_exception_classes_are_defined_only_in_the_errors_modules() -> None:
    outside = {m: names for m, names in SCANNED.items() if m not in ERROR_MODULES}
    assert outside == {}, "define these in the errors module of their layer (and draw them)"


# ------------------------------------------------------------------------- the tree


def _errors_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in ERROR_MODULES]


TREE: list[type[TatulasuError]] = sorted(
    (
        obj
        for module in _errors_modules()
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, TatulasuError)
        and obj.__module__ == module.__name__
    ),
    key=lambda cls: cls.__name__,
)
BELOW_ROOT = [cls for cls in TREE if cls is not TatulasuError]


def test_every_exception_of_the_errors_modules_is_under_the_root() -> None:
    defined = {
        (module.__name__, name)
        for module in _errors_modules()
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == module.__name__
    }
    assert {(c.__module__, c.__name__) for c in TREE} == defined
    # ...and what the source says is what the modules hold: the scanner misses none.
    assert {(m, n) for m, names in SCANNED.items() for n in names} == defined


def test_each_class_is_defined_once() -> None:
    names = [cls.__name__ for cls in TREE]
    assert len(names) == len(set(names))


def _drawing() -> list[tuple[int, str]]:
    """(depth, name) of each line of the tree drawn in `workflow.errors`."""
    doc = workflow.errors.__doc__ or ""
    lines: list[tuple[int, str]] = []
    for line in doc.splitlines():
        found = re.match(r" {4}[│├└─ ]*([A-Z]\w+)", line)
        if found is not None and (not lines or line.lstrip()[0] in "│├└"):
            lines.append(((found.start(1) - 4) // 4, found.group(1)))  # 4 columns a level
    return lines


def test_the_drawing_names_every_class_once_under_its_parent() -> None:
    drawn = _drawing()
    names = [name for _, name in drawn]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(cls.__name__ for cls in TREE)
    by_name = {cls.__name__: cls for cls in TREE}
    parents: list[str] = []
    for depth, name in drawn:
        del parents[depth:]
        if parents:
            assert by_name[name].__bases__[0].__name__ == parents[-1], name
        parents.append(name)


# ------------------------------------------------------------ each interface maps it


@pytest.mark.parametrize(("interface", "table"), [("HTTP", STATUS), ("CLI", CODES), ("web", PAGES)])
@pytest.mark.parametrize("cls", BELOW_ROOT, ids=lambda cls: cls.__name__)
def test_each_interface_maps_each_class_of_the_tree(
    interface: str, table: Mapping[type[TatulasuError], object], cls: type[TatulasuError]
) -> None:
    assert TatulasuError in table, f"{interface}: the root is the fallback"
    assert mapped_by(table, cls) is not TatulasuError, f"{interface} does not map {cls}"


def test_only_the_classes_declared_server_side_answer_500() -> None:
    at_500 = {cls for cls in BELOW_ROOT if STATUS[mapped_by(STATUS, cls)] >= 500}
    at_500 -= {cls for cls in at_500 if STATUS[mapped_by(STATUS, cls)] == 503}
    assert at_500 == {cls for cls in BELOW_ROOT if issubclass(cls, SERVER_SIDE)}
    assert all(CODES[mapped_by(CODES, cls)] == BROKEN for cls in at_500)


def test_a_new_subclass_answers_as_its_parent_does_everywhere() -> None:
    class NewGuardRefusal(GuardFailed):
        """A refusal added later, mapped by no table."""

    new = NewGuardRefusal("extend", "in_mediation", ["extension_available"])
    parent = GuardFailed("extend", "in_mediation", ["extension_available"])
    assert (status_of(new), exit_code(new)) == (status_of(parent), exit_code(parent)) == (409, 3)
    assert nearest(PAGES, new) is nearest(PAGES, parent)


def _request(path: str = "/web/cases") -> Request:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    return Request(scope)


def test_a_page_of_an_unauthenticated_request_is_the_sign_in_page() -> None:
    from tatulasu.errors import SignInRequired

    error = SignInRequired("sign in")
    answer = nearest(PAGES, error)(_request(), error)
    assert isinstance(answer, RedirectResponse) and answer.status_code == 303


def test_a_missing_graphviz_is_the_servers_failure_not_the_clients() -> None:
    error = GraphvizMissing(["Graphviz's `dot` program"])
    assert (status_of(error), exit_code(error)) == (503, BROKEN)


# ------------------------------------------------- no foreign exception gets out


@pytest.mark.parametrize(
    "doc",
    [[], {"format": "something-else"}, {"cases": {}}, "tatulasu-audit-heads/2"],
    ids=["a list", "another format", "no format", "a string"],
)
def test_parse_heads_refuses_what_is_not_a_heads_file_with_a_tree_error(doc: Any) -> None:
    with pytest.raises(HeadsMalformed, match="not a tatulasu audit heads file"):
        audit.parse_heads(doc, Ed25519PrivateKey.generate().public_key())


def test_parse_heads_refuses_signed_heads_of_the_wrong_shape_with_a_tree_error() -> None:
    key = Ed25519PrivateKey.generate()
    for cases in ({"x": {"version": 1, "head": "0"}}, {"1": "head"}, {"1": {"head": "0"}}):
        signed = audit.sign_heads(cases, key, "2026-01-01T00:00:00.000000Z")  # type: ignore[arg-type]
        with pytest.raises(HeadsMalformed, match="not case = "):
            audit.parse_heads(signed, key.public_key())


def test_the_store_translates_integrity_errors(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'integrity.db'}")
    with store.transaction() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE NOT NULL)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1, 'a')"))
    unique = pytest.raises(ConcurrentInsert, match=r"UNIQUE constraint failed: t\.k")
    with unique, store.transaction() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (2, 'a')"))
    with pytest.raises(ConstraintViolated, match="NOT NULL") as caught, store.transaction() as c:
        c.execute(sa.text("INSERT INTO t (id) VALUES (3)"))
    assert isinstance(caught.value, StoreError)
    with store.reading() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
    store.dispose()


# ------------------------------------------------ a malformed lifecycle file


SHIPPED: dict[str, Any] = tomllib.loads(
    (Path(states.__file__).parent / "lifecycle_v1.toml").read_text(encoding="utf-8")
)


def _at(raw: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        raw = raw[key]
    return raw


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(SHIPPED)
    parent = _at(raw, path[:-1])
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return raw


_DELETE = object()
TERM = ("states", "in_mediation", "term")


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"),
    [
        (TERM, 30, "state 'in_mediation' term", "must be a table"),
        ((*TERM, "extension"), 30, "term extension", "must be a table"),
        ((*TERM, "extension", "days"), "thirty", "term extension", "days must be a whole"),
        ((*TERM, "extension", "times"), _DELETE, "term extension", "times must be a whole"),
        ((*TERM, "on_expiry", 0, "event"), _DELETE, "term on_expiry", "must name its event"),
        ((*TERM, "on_expiry", 0), "fail", "term on_expiry", "must be a table"),
        ((*TERM, "on_expiry", 0, "after"), "soon", "state 'in_mediation' term", "wrong type"),
        ((*TERM, "reminders"), ["three"], "state 'in_mediation' term", "wrong type"),
        (("states", "referred"), [1], "state 'referred'", "wrong type"),
        (("events", "accept"), 1.5, "event 'accept'", "wrong type"),
        (("events", "accept", "payload"), [1], "event 'accept'", "wrong type"),
        (("events", "accept", "kind"), ["a"], "event 'accept'", "wrong type"),
        (("reasons",), 7, "file", "wrong type"),
    ],
)
def test_a_malformed_definition_is_refused_by_name(
    path: tuple[Any, ...], value: Any, where: str, reason: str
) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        parse(_changed(path, value), source="broken.toml")
    assert where in caught.value.where
    assert reason in caught.value.reason


def test_a_file_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(InvalidDefinition, match="file"):
        parse([], source="broken.toml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("read", "error"), [(definition_load, InvalidDefinition), (calendar_load, InvalidCalendar)]
)
def test_a_definition_file_not_in_utf8_is_refused_as_a_definition_error(
    tmp_path: Path, read: Callable[[Path], object], error: type[InvalidDefinition]
) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "Médiation"'.encode("latin-1"))
    with pytest.raises(error, match=r"latin1\.toml"):
        read(path)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _paths(child, (*prefix, key))


# Every place of the shipped file but its words (titles, explanations, sources), which
# any text may replace.
WORDS = {"title", "needs", "source", "reason_titles", "procedures"}
PATHS = sorted((p for p in _paths(SHIPPED) if not WORDS & set(map(str, p))), key=repr)
SCALARS = st.integers(-2, 40) | st.text(max_size=4) | st.booleans() | st.floats(allow_nan=False)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
Change = Callable[[dict[str, Any]], None]


@st.composite
def changes(draw: st.DrawFn) -> Change:
    path = draw(st.sampled_from(PATHS))
    value = draw(st.just(_DELETE) | TOML_VALUES)

    def change(raw: dict[str, Any]) -> None:
        parent = _at(raw, path[:-1])
        if value is _DELETE and isinstance(parent, dict):
            del parent[path[-1]]
        elif value is not _DELETE:
            parent[path[-1]] = copy.deepcopy(value)

    return change


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(changes(), min_size=1, max_size=3))
def test_whatever_is_malformed_the_parser_raises_only_invalid_definition(
    edits: list[Change],
) -> None:
    raw = copy.deepcopy(SHIPPED)
    for edit in edits:
        try:
            edit(raw)
        except (KeyError, IndexError, TypeError):
            break  # an earlier change took the path away
    with contextlib.suppress(InvalidDefinition):  # anything else fails the test
        parse(raw, source="fuzzed.toml")
