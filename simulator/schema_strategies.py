"""Hypothesis strategies from JSON Schema (draft 7): the generator behind ``simulator.testing``.

    from simulator.schema_strategies import from_schema

    @given(from_schema({"type": "object", "required": ["id"], "properties": {...}}))
    def test_...(doc): ...

Every value drawn is valid against the schema (python-jsonschema's ``Draft7Validator`` with
its ``FormatChecker``, as ``simulator.schemas`` validates). Values are built from the keywords
where a keyword says how (types, properties, required, items, bounds, lengths, ``pattern``
through ``st.from_regex``, ``format``, ``const``, ``enum``, the branches of ``anyOf``,
``oneOf`` and ``if``/``then``/``else``, ``allOf`` merged); where one cannot say how
(``not``, ``oneOf``'s "only one", ``uniqueItems``, ``contains``, ``propertyNames``,
``min``/``maxProperties``, conflicting ``allOf`` parts), the node that holds it keeps only
the values its validator accepts, and the whole document is checked once more at the top.

It covers the keywords crmsim's schemas use (``schemas/``) and the rest of draft 7's common
core; ``$ref`` within the document (``#/definitions/...``). A schema with anything else
(``patternProperties``, ``dependencies``, ``additionalItems``, a ``$ref`` to another file,
a recursive ``$ref``) is refused when the strategy is built, with ``UnsupportedSchema``
naming the keyword and where it is, rather than drawing values that might not be valid.
Cross-file references are resolved before, by ``simulator.testing.inline``.

Why crmsim has its own (issue 20): hypothesis-jsonschema, which it used until 0.2.0, was
last released in 2024-02 and breaks on Hypothesis after 6.170.0, so crmsim pinned Hypothesis
below it and its pytest plugin forced that old Hypothesis on every consumer. This module uses
Hypothesis' public strategies only, so it works with the current Hypothesis.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker

__all__ = ["FORMATS", "UnsupportedSchema", "from_schema"]

Strategy = st.SearchStrategy[Any]
Schema = Any  # a dict, or True / False

JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentMediaType",
        "contentEncoding",
        "definitions",
        "$defs",
    }
)
SUPPORTED = frozenset(
    {
        "type",
        "const",
        "enum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)
# keywords this module does not build values from: the node keeps what its validator accepts
FILTERED = frozenset(
    {
        "allOf",
        "oneOf",
        "not",
        "if",
        "uniqueItems",
        "contains",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "multipleOf",
        "format",
        "const",
        "enum",
        "anyOf",  # a branch merged with its siblings may have kept only one of two bounds
    }
)
OBJECT_WORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
    }
)
ARRAY_WORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems", "contains"})
STRING_WORDS = frozenset({"minLength", "maxLength", "pattern", "format"})
NUMBER_WORDS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)
EXTRA_KEYS = 2  # at most this many undeclared keys where additionalProperties allows them
EXTRA_ITEMS = 5  # arrays run to minItems + this many, unless maxItems says less


class UnsupportedSchema(ValueError):
    """A schema with a keyword (or a reference) this generator does not model."""


@functools.cache
def _any_json() -> Strategy:
    """Any JSON value, small (one strategy, built once)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text()
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=4,
    )


def _date_time() -> Strategy:
    return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


