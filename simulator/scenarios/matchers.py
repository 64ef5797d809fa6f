"""Comparing an answer with what a step expects: subsets, literals and ``$`` matchers.

Each comparison returns ``(ok, reason)`` like the ``responses`` library's matchers, or the
list of ``Difference``s, each naming a JSON pointer, the expected and the actual value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from simulator.patterns import PatternError, search
from simulator.schemas import pointer, type_name

JSON_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")
MATCHER_KEYS = ("$match", "$type", "$any", "$absent", "$contains", "$len", "$eq")


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
    compare(expected, actual, at, out, saved if saved is not None else {})
    return out


def compare(
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
            compare(v, actual.get(k, MISSING), at + pointer([k]), out, saved)
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
            compare(e, a, f"{at}/{i}", out, saved)
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
        else:
            try:
                found = search(value, actual)
            except PatternError as exc:  # a ${reference} made it one RE2 refuses
                out.append(Difference(at, m, actual, f"not a regular expression: {exc}"))
            else:
                if not found:
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
