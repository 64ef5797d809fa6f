"""Request patterns: which journaled requests match, how many, and why a verify failed.

A pattern (``schemas/sim/request-pattern.json``) names some of ``vendor``, ``operation``,
``method``, ``path``, ``query``, ``headers`` and ``body``; each is compared with the journal
entry (as ``GET /__sim/journal`` renders it) by the scenario matchers
(``simulator/scenarios/matchers.py``): literals, subsets and ``$match``/``$type``/...
objects. Header names are compared case-insensitively, a literal method too.

``POST /__sim/journal/find`` and ``/count`` match on the server; the Python clients'
``verify`` and scenario files' ``verify:`` use ``failure`` to say what went wrong: the
matching entries when there are too many, else the closest entry (the one with the fewest
differing JSON pointers, the newest of equals) and its differences.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from simulator.journal import _query_map, render
from simulator.patterns import PatternError, compiled
from simulator.scenarios.checks import matcher_problems
from simulator.scenarios.matchers import MISSING, Difference, compare
from simulator.schemas import pointer

FIELDS = ("vendor", "operation", "method", "path", "query", "headers", "body")
HEAD = ("vendor", "operation", "method", "path")  # kept as they are in a stored entry
UNMATCHED: dict[str, Any] = {"operation": None}  # requests that hit no route


def pattern(given: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A pattern from a document and keyword fields (``None`` keywords are left out: to
    match a null, put it in the document: ``{"operation": None}``). A literal method is
    upper-cased."""
    found = dict(given or {})
    found.update({k: v for k, v in fields.items() if v is not None})
    unknown = sorted(set(found) - set(FIELDS))
    if unknown:
        raise TypeError(f"a request pattern has {', '.join(FIELDS)}; not {', '.join(unknown)}")
    if isinstance(found.get("method"), str):
        found["method"] = found["method"].upper()
    return found


