"""Static checks of a scenario, before anything runs: operations, references, matchers, draws.

Every problem is a ``FileProblem`` placed by file, line and JSON pointer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from simulator.patterns import PatternError, compiled
from simulator.scenarios.matchers import JSON_TYPES, MATCHER_KEYS
from simulator.scenarios.refs import REF, REF_PATH
from simulator.schemas import Schemas, default_schemas_dir, pointer
from simulator.schemas import load as load_schemas

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # what $save names
# a step's request, and what it may expect after its answer
BODY_KEYS = ("json", "form", "raw")
REQUEST_KEYS = ("path", "query", "headers", *BODY_KEYS)
EXPECT_AFTER = ("expect_state", "expect_journal", "expect_outbox")


def scenario_schemas() -> Schemas:
    """The project's schemas (``schemas/``), loaded once."""
    return load_schemas(default_schemas_dir().resolve())


@dataclass(frozen=True)
class FileProblem:
    """One problem in a scenario file."""

    file: str
    line: int | None
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.pointer or '/'}: {self.message}"


class Checker:
    """Collects the problems of one file, each placed by pointer and line."""

    def __init__(self, file: str, lines: dict[str, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[FileProblem] = []

    def line(self, at: str) -> int | None:
        while True:
            if at in self.lines:
                return self.lines[at]
            if not at:
                return None
            at = at.rsplit("/", 1)[0]

    def add(self, at: str, message: str) -> None:
        self.problems.append(FileProblem(self.file, self.line(at), at, message))


@functools.cache
def known_operations() -> frozenset[str]:
    """Every declared ``vendor.operation`` (simulator/vendors/<vendor>/routes.py)."""
    from simulator.vendors import VENDORS

    return frozenset(f"{v.slug}.{op.name}" for v in VENDORS.values() for op in v.operations)


def check_steps(
    steps: list[dict[str, Any]], check: Checker, schemas: Schemas, given: Iterable[str] = ()
) -> set[str]:
    """Operations known, draws and matchers well formed, references to values that exist
    (``given``: names known from the start, the file's ``vars``); the names the steps save."""
    saved: set[str] = set(given)
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue  # the schema says what it should be
        at = f"/steps/{i}"
        op = step.get("operation")
        if isinstance(op, str) and op not in known_operations():
            check.add(f"{at}/operation", f"unknown operation {op}")
        for key in REQUEST_KEYS:
            if key in step:
                _check_draws(step[key], f"{at}/{key}", check, schemas)
                _check_refs(step[key], f"{at}/{key}", i, False, saved, check)
        expect = step.get("expect")
        if not isinstance(expect, dict):
            expect = {}
        _check_refs(expect, f"{at}/expect", i, True, saved, check)
        if "status" in expect and isinstance(expect["status"], dict):
            _check_expected(expect["status"], f"{at}/expect/status", check)
        for key in ("body", "headers"):
            if key in expect:
                _check_expected(expect[key], f"{at}/expect/{key}", check)
        saved |= set(_saves(expect))
        for key in EXPECT_AFTER:
            if key in step:
                _check_refs(step[key], f"{at}/{key}", i, True, saved, check)
                _check_expected(step[key], f"{at}/{key}", check)
                saved |= set(_saves(step[key]))
        verify = step.get("verify", [])
        saved |= check_verify(
            verify if isinstance(verify, list) else [], f"{at}/verify", i, saved, check
        )
    return saved


def check_verify(
    items: list[dict[str, Any]], at: str, index: int, saved: set[str], check: Checker
) -> set[str]:
    """``verify:`` items (request patterns and ``times``), checked after step ``index`` ran:
    matchers well formed, references to values saved by then; the names they save."""
    found: set[str] = set()
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            continue  # the schema says what it should be
        where = f"{at}/{k}"
        _check_refs(item, where, index, True, saved | found, check)
        for key, value in item.items():
            if key != "times":
                _check_expected(value, where + pointer([key]), check)
        found |= set(_saves(item))
    return found


def _saves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$save"), str):
            yield node["$save"]
        for v in node.values():
            yield from _saves(v)
    elif isinstance(node, list):
        for v in node:
            yield from _saves(v)


def _strings(node: Any, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield at, node
    elif isinstance(node, dict):
        for k, v in node.items():
            if k != "$save":
                yield from _strings(v, at + pointer([k]))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{at}/{i}")


def _check_refs(
    node: Any, at: str, index: int, after: bool, saved: set[str], check: Checker
) -> None:
    """Every ``${...}`` names a value that exists by the time it is used."""
    for where, text in _strings(node, at):
        for m in REF.finditer(text):
            ref = m.group(1)
            if ref is None:
                continue  # $${ is a literal ${
            if not REF_PATH.match(ref):
                check.add(where, f"${{{ref}}} is not a reference (name or steps.N.…)")
                continue
            parts = ref.split(".")
            if parts[0] == "steps":
                if len(parts) < 3 or not parts[1].isdigit():
                    check.add(where, f"${{{ref}}}: write steps.N.request.… or steps.N.response.…")
                    continue
                n = int(parts[1])
                if parts[2] not in ("request", "response"):
                    check.add(where, f"${{{ref}}}: after steps.{n} comes request or response")
                elif n > index or (n == index and not (after or parts[2] == "request")):
                    check.add(where, f"${{{ref}}} refers to step {n}, which has not run yet")
            elif parts[0] not in saved:
                check.add(where, f"${{{ref}}}: no earlier expectation saves '{parts[0]}'")


def matcher_problems(node: Any, at: str = "") -> list[tuple[str, str]]:
    """``(pointer, message)`` for each malformed matcher object in ``node`` (an expectation,
    or a request pattern of ``simulator.verify``)."""
    check = Checker("", {})
    _check_expected(node, at, check)
    return [(p.pointer, p.message) for p in check.problems]


def _check_expected(node: Any, at: str, check: Checker) -> None:
    """Matcher objects (any key starting with ``$``) are well formed."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_expected(v, f"{at}/{i}", check)
        return
    if not isinstance(node, dict):
        return
    dollar = [k for k in node if k.startswith("$")]
    if not dollar:
        for k, v in node.items():
            _check_expected(v, at + pointer([k]), check)
        return
    plain = [k for k in node if not k.startswith("$")]
    unknown = [k for k in dollar if k not in (*MATCHER_KEYS, "$save")]
    if plain or unknown:
        bad = ", ".join(plain + unknown)
        check.add(at, f"a matcher takes only {', '.join(MATCHER_KEYS)} and $save; not {bad}")
        return
    tests = [k for k in dollar if k != "$save"]
    if len(tests) > 1:
        check.add(at, f"one test per matcher, not {', '.join(tests)}")
        return
    if "$save" in node and not (isinstance(node["$save"], str) and NAME.match(node["$save"])):
        check.add(at + "/$save", "expected a name ([A-Za-z_][A-Za-z0-9_]*)")
    if node.get("$save") == "steps":
        check.add(at + "/$save", "'steps' is reserved")
    if not tests:
        return
    key, value = tests[0], node[tests[0]]
    where = at + pointer([key])
    if key == "$match":
        if not isinstance(value, str):
            check.add(where, "expected a regular expression")
        elif not REF.search(value):
            try:
                compiled(value)
            except PatternError as exc:
                check.add(where, f"not a regular expression: {exc}")
    elif key == "$type" and value not in JSON_TYPES:
        check.add(where, f"expected one of {', '.join(JSON_TYPES)}")
    elif key in ("$any", "$absent") and value is not True:
        check.add(where, "expected true")
    elif key == "$contains":
        if not isinstance(value, list):
            check.add(where, "expected a list of items that must each match some item")
        else:
            _check_expected(value, where, check)
    elif key == "$len" and not (isinstance(value, str) and REF.fullmatch(value)):
        # JSON Schema's integers include 3.0 (a client's JSON may write one so)
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or value < 0:
            check.add(where, "expected a length (an integer >= 0, or a ${reference})")


def _check_draws(node: Any, at: str, check: Checker, schemas: Schemas) -> None:
    """Every ``{"$draw": ...}`` names something to draw from."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_draws(v, f"{at}/{i}", check, schemas)
        return
    if not isinstance(node, dict):
        return
    if "$draw" not in node:
        for k, v in node.items():
            _check_draws(v, at + pointer([k]), check, schemas)
        return
    extra = set(node) - {"$draw", "pin", "extra"}
    if extra:
        check.add(at, f"a draw takes $draw, pin and extra; not {', '.join(sorted(extra))}")
    what = node["$draw"]
    where = at + "/$draw"
    if isinstance(what, str):
        if what not in known_operations():
            check.add(where, f"unknown operation {what}")
    elif isinstance(what, dict) and len(what) == 1:
        kind, arg = next(iter(what.items()))
        if kind == "schema":
            if isinstance(arg, str) and not schemas.has(arg):
                check.add(where + "/schema", f"no schema file {arg} under schemas/")
            elif not isinstance(arg, (str, dict)):
                check.add(where + "/schema", "expected a schema file name or a JSON Schema")
        elif kind == "regex":
            try:
                re.compile(arg)
            except (re.error, TypeError, OverflowError) as exc:  # a{4294967296}: Overflow
                check.add(where + "/regex", f"not a regular expression: {exc}")
        elif kind == "integers":
            if not (
                isinstance(arg, list)
                and len(arg) == 2
                and all(isinstance(a, int) and not isinstance(a, bool) for a in arg)
                and arg[0] <= arg[1]
            ):
                check.add(where + "/integers", "expected [min, max]")
        elif kind == "sampled_from":
            if not isinstance(arg, list) or not arg:
                check.add(where + "/sampled_from", "expected a non-empty list")
        else:
            check.add(
                where, "expected an operation, or one of schema, regex, integers, sampled_from"
            )
    else:
        check.add(where, "expected an operation, or one of schema, regex, integers, sampled_from")
    pin = node.get("pin", {})
    if not isinstance(pin, dict):
        check.add(at + "/pin", "expected an object of fields to fix")
    else:
        _check_draws(pin, at + "/pin", check, schemas)
        if pin and not isinstance(what, str) and not (isinstance(what, dict) and "schema" in what):
            check.add(at + "/pin", "pin goes with an operation or a schema")
    if "extra" in node and not isinstance(node["extra"], bool):
        check.add(at + "/extra", "expected true or false")