FORMATS: dict[str, Callable[[], Strategy]] = {
    "date-time": _date_time,
    "date": lambda: st.dates().map(lambda d: d.isoformat()),
    "time": lambda: st.times(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    "email": st.emails,
    "idn-email": st.emails,
    "hostname": lambda: st.from_regex(
        r"[a-z][a-z0-9]{0,9}(\.[a-z][a-z0-9]{0,9}){0,2}", fullmatch=True
    ),
    "ipv4": lambda: st.ip_addresses(v=4).map(str),
    "ipv6": lambda: st.ip_addresses(v=6).map(str),
    "uuid": lambda: st.uuids().map(str),
    "uri": lambda: st.from_regex(
        r"https?://[a-z]{1,10}\.(com|org|net)(/[a-z0-9]{1,8}){0,3}", fullmatch=True
    ),
    "regex": lambda: (
        st.sampled_from(["", ".*", "^[a-z]+$", "[0-9]{2,4}", "a|b"])
        | st.text(max_size=8).filter(_compiles)
    ),
}
"""A strategy for each ``format`` this module draws from (``formats=`` adds or replaces);
a format the validator does not check is an annotation, and draws any string."""


def from_schema(
    schema: Schema, *, formats: Mapping[str, Strategy] | None = None
) -> st.SearchStrategy[Any]:
    """A strategy of values ``schema`` (draft 7) accepts; ``formats`` maps a ``format``
    name to a strategy of its strings (over the built-in ``FORMATS``)."""
    resolved = _resolve(schema, schema, "#", ())
    _check_keywords(resolved, "#")
    builder = _Builder(formats or {})
    strategy = builder.build(resolved)
    if isinstance(resolved, bool) or resolved == {}:
        return strategy
    return strategy.filter(_validator(resolved).is_valid)


# -- references and keywords ----------------------------------------------------------------
def _resolve(node: Schema, root: Schema, where: str, seen: tuple[str, ...]) -> Schema:
    """``node`` with every ``$ref`` within the document replaced by its target."""
    if isinstance(node, list):
        return [_resolve(v, root, f"{where}/{i}", seen) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise UnsupportedSchema(
                f"$ref {ref!r} at {where}: only references within the document are followed "
                "(simulator.testing.inline resolves crmsim's cross-file ones first)"
            )
        if ref in seen:
            raise UnsupportedSchema(f"$ref {ref!r} at {where} is recursive")
        target: Any = root
        for part in [p for p in ref[1:].split("/") if p]:
            key = part.replace("~1", "/").replace("~0", "~")
            try:
                target = target[int(key)] if isinstance(target, list) else target[key]
            except (KeyError, IndexError, ValueError, TypeError):
                raise UnsupportedSchema(f"$ref {ref!r} at {where} points at nothing") from None
        resolved = _resolve(target, root, where, (*seen, ref))
        rest = {k: v for k, v in node.items() if k != "$ref"}
        if not rest or not isinstance(resolved, dict):
            return resolved
        return {**resolved, **_resolve(rest, root, where, seen)}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("definitions", "$defs"):
            continue  # reached through $ref only
        if key in ("properties",) and isinstance(value, dict):
            out[key] = {
                name: _resolve(v, root, f"{where}/{key}/{name}", seen) for name, v in value.items()
            }
        elif key in ("const", "enum", "default", "examples"):
            out[key] = value
        else:
            out[key] = _resolve(value, root, f"{where}/{key}", seen)
    return out


def _check_keywords(node: Schema, where: str) -> None:
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"{where} is not a schema (an object or a boolean)")
    for key, value in node.items():
        if key in ANNOTATIONS or key in ("const", "enum", "required", "type"):
            continue
        if key not in SUPPORTED:
            raise UnsupportedSchema(f"keyword {key!r} at {where} is not supported")
        if key == "properties":
            for name, sub in value.items():
                _check_keywords(sub, f"{where}/properties/{name}")
        elif key in ("allOf", "anyOf", "oneOf") or (key == "items" and isinstance(value, list)):
            for i, sub in enumerate(value):
                _check_keywords(sub, f"{where}/{key}/{i}")
        elif key in (
            "not",
            "if",
            "then",
            "else",
            "items",
            "contains",
            "propertyNames",
            "additionalProperties",
        ):
            _check_keywords(value, f"{where}/{key}")


def _validator(schema: Schema) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=FormatChecker())


