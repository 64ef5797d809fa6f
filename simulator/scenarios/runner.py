"""Scenario files: load and check them, run them through crmsim's HTTP surface, report.

A scenario (YAML, ``schemas/sim/scenario.json``, ``docs/scenarios.md``) is a starting
state, a seed, a frozen time, fault rules and ordered steps. ``load()`` checks a file
completely before anything runs and names every problem by file, line and JSON pointer.
``Runner.run()`` plays it in a fresh namespace, in-process (a Flask test client of a fresh
app) or against a running crmsim (``target``); a scenario with a ``$draw`` runs as a
Hypothesis property test. Comparisons return ``(ok, reason)`` like the ``responses``
library's matchers; the report names each difference by pointer, expected and actual.

Nothing here imports Flask: the in-process transport builds its app lazily.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import yaml

from simulator.schemas import Schemas, default_schemas_dir, pointer, type_name
from simulator.schemas import load as load_schemas

DEFAULT_EXAMPLES = 25
CI_MAX_EXAMPLES = 25  # the ``ci`` Hypothesis profile of the test suite
JSON_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")
MATCHER_KEYS = ("$match", "$type", "$any", "$absent", "$contains", "$len", "$eq")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
REF_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$")
BODY_KEYS = ("json", "form", "raw")
REQUEST_KEYS = ("path", "query", "headers", *BODY_KEYS)
EXPECT_AFTER = ("expect_state", "expect_journal", "expect_outbox")


def _schemas() -> Schemas:
    return load_schemas(default_schemas_dir().resolve())


# -- problems in files --------------------------------------------------------------------
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


class ScenarioInvalid(Exception):
    """One or more scenario files are invalid; nothing was run."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class TargetUnreachable(Exception):
    """``--target`` does not answer as a crmsim."""


# -- loading ------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """Safe YAML, with times left as text (``frozen_at: 2024-06-01T12:00:00Z`` is a string)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _lines(node: yaml.Node, at: str, out: dict[str, int]) -> None:
    out.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = at + pointer([key.value])
            out[child] = key.start_mark.line + 1
            _lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _lines(value, f"{at}/{i}", out)


def _stringify_keys(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {str(k): _stringify_keys(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_stringify_keys(v) for v in doc]
    return doc


@dataclass
class Scenario:
    """A checked scenario file."""

    doc: dict[str, Any]
    given: dict[str, Any]
    file: str = "<scenario>"
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.doc["name"])

    @property
    def seed(self) -> int:
        return int(self.doc.get("seed", 0))

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.doc["steps"]
        return steps

    @property
    def is_property(self) -> bool:
        return any(_has_draw(step.get(k)) for step in self.steps for k in REQUEST_KEYS)

    @property
    def examples(self) -> int:
        return int(self.doc.get("examples", DEFAULT_EXAMPLES))


def _has_draw(node: Any) -> bool:
    if isinstance(node, dict):
        return "$draw" in node or any(_has_draw(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_draw(v) for v in node)
    return False


class _Checker:
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


def loads(text: str, file: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Parse and check a scenario; raises ``ScenarioInvalid`` naming every problem."""
    check = _Checker(file, {})
    try:
        node = yaml.compose(text, Loader=_Loader)
        doc = _stringify_keys(yaml.load(text, Loader=_Loader))  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioInvalid([FileProblem(file, line, "", f"not valid YAML: {problem}")]) from exc
    if node is not None:
        _lines(node, "", check.lines)
    if not isinstance(doc, dict):
        check.add("", "a scenario is a mapping with name and steps")
        raise ScenarioInvalid(check.problems)
    schemas = _schemas()
    for v in schemas.validate("sim/scenario.json", doc):
        extra = v["message"].partition(": ")[2].split(", ")
        if v["keyword"] == "additionalProperties" and v["message"].startswith("unexpected"):
            for name in extra:  # placed on the line of the key itself
                check.add(v["pointer"] + pointer([name]), f"unexpected property {name}")
        else:
            check.add(v["pointer"], v["message"])
    if check.problems:
        raise ScenarioInvalid(check.problems)
    given = _given(doc.get("given", {}), base_dir, check, schemas)
    _check_steps(doc["steps"], check, schemas)
    if check.problems:
        raise ScenarioInvalid(check.problems)
    return Scenario(doc, given, file, check.lines)


def load(path: str | Path) -> Scenario:
    """Load and check one scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalid([FileProblem(str(p), None, "", f"cannot read: {exc}")]) from exc
    return loads(text, str(p), p.parent)


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the ``*.yaml``/``*.yml`` files under directories named (sorted)."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml")))
        else:
            found.append(p)
    return found