def problems(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """What is wrong with the matchers of a pattern that its schema accepted, as violations
    (``pointer``, ``message``, ``keyword``). A pattern has no ``${references}``, so every
    ``$match`` must compile and every ``$len`` is a number."""
    found = [(at, message) for at, message in matcher_problems(dict(doc))]
    found.extend(_literal_problems(doc, ""))
    unique = dict.fromkeys(found)  # a $match both checks refuse is said once
    return [{"pointer": at, "message": m, "keyword": "matcher"} for at, m in unique]


def _literal_problems(node: Any, at: str) -> Iterable[tuple[str, str]]:
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from _literal_problems(v, f"{at}/{i}")
    elif isinstance(node, dict):
        if isinstance(node.get("$match"), str):
            try:
                compiled(node["$match"])
            except PatternError as exc:
                yield at + "/$match", f"not a regular expression: {exc}"
        length = node.get("$len")
        if isinstance(length, str):
            yield at + "/$len", "expected a length (an integer >= 0)"
        for k, v in node.items():
            if k != "$eq":  # a literal, matcher keys and all
                yield from _literal_problems(v, at + pointer([k]))


def _head(
    doc: Mapping[str, Any],
    entry: Mapping[str, Any],
    out: list[Difference],
    saved: dict[str, Any],
) -> None:
    request = entry["request"]
    actual = {
        "vendor": entry.get("vendor"),
        "operation": entry.get("operation"),
        "method": request.get("method"),
        "path": request.get("path"),
    }
    for key in HEAD:
        if key in doc:
            compare(doc[key], actual[key], f"/{key}", out, saved)


def _tail(
    doc: Mapping[str, Any],
    entry: Mapping[str, Any],
    out: list[Difference],
    saved: dict[str, Any],
) -> None:
    request = entry["request"]
    if "query" in doc:
        compare(doc["query"], request.get("query") or {}, "/query", out, saved)
    if "headers" in doc:
        expected = doc["headers"]
        lower = {str(k).lower(): v for k, v in (request.get("headers") or {}).items()}
        if isinstance(expected, dict) and not any(str(k).startswith("$") for k in expected):
            for name, value in expected.items():
                at = "/headers" + pointer([name])
                compare(value, lower.get(str(name).lower(), MISSING), at, out, saved)
        else:
            compare(expected, lower, "/headers", out, saved)
    if "body" in doc:
        compare(doc["body"], request.get("body"), "/body", out, saved)


def mismatches(
    doc: Mapping[str, Any], entry: Mapping[str, Any], saved: dict[str, Any] | None = None
) -> list[Difference]:
    """Where a rendered journal entry differs from a pattern (nothing: it matches); each
    difference's pointer is into the pattern (``/body/email``). ``$save`` stores the
    matched values into ``saved``."""
    out: list[Difference] = []
    saved = saved if saved is not None else {}
    _head(doc, entry, out, saved)
    _tail(doc, entry, out, saved)
    return out


def matches_stored(doc: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether a stored (raw) entry matches: method, path, vendor and operation first, so
    that an entry is decoded only when they match and the pattern looks further."""
    out: list[Difference] = []
    _head(doc, stored, out, {})
    if out:
        return False
    if not any(k in doc for k in ("query", "headers", "body")):
        return True
    _tail(doc, {"request": _decoded(doc, stored)}, out, {})
    return not out


def _decoded(doc: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a stored entry's request the pattern looks at, decoded as ``render``
    decodes them (only those: the answer and the other parts stay raw)."""
    raw = stored["request"].get("raw")
    if raw is None:  # an entry stored decoded
        request: dict[str, Any] = render(dict(stored))["request"]
        return request
    parts: dict[str, Any] = {}
    if "query" in doc:
        parts["query"] = _query_map(raw.query or "")
    if "headers" in doc:
        parts["headers"] = raw.header_map()
    if "body" in doc:
        parts["body"] = raw.body()
    return parts


def closest(
    doc: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]
) -> tuple[Mapping[str, Any], list[Difference]] | None:
    """The entry with the fewest differing pointers (the newest of equals) and its
    differences; ``None`` for no entries."""
    best: tuple[Mapping[str, Any], list[Difference]] | None = None
    for entry in entries:
        found = mismatches(doc, entry)
        if best is None or len(found) <= len(best[1]):
            best = (entry, found)
    return best


def describe(entry: Mapping[str, Any]) -> str:
    """One line: ``#3 POST /crm/123 -> 201 (botw.create_contact)``."""
    request, response = entry.get("request") or {}, entry.get("response") or {}
    status = response.get("status")
    answer = "dropped" if status is None else str(status)
    what = entry.get("operation") or "no route"
    return f"#{entry.get('id')} {request.get('method')} {request.get('path')} -> {answer} ({what})"


def satisfied(times: int | None, count: int) -> bool:
    """``times=None``: at least once; a number: exactly that many times."""
    return count >= 1 if times is None else count == times


def _show(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def failure(
    doc: Mapping[str, Any],
    found: list[Mapping[str, Any]],
    journal: list[Mapping[str, Any]],
    times: int | None,
) -> str:
    """Why ``found`` (the entries matching ``doc``) is not ``times`` of them: the matches
    when there are any, else the closest entry of ``journal`` and its differences."""
    wanted = "at least 1" if times is None else f"exactly {times}"
    lines = [
        f"expected {wanted} request(s) matching {_show(doc)}; "
        f"found {len(found)} of the {len(journal)} journaled"
    ]
    if found:
        lines.extend("  " + describe(e) for e in found)
        return "\n".join(lines)
    near = closest(doc, journal)
    if near is None:
        lines.append("the journal is empty")
        return "\n".join(lines)
    entry, differences = near
    lines.append(f"the closest, {describe(entry)}, differs at:")
    lines.extend(f"  {d}" for d in differences)
    return "\n".join(lines)


def unmatched_failure(entries: list[Mapping[str, Any]]) -> str:
    """The message of ``assert_no_unmatched``: each request that hit no route."""
    lines = [f"{len(entries)} request(s) hit no route:"]
    lines.extend("  " + describe(e) for e in entries)
    return "\n".join(lines)