# -- merging: the values two schemas both accept, as one schema to build from ---------------
def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _both(a: Schema, b: Schema) -> Schema:
    if a is True or a == {}:
        return b
    if b is True or b == {}:
        return a
    if a is False or b is False:
        return False
    return _merge(a, b)


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """A schema to build from for values both accept. Where the two disagree in a way this
    cannot combine, ``a``'s keyword stays: the caller filters with both schemas."""
    out = dict(a)
    for key, value in b.items():
        if key not in out or out[key] == value:
            out[key] = value
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = _both(props[name], sub) if name in props else sub
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            mine, theirs = _types(out[key]), _types(value)
            kept = [t for t in mine if t in theirs]
            if "integer" not in kept and {"integer", "number"} <= {*mine} | {*theirs}:
                # an integer is a number: integer meets number as integer
                if ("integer" in mine and "number" in theirs) or (
                    "number" in mine and "integer" in theirs
                ):
                    kept.append("integer")
            out[key] = kept
        elif key in ("minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum"):
            out[key] = max(out[key], value)
        elif key in ("maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum"):
            out[key] = min(out[key], value)
        elif key == "allOf":
            out[key] = [*out[key], *value]
        elif key in ("items", "additionalProperties", "propertyNames", "contains") and (
            isinstance(out[key], dict | bool) and isinstance(value, dict | bool)
        ):
            out[key] = _both(out[key], value)
        elif key == "enum":
            out[key] = [v for v in out[key] if v in value]
    return out