def load_all(paths: Iterable[str | Path]) -> list[Scenario]:
    """Load every file (directories expanded); all problems of all files at once."""
    scenarios: list[Scenario] = []
    problems: list[FileProblem] = []
    files = expand(paths)
    if not files:
        raise ScenarioInvalid([FileProblem("<arguments>", None, "", "no scenario files found")])
    for p in files:
        try:
            scenarios.append(load(p))
        except ScenarioInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioInvalid(problems)
    return scenarios


def _given(
    raw: dict[str, Any], base_dir: Path | None, check: _Checker, schemas: Schemas
) -> dict[str, Any]:
    at = "/given"
    doc: Any = raw
    if set(raw) == {"file"}:
        name = raw["file"]
        if not isinstance(name, str) or not name:
            check.add(at + "/file", "expected a path to a JSON state document")
            return {}
        folder = (base_dir or Path.cwd()).resolve()
        path = (folder / name).resolve()
        # only files inside the scenario's own folder: no absolute paths, no way out by ..
        if Path(name).is_absolute() or not path.is_relative_to(folder):
            check.add(
                at + "/file",
                f"the state document must be inside the scenario's folder {folder}: {name}",
            )
            return {}
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            check.add(at + "/file", f"cannot load the state document {path}: {exc}")
            return {}
    for v in schemas.validate("sim/state.schema.json", doc):
        check.add(at + v["pointer"], v["message"])
    return doc if isinstance(doc, dict) else {}


@functools.cache
def known_operations() -> frozenset[str]:
    """Every ``vendor.operation`` that has a request schema."""
    return frozenset(
        n.removesuffix(".request.json").replace("/", ".")
        for n in _schemas().documents
        if n.endswith(".request.json") and n.count("/") == 1
    )


def _check_steps(steps: list[dict[str, Any]], check: _Checker, schemas: Schemas) -> None:
    saved: set[str] = set()
    for i, step in enumerate(steps):
        at = f"/steps/{i}"
        op = step.get("operation")
        if op is not None and op not in known_operations():
            check.add(f"{at}/operation", f"unknown operation {op}")
        for key in REQUEST_KEYS:
            if key in step:
                _check_draws(step[key], f"{at}/{key}", check, schemas)
                _check_refs(step[key], f"{at}/{key}", i, False, saved, check)
        expect = step["expect"]
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
    node: Any, at: str, index: int, after: bool, saved: set[str], check: _Checker
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


def _check_expected(node: Any, at: str, check: _Checker) -> None:
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
                re.compile(value)
            except re.error as exc:
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
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            check.add(where, "expected a length (an integer >= 0, or a ${reference})")


def _check_draws(node: Any, at: str, check: _Checker, schemas: Schemas) -> None:
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
            except (re.error, TypeError) as exc:
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


# -- comparing ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """What differed: where (a JSON pointer into the compared document), expected, actual."""

    pointer: str
    expected: Any
    actual: Any
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.pointer or '/'}: {self.reason}; expected {_show(self.expected)}, "
            f"actual {_show(self.actual)}"
        )


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


def _show(value: Any, limit: int = 200) -> str:
    if value is MISSING:
        return "(absent)"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_matcher(node: Any) -> bool:
    return isinstance(node, dict) and any(k.startswith("$") for k in node)


def _absent(node: Any) -> bool:
    return isinstance(node, dict) and node.get("$absent") is True


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def match_value(expected: Any, actual: Any) -> tuple[bool, str]:
    """``(ok, reason)`` for one matcher object or literal against one value."""
    found = differences(expected, actual)
    return (not found, "; ".join(str(d) for d in found))


def differences(
    expected: Any, actual: Any, at: str = "", saved: dict[str, Any] | None = None
) -> list[Difference]:
    """Where ``actual`` does not contain ``expected``: objects by subset, lists item by item
    (same length), other values by equality, matcher objects by their test. ``$save``
    stores the matched value into ``saved``."""
    out: list[Difference] = []
    _compare(expected, actual, at, out, saved if saved is not None else {})
    return out


def _compare(
    expected: Any, actual: Any, at: str, out: list[Difference], saved: dict[str, Any]
) -> None:
    if _is_matcher(expected):
        before = len(out)
        _matcher(expected, actual, at, out, saved)
        if len(out) == before and "$save" in expected and actual is not MISSING:
            saved[expected["$save"]] = actual
        return
    if actual is MISSING:
        out.append(Difference(at, expected, MISSING, "missing"))
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append(
                Difference(at, expected, actual, f"expected an object, got {type_name(actual)}")
            )
            return
        for k, v in expected.items():
            if k not in actual and not _absent(v):
                keys = ", ".join(map(str, actual)) or "nothing"
                out.append(Difference(at + pointer([k]), v, MISSING, f"missing (there is {keys})"))
                continue
            _compare(v, actual.get(k, MISSING), at + pointer([k]), out, saved)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(
                Difference(at, expected, actual, f"expected an array, got {type_name(actual)}")
            )
            return
        if len(expected) != len(actual):
            out.append(
                Difference(
                    at, expected, actual, f"expected {len(expected)} items, got {len(actual)}"
                )
            )
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _compare(e, a, f"{at}/{i}", out, saved)
        return
    if not _equal(expected, actual):
        out.append(Difference(at, expected, actual, "not equal"))


def _matcher(
    m: dict[str, Any], actual: Any, at: str, out: list[Difference], saved: dict[str, Any]
) -> None:
    tests = [k for k in m if k != "$save"] or ["$any"]
    key = tests[0]
    value = m.get(key, True)
    if key == "$absent":
        if actual is not MISSING:
            out.append(Difference(at, m, actual, "expected no value here"))
        return
    if actual is MISSING:
        out.append(Difference(at, m, MISSING, "missing"))
        return
    if key == "$any":
        return
    if key == "$eq":
        if not (_equal(value, actual) and type_name(value) == type_name(actual)):
            out.append(Difference(at, value, actual, "not equal"))
    elif key == "$type":
        got = type_name(actual)
        if not (got == value or (value == "number" and got == "integer")):
            out.append(Difference(at, m, actual, f"expected type {value}, got {got}"))
    elif key == "$match":
        if not isinstance(actual, str):
            out.append(Difference(at, m, actual, f"expected a string, got {type_name(actual)}"))
        elif not re.search(value, actual):
            out.append(Difference(at, m, actual, f"does not match /{value}/"))
    elif key == "$len":
        if isinstance(value, (str, list, dict)):  # a reference to a list: its length
            value = len(value)
        if not isinstance(actual, (str, list, dict)):
            out.append(Difference(at, m, actual, f"{type_name(actual)} has no length"))
        elif len(actual) != value:
            out.append(Difference(at, m, actual, f"expected length {value}, got {len(actual)}"))
    elif key == "$contains":
        if not isinstance(actual, list):
            out.append(Difference(at, m, actual, f"expected an array, got {type_name(actual)}"))
            return
        for i, item in enumerate(value):
            hits = [a for a in actual if not differences(item, a)]
            if hits:
                differences(item, hits[0], at, saved)  # run its $saves against the match
            else:
                out.append(Difference(f"{at}/$contains/{i}", item, actual, "no item matches"))


# -- references -----------------------------------------------------------------------------
class UnknownReference(Exception):
    """A ``${...}`` whose value does not exist at run time."""