# -- building ---------------------------------------------------------------------------------
class _Builder:
    def __init__(self, formats: Mapping[str, Strategy]) -> None:
        self.formats = formats

    def build(self, node: Schema) -> Strategy:
        if node is True or node == {}:
            return _any_json()
        if node is False:
            return st.nothing()
        strategy = self._build(node)
        if FILTERED & node.keys():
            strategy = strategy.filter(_validator(node).is_valid)
        return strategy

    def _build(self, node: dict[str, Any]) -> Strategy:
        if "allOf" in node:
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                merged = _both(merged, part)
                if merged is False:
                    return st.nothing()
            return self.build(merged)
        for combinator in ("anyOf", "oneOf"):
            if combinator in node:
                rest = {k: v for k, v in node.items() if k != combinator}
                branches = [_both(rest, branch) for branch in node[combinator]]
                return st.one_of([self.build(b) for b in branches])
        if "if" in node:
            rest = {k: v for k, v in node.items() if k not in ("if", "then", "else")}
            matching = _both(_both(rest, node["if"]), node.get("then", True))
            other = self.build(_both(rest, node.get("else", True)))
            if node["if"] is not True and node["if"] is not False:
                condition = _validator(node["if"])
                other = other.filter(lambda v: not condition.is_valid(v))
            return st.one_of(self.build(matching), other)
        if "not" in node:
            return self.build({k: v for k, v in node.items() if k != "not"})
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"]) if node["enum"] else st.nothing()
        types = _types(node["type"]) if "type" in node else self._implied_types(node)
        if not types:
            return st.nothing()
        return st.one_of([self._typed(node, t) for t in types])

    @staticmethod
    def _implied_types(node: dict[str, Any]) -> list[str]:
        words = node.keys()
        implied = [
            t
            for t, kws in (
                ("object", OBJECT_WORDS),
                ("array", ARRAY_WORDS),
                ("string", STRING_WORDS),
                ("number", NUMBER_WORDS),
            )
            if kws & words
        ]
        # with no type and no keyword of a type, any JSON value
        return implied or list(JSON_TYPES)

    def _typed(self, node: dict[str, Any], kind: str) -> Strategy:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return self._integers(node)
        if kind == "number":
            return self._integers(node) | self._floats(node)
        if kind == "string":
            return self._string(node)
        if kind == "array":
            return self._array(node)
        if kind == "object":
            return self._object(node)
        raise UnsupportedSchema(f"type {kind!r} is not a JSON Schema type")

    @staticmethod
    def _integers(node: dict[str, Any]) -> Strategy:
        low: int | None = None
        high: int | None = None
        if "minimum" in node:
            low = math.ceil(node["minimum"])
        if "exclusiveMinimum" in node:
            bound = math.floor(node["exclusiveMinimum"]) + 1
            low = bound if low is None else max(low, bound)
        if "maximum" in node:
            high = math.floor(node["maximum"])
        if "exclusiveMaximum" in node:
            bound = math.ceil(node["exclusiveMaximum"]) - 1
            high = bound if high is None else min(high, bound)
        if low is not None and high is not None and low > high:
            return st.nothing()
        step = node.get("multipleOf")
        if isinstance(step, int) and step > 0:
            return st.integers(
                None if low is None else -(-low // step), None if high is None else high // step
            ).map(lambda n: n * step)
        return st.integers(low, high)

    @staticmethod
    def _floats(node: dict[str, Any]) -> Strategy:
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        if "minimum" in node and "exclusiveMinimum" in node:
            low = max(node["minimum"], node["exclusiveMinimum"])
        if "maximum" in node and "exclusiveMaximum" in node:
            high = min(node["maximum"], node["exclusiveMaximum"])
        if low is not None and high is not None and low > high:
            return st.nothing()
        return st.floats(
            min_value=low,
            max_value=high,
            exclude_min="exclusiveMinimum" in node and low == node["exclusiveMinimum"],
            exclude_max="exclusiveMaximum" in node and high == node["exclusiveMaximum"],
            allow_nan=False,
            allow_infinity=False,
        ).filter(lambda x: "multipleOf" not in node or (x / node["multipleOf"]).is_integer())

    def _string(self, node: dict[str, Any]) -> Strategy:
        low = node.get("minLength", 0)
        high = node.get("maxLength")
        fmt: str | None = node.get("format")
        if fmt is not None and fmt in self.formats:
            strategy = self.formats[fmt]
        elif fmt in FORMATS:
            strategy = FORMATS[fmt]()
        elif fmt is not None and fmt in FormatChecker().checkers:
            checker = FormatChecker()
            strategy = st.text().filter(lambda s: checker.conforms(s, fmt))
        elif "pattern" in node:
            if not _compiles(node["pattern"]):
                raise UnsupportedSchema(f"pattern {node['pattern']!r} is not a Python regex")
            strategy = st.from_regex(node["pattern"])
        else:
            return st.text(min_size=low, max_size=high)
        return strategy.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))

    def _array(self, node: dict[str, Any]) -> Strategy:
        low = node.get("minItems", 0)
        high = node.get("maxItems", low + EXTRA_ITEMS)
        items = node.get("items", True)
        unique = _canonical if node.get("uniqueItems") else None
        if isinstance(items, list):
            head = [self.build(s) for s in items]
            if len(head) > high:
                return st.nothing()
            rest = st.lists(_any_json(), max_size=max(0, high - len(head)))
            return st.tuples(st.tuples(*head), rest).map(lambda p: [*p[0], *p[1]])
        element = self.build(items)
        if "contains" in node:
            wanted = self.build(_both(items, node["contains"]))
            if high < 1:
                return st.nothing()
            others = st.lists(
                element, min_size=max(0, low - 1), max_size=high - 1, unique_by=unique
            )
            return st.tuples(wanted, others, st.integers(0, high)).map(
                lambda p: [*p[1][: p[2]], p[0], *p[1][p[2] :]]
            )
        return st.lists(element, min_size=low, max_size=high, unique_by=unique)

    def _object(self, node: dict[str, Any]) -> Strategy:
        props: dict[str, Any] = node.get("properties", {})
        required: list[str] = node.get("required", [])
        extra = node.get("additionalProperties", True)
        names = node.get("propertyNames", True)
        if extra is False and any(name not in props for name in required):
            return st.nothing()
        fixed = {name: self.build(props.get(name, extra)) for name in required}
        optional = {name: self.build(s) for name, s in props.items() if name not in fixed}
        declared = st.fixed_dictionaries(fixed, optional=optional)
        if extra is False:
            return declared
        keys = self.build(_both({"type": "string"}, names)).filter(lambda k: k not in props)
        undeclared = st.dictionaries(keys, self.build(extra), max_size=EXTRA_KEYS)
        return st.tuples(declared, undeclared).map(lambda p: {**p[1], **p[0]})


def _canonical(value: Any) -> Any:
    """A hashable key of a JSON value for ``uniqueItems``, equal where JSON Schema's
    equality is: 1 and 1.0 alike, true and 1 not."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", int(value) if float(value).is_integer() else value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    return ("string", value)