def _walk(value: Any, parts: list[str], ref: str) -> Any:
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict):  # header names: any case
            lowered = {str(k).lower(): v for k, v in value.items()}
            if part.lower() not in lowered:
                raise UnknownReference(f"${{{ref}}}: no '{part}'")
            value = lowered[part.lower()]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise UnknownReference(f"${{{ref}}}: no '{part}'")
    return value


@dataclass
class Context:
    """What a running scenario has seen: the steps so far and the values saved."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    saved: dict[str, Any] = field(default_factory=dict)

    def lookup(self, ref: str) -> Any:
        parts = ref.split(".")
        if parts[0] == "steps":
            n = int(parts[1])
            if n >= len(self.steps):
                raise UnknownReference(f"${{{ref}}}: step {n} has not run")
            return _walk(self.steps[n], parts[2:], ref)
        if parts[0] not in self.saved:
            raise UnknownReference(f"${{{ref}}}: nothing saved as '{parts[0]}'")
        return _walk(self.saved[parts[0]], parts[1:], ref)

    def substitute(self, node: Any) -> Any:
        """``node`` with every ``${ref}`` replaced; a string that is only a reference takes
        the value itself (any type), else values are written into the text."""
        if isinstance(node, str):
            whole = REF.fullmatch(node)
            if whole and whole.group(1) is not None:
                return copy.deepcopy(self.lookup(whole.group(1)))

            def one(m: re.Match[str]) -> str:
                if m.group(1) is None:
                    return "${"
                value = self.lookup(m.group(1))
                return value if isinstance(value, str) else json.dumps(value)

            return REF.sub(one, node)
        if isinstance(node, dict):
            return {k: v if k == "$save" else self.substitute(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.substitute(v) for v in node]
        return node


def escape(node: Any) -> Any:
    """A value written into a scenario literally: ``${`` becomes ``$${``."""
    if isinstance(node, str):
        return node.replace("${", "$${")
    if isinstance(node, dict):
        return {k: escape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [escape(v) for v in node]
    return node


# -- transports -----------------------------------------------------------------------------
@dataclass
class Answer:
    """A vendor's answer as a step sees it; ``dropped``: the connection gave none."""

    status: int | None
    headers: dict[str, str]
    body: Any
    dropped: bool = False


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
    try:
        return json.loads(text)
    except ValueError:
        return text


class Transport(Protocol):
    """One namespace of a crmsim, in-process or over HTTP."""

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer: ...

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]: ...


class InProcess:
    """A namespace of an in-process app, through Flask's test client."""

    def __init__(self, app: Any, namespace: str) -> None:
        self.client = app.test_client()
        self.prefix = f"/__ns/{namespace}"

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        # a query written into the step's path joins the step's query (the test client
        # refuses a query in both places)
        path, _, inline = path.partition("?")
        try:
            r = self.client.open(
                self.prefix + path,
                method=method,
                query_string="&".join(q for q in (inline, urlencode(query)) if q),
                headers=headers,
                data=body,
            )
        except ConnectionError:  # a drop fault
            return Answer(None, {}, None, dropped=True)
        return Answer(r.status_code, dict(r.headers.items()), _decode(r.get_data()))

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        token = self.client.application.extensions["crmsim"].config.control_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.client.open(
            self.prefix + "/__sim" + path, method=method, json=doc, headers=headers
        )
        return r.status_code, _decode(r.get_data())


class Remote:
    """A namespace of a running crmsim, over HTTP."""

    def __init__(self, session: Any, target: str, namespace: str, token: str | None = None) -> None:
        self.session = session
        self.base = target.rstrip("/") + f"/__ns/{namespace}"
        self.target = target
        self.control_headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        import requests

        try:
            r = self.session.request(
                method, self.base + path, params=query, headers=headers, data=body, timeout=60
            )
        except requests.ConnectionError:
            return Answer(None, {}, None, dropped=True)
        return Answer(r.status_code, dict(r.headers.items()), _decode(r.content))

    def control(self, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
        r = self.session.request(
            method, self.base + "/__sim" + path, json=doc, headers=self.control_headers, timeout=60
        )
        check_control_answer(r, self.target)
        return r.status_code, _decode(r.content)


def check_target(target: str) -> None:
    """Raise ``TargetUnreachable`` with one clear sentence unless ``target`` is a crmsim."""
    import requests

    url = target.rstrip("/") + "/__sim/health"
    try:
        r = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        reason = type(exc).__name__.replace("Error", " error").strip()
        raise TargetUnreachable(
            f"crmsim is not reachable at {target} ({reason}); start one with `crmsim serve`"
            " or pass the right --target"
        ) from exc
    try:
        ok = r.status_code == 200 and r.json().get("status") in ("ok", "degraded")
    except ValueError:
        ok = False
    if not ok:
        raise TargetUnreachable(
            f"{target} answered GET /__sim/health with {r.status_code}: it is not a crmsim"
        )


def check_control_answer(r: Any, target: str) -> None:
    """Raise ``TargetUnreachable`` when ``target``'s control plane refused the token (401)."""
    if r.status_code == 401:
        raise TargetUnreachable(
            f"{target} wants a control token: pass --control-token or set CRMSIM_CONTROL_TOKEN"
            + (" (the one sent is not it)" if "Authorization" in r.request.headers else "")
        )


# -- results ------------------------------------------------------------------------------
@dataclass
class StepResult:
    """One step: what differed (nothing when it passed), or why it could not run."""

    index: int
    name: str
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences and self.error is None


@dataclass
class Result:
    """One scenario's outcome."""

    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    examples: int | None = None  # property scenarios: examples run
    minimal: str | None = None  # property scenarios: the smallest failing one, as YAML

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps)

    def report(self) -> str:
        """Plain text: the verdict, then per failing step what differed."""
        verdict = "PASS" if self.ok else "FAIL"
        extra = f", {self.examples} runs" if self.examples is not None else ""
        lines = [
            f"{verdict} {self.scenario.file}: {self.scenario.name} "
            f"({len(self.steps)} of {len(self.scenario.steps)} steps{extra}, {self.seconds:.2f}s)"
        ]
        if self.error:
            lines.append(f"  error: {self.error}")
        for s in self.steps:
            if s.ok:
                continue
            lines.append(f"  step {s.index} ({s.name}):")
            if s.error:
                lines.append(f"    {s.error}")
            lines.extend(f"    {d}" for d in s.differences)
        if self.minimal:
            lines.append("  smallest failing example, as a plain scenario:")
            lines.extend("    " + line for line in self.minimal.splitlines())
        return "\n".join(lines)


def step_name(step: dict[str, Any], index: int) -> str:
    label = step.get("name") or step.get("operation") or f"{step['method']} {step['path']}"
    return str(label)


# -- running --------------------------------------------------------------------------------
Draw = Callable[[Any, str], Any]


class Runner:
    """Runs scenarios, each in a fresh namespace: in-process by default, or on ``target``."""

    def __init__(
        self,
        target: str | None = None,
        app: Any = None,
        max_examples: int | None = None,
        control_token: str | None = None,
    ) -> None:
        self.target = target.rstrip("/") if target else None
        self.control_token = control_token
        if app is None and not self.target:
            # Built once, before any worker thread: scenarios running in parallel must share
            # it (namespaces keep them apart), and building apps on several threads at once
            # trips a CPython 3.11 bug in compile() ("AST constructor recursion depth").
            from simulator.app import create_app

            app = create_app()
        self._app = app
        self.max_examples = max_examples
        self._session: Any = None
        if self.target:
            import requests
            from requests.adapters import HTTPAdapter

            check_target(self.target)
            self._session = requests.Session()
            self._session.mount("http://", HTTPAdapter(pool_maxsize=32))
            # the control token, before any scenario runs (a 401 stops the run: exit 2)
            Remote(self._session, self.target, "default", control_token).control("GET", "/seed")

    @property
    def app(self) -> Any:
        return self._app

    def transport(self, namespace: str) -> Transport:
        if self.target:
            return Remote(self._session, self.target, namespace, self.control_token)
        return InProcess(self.app, namespace)

    def run(self, scenario: Scenario) -> Result:
        started = time.perf_counter()
        if scenario.is_property:
            result = self._run_property(scenario)
        else:
            result = self._run_once(scenario, None)
        result.seconds = time.perf_counter() - started
        return result

    # one pass over the steps, in a namespace of its own
    def _run_once(
        self, scenario: Scenario, draw: Draw | None, plain: list[dict[str, Any]] | None = None
    ) -> Result:
        result = Result(scenario)
        namespace = "scn-" + secrets.token_hex(8)
        t = self.transport(namespace)
        try:
            result.error = self._setup(t, scenario)
            if result.error:
                return result
            ctx = Context()
            for i, step in enumerate(scenario.steps):
                step_result = self._step(t, i, step, ctx, draw, plain)
                result.steps.append(step_result)
                if not step_result.ok:
                    break
            return result
        except Exception as exc:  # the target went away, say, in the middle of a run
            import requests

            if isinstance(exc, requests.RequestException):
                result.error = f"crmsim stopped answering at {self.target}: {exc}"
                return result
            if isinstance(exc, TargetUnreachable):
                result.error = str(exc)
                return result
            raise
        finally:
            try:
                t.control("DELETE", "")
            except Exception:  # noqa: BLE001 (best effort: the namespace is unique anyway)
                pass

    def _setup(self, t: Transport, scenario: Scenario) -> str | None:
        doc = scenario.doc
        calls: list[tuple[str, str, Any]] = [("PUT", "/seed", {"seed": scenario.seed})]
        if "settings" in doc:
            calls.append(("PUT", "/settings", doc["settings"]))
        if "frozen_at" in doc:
            calls.append(("PUT", "/clock", {"now": doc["frozen_at"]}))
        calls.append(("PUT", "/state", scenario.given))
        calls.extend(("POST", "/faults", rule) for rule in doc.get("faults", []))
        for method, path, body in calls:
            status, answer = t.control(method, path, body)
            if status >= 300:
                where = {"/state": "given", "/faults": "faults", "/clock": "frozen_at"}.get(
                    path, path
                )
                errors = answer.get("errors") if isinstance(answer, dict) else None
                detail = "; ".join(
                    f"{e.get('pointer') or '/'}: {e.get('message')}" for e in errors or []
                )
                title = answer.get("detail") if isinstance(answer, dict) else answer
                return f"setting up {where} failed ({status}): {detail or title}"
        return None

    def _step(
        self,
        t: Transport,
        i: int,
        step: dict[str, Any],
        ctx: Context,
        draw: Draw | None,
        plain: list[dict[str, Any]] | None,
    ) -> StepResult:
        result = StepResult(i, step_name(step, i))
        started = time.perf_counter()
        try:
            request, plain_step = self._request(i, step, ctx, draw)
        except UnknownReference as exc:
            result.error = str(exc)
            return result
        if plain is not None:
            plain.append(plain_step)
        method, path = request["method"], request["path"]
        query = _pairs(request.get("query", {}))
        headers = {str(k): str(v) for k, v in request.get("headers", {}).items()}
        body: bytes | None = None
        lower = {k.lower() for k in headers}
        if "json" in request:
            body = json.dumps(request["json"], ensure_ascii=False).encode("utf-8")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        elif "form" in request:
            body = urlencode(_pairs(request["form"])).encode("ascii")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif "raw" in request:
            body = str(request["raw"]).encode("utf-8")
        answer = t.send(method, path, query, headers, body)
        ctx.steps.append(
            {
                "request": request,
                "response": {
                    "status": answer.status,
                    "headers": answer.headers,
                    "body": answer.body,
                },
            }
        )
        try:
            result.differences = self._expectations(t, step, answer, ctx)
        except UnknownReference as exc:
            result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result

    def _request(
        self, i: int, step: dict[str, Any], ctx: Context, draw: Draw | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request to send (references and draws resolved), and the step as a plain
        scenario would write it (draws replaced by what was drawn)."""
        request: dict[str, Any] = {"method": step["method"]}
        plain = copy.deepcopy(step)
        for key in REQUEST_KEYS:
            if key not in step:
                continue
            value = ctx.substitute(step[key])
            if draw is not None and _has_draw(value):
                drawn = _resolve_draws(value, draw, f"step {i} {key}")
                plain[key] = _replace_draws(step[key], drawn)
                value = drawn
            request[key] = value
        return request, plain

    def _expectations(
        self, t: Transport, step: dict[str, Any], answer: Answer, ctx: Context
    ) -> list[Difference]:
        expect = ctx.substitute(step["expect"])
        out: list[Difference] = []
        saved = ctx.saved
        if answer.dropped:
            if not expect.get("dropped"):
                out.append(
                    Difference("/status", expect.get("status"), None, "the connection was dropped")
                )
            return out
        if expect.get("dropped"):
            out.append(Difference("/status", "(dropped)", answer.status, "an answer came"))
            return out
        _compare(expect["status"], answer.status, "/status", out, saved)
        if "headers" in expect:
            headers = {k.lower(): v for k, v in answer.headers.items()}
            for name, value in expect["headers"].items():
                _compare(value, headers.get(name.lower(), MISSING), f"/headers/{name}", out, saved)
        if "body" in expect:
            _compare(expect["body"], answer.body, "/body", out, saved)
        if step.get("operation"):
            status, doc = t.control("GET", "/journal?limit=1")
            entries = doc.get("entries", []) if isinstance(doc, dict) else []
            got = entries[-1]["operation"] if entries else None
            if got != step["operation"]:
                out.append(
                    Difference("/operation", step["operation"], got, "reached another route")
                )
        for key, path, part in (
            ("expect_state", "/state", None),
            ("expect_journal", "/journal", "entries"),
            ("expect_outbox", "/outbox", "entries"),
        ):
            if key not in step:
                continue
            status, doc = t.control("GET", path)
            actual = doc.get(part) if part and isinstance(doc, dict) else doc
            _compare(ctx.substitute(step[key]), actual, f"/{key}", out, saved)
        return out

    # property scenarios
    def examples_for(self, scenario: Scenario) -> int:
        """The file's ``examples``, capped by ``max_examples`` and the loaded Hypothesis
        profile (the test suite's ``ci`` profile has 25)."""
        from hypothesis import settings

        loaded = settings.default
        n = min(scenario.examples, loaded.max_examples if loaded else scenario.examples)
        return min(n, self.max_examples) if self.max_examples else n

    def _run_property(self, scenario: Scenario) -> Result:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st

        examples = self.examples_for(scenario)
        last: list[tuple[Result, list[dict[str, Any]]]] = []
        runs = [0]

        class Failed(Exception):
            pass

        @hypothesis_seed(scenario.seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            print_blob=False,
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        @given(st.data())
        def prop(data: Any) -> None:
            runs[0] += 1
            plain: list[dict[str, Any]] = []

            def draw(strategy: Any, label: str) -> Any:
                return data.draw(strategy, label=label)

            result = self._run_once(scenario, draw, plain)
            last[:] = [(result, plain)]
            if not result.ok:
                raise Failed

        try:
            prop()
        except Failed:
            result, plain = last[0]
            result.examples = runs[0]
            result.minimal = minimal_yaml(scenario, plain, len(result.steps))
            return result
        except Exception as exc:  # noqa: BLE001 (Flaky, Unsatisfiable, …: say so, per scenario)
            broken = Result(scenario, examples=runs[0])
            broken.error = f"the property test could not run: {type(exc).__name__}: {exc}"
            return broken
        result, _ = last[0] if last else (Result(scenario), [])
        result.examples = runs[0]
        return result


def _pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for k, v in fields.items():
        for item in v if isinstance(v, list) else [v]:
            pairs.append((str(k), _text(item)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# -- draws ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _strategy(spec: str) -> Any:
    """The Hypothesis strategy of a ``$draw`` node (its JSON as the cache key)."""
    from hypothesis import strategies as st

    node = json.loads(spec)
    what = node["$draw"]
    pin = {
        k: _strategy(json.dumps(v)) if _has_draw(v) else st.just(v)
        for k, v in node.get("pin", {}).items()
    }
    if isinstance(what, str):
        from simulator.testing import request_schema, strategy

        base = strategy(what, pin=pin)
        declared = set(request_schema(what).get("properties", {}))
    else:
        kind, arg = next(iter(what.items()))
        declared = set()
        if kind == "regex":
            return st.from_regex(arg, fullmatch=True)
        if kind == "integers":
            return st.integers(arg[0], arg[1])
        if kind == "sampled_from":
            return st.sampled_from(arg)
        from hypothesis_jsonschema import from_schema

        from simulator.testing import inline

        schemas = _schemas()
        schema = inline(schemas.documents[arg], arg, schemas) if isinstance(arg, str) else arg
        declared = set(schema.get("properties", {})) if isinstance(schema, dict) else set()
        plain = from_schema(schema)
        base = plain
        if pin:
            base = st.tuples(plain, st.fixed_dictionaries(pin)).map(
                lambda pair: {**pair[0], **pair[1]} if isinstance(pair[0], dict) else pair[0]
            )
    if node.get("extra") is False:
        keep = declared | set(pin)
        base = base.map(
            lambda d: {k: v for k, v in d.items() if k in keep} if isinstance(d, dict) else d
        )
    return base


def _resolve_draws(node: Any, draw: Draw, label: str) -> Any:
    if isinstance(node, dict):
        if "$draw" in node:
            return draw(_strategy(json.dumps(node, sort_keys=True)), label)
        return {k: _resolve_draws(v, draw, f"{label}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_draws(v, draw, f"{label}.{i}") for i, v in enumerate(node)]
    return node


def _replace_draws(template: Any, drawn: Any) -> Any:
    """``template`` (as written) with each draw replaced by the value drawn for it, escaped."""
    if isinstance(template, dict):
        if "$draw" in template:
            return escape(drawn)
        return {
            k: _replace_draws(v, drawn[k]) if isinstance(drawn, dict) and k in drawn else v
            for k, v in template.items()
        }
    if isinstance(template, list) and isinstance(drawn, list) and len(template) == len(drawn):
        return [_replace_draws(t, d) for t, d in zip(template, drawn, strict=True)]
    return template


def dump_yaml(doc: Any) -> str:
    """A scenario document as YAML, keys in their given order."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def minimal_yaml(scenario: Scenario, plain_steps: list[dict[str, Any]], ran: int) -> str:
    """The failing example as a plain scenario: draws replaced by what was drawn, the steps
    after the failing one left out."""
    doc = {k: v for k, v in scenario.doc.items() if k not in ("examples", "steps")}
    doc["name"] = f"{scenario.name} (smallest failing example)"
    doc["steps"] = plain_steps[:ran] or scenario.steps[:ran]
    return dump_yaml(doc)


# -- JUnit XML ----------------------------------------------------------------------------
def junit_xml(results: list[Result], suite: str = "crmsim replay") -> str:
    """One ``testcase`` per scenario, its failures with the per-step differences."""
    import xml.etree.ElementTree as ET

    failures = sum(1 for r in results if not r.ok)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            root,
            "testcase",
            classname=Path(r.scenario.file).parent.name or "scenarios",
            name=f"{Path(r.scenario.file).name}: {r.scenario.name}",
            file=r.scenario.file,
            time=f"{r.seconds:.3f}",
        )
        if not r.ok:
            failed = next((s for s in r.steps if not s.ok), None)
            message = r.error or (
                f"step {failed.index} ({failed.name}) failed" if failed else "failed"
            )
            ET.SubElement(case, "failure", message=message).text = r.report()
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
