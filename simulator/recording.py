"""``crmsim record``: a namespace's journal, with the state it started from, as a scenario.

Each journaled vendor request becomes a step; its journaled answer becomes the step's
``expect`` (status and body). Values the simulator generates (times, 32-hex ids, tokens,
BOTW unique ids) are written as ``$match`` patterns, and where a later request uses such a
value (a token, an id) it is saved with ``$save`` and the later request says ``${name}``:
so the replay, with its own ids and clock, is deterministic and green.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from simulator.scenarios import TargetUnreachable, check_control_answer, check_target, escape

# What the simulator generates, and the pattern a recorded expectation matches it with.
GENERATED: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
    ),
    (
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
        r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
    ),
    (re.compile(r"^[0-9A-Fa-f]{32}$"), r"^[0-9A-Fa-f]{32}$"),
    (
        re.compile(r"^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$"),
        r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
    ),
    (re.compile(r"^l-\d{8}$"), r"^l-\d{8}$"),
]
# Request headers a replay sets itself, or that say nothing about the request. The framing
# and hop-by-hop ones say how a client sent the body (a chunked or an Expect: 100-continue
# client): kept, they would make the replay's own body unreadable (tests/clients).
DROPPED_HEADERS = {
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "transfer-encoding",
    "expect",
    "te",
    "trailer",
    "keep-alive",
    "upgrade",
    "proxy-connection",
}
# the pattern of a value ``opaque`` calls generated (scenario_from_journal)
OPAQUE = r"^.+$"
Opaque = Callable[[str, str], bool]
DEFAULT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


def generated_pattern(value: str) -> str | None:
    """The ``$match`` pattern for a generated value, or None for a value kept literally."""
    for rx, pattern in GENERATED:
        if rx.match(value):
            return pattern
    return None


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _body(entry: dict[str, Any]) -> tuple[str | None, Any]:
    """Which body key the step uses (json, form, raw) and its value."""
    request = entry["request"]
    body = request.get("body")
    if body is None or body == "":
        return None, None
    ctype = _header(request.get("headers", {}), "content-type") or ""
    mimetype = ctype.split(";")[0].strip().lower()
    if mimetype == "application/x-www-form-urlencoded" and isinstance(body, dict):
        if len(body) == 1 and next(iter(body.values())) == "":
            # ``curl -d '{...}'`` sends JSON as a form: the journal kept it as one name
            key = next(iter(body))
            try:
                json.loads(key)
            except ValueError:
                return "form", body
            return "raw", key
        return "form", body
    if mimetype.endswith("json") and not isinstance(body, str):
        return "json", body
    return "raw", body if isinstance(body, str) else json.dumps(body)


def _header(headers: dict[str, Any], name: str) -> Any:
    return next((v for k, v in headers.items() if k.lower() == name), None)


class _Names:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint).strip("_") or "value"
        if not re.match(r"^[A-Za-z_]", base) or base == "steps":
            base = "v_" + base
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def scenario_from_journal(
    entries: list[dict[str, Any]],
    given: dict[str, Any] | None = None,
    name: str = "Recorded session",
    seed: int | None = None,
    frozen_at: str | None = None,
    faults: list[dict[str, Any]] | None = None,
    opaque: Opaque | None = None,
) -> dict[str, Any]:
    """A scenario document whose steps are the journaled requests, expecting their answers.

    ``opaque(key, value)``: True for an answer's value that is generated although no pattern
    of ``GENERATED`` knows it (a real vendor's token, ``crmsim proxy``); it is matched as
    any non-empty text and saved like the others."""
    requests_text = [list(_strings(_request_parts(e))) for e in entries]
    saved: dict[str, str] = {}  # generated value -> the name it was saved as
    names = _Names()
    steps: list[dict[str, Any]] = []
    for k, entry in enumerate(entries):
        later = [text for texts in requests_text[k + 1 :] for text in texts]
        step = _step(entry, saved)
        response = entry["response"]
        if response.get("status") is None:
            step["expect"] = {"dropped": True}
        else:
            expect: dict[str, Any] = {"status": response["status"]}
            if response.get("body") is not None:
                expect["body"] = _expected(response["body"], saved, later, names, "", opaque)
            step["expect"] = expect
        steps.append(step)
    doc: dict[str, Any] = {"name": name}
    doc["description"] = (
        f"Recorded by crmsim record from {len(entries)} journaled request(s); generated ids"
        " and times are matched by pattern."
    )
    doc["given"] = given or {}
    doc["seed"] = 0 if seed is None else seed
    if frozen_at:
        doc["frozen_at"] = frozen_at
    if faults:
        doc["faults"] = faults
    doc["steps"] = steps
    return doc


def _request_parts(entry: dict[str, Any]) -> dict[str, Any]:
    r = entry["request"]
    return {
        "path": r["path"],
        "query": r.get("query"),
        "headers": r.get("headers"),
        "body": r.get("body"),
    }


def _refer(node: Any, saved: dict[str, str]) -> Any:
    """A request value, escaped, with saved generated values replaced by ``${name}``."""
    if isinstance(node, str):
        text = escape(node)
        for value, name in saved.items():
            if value in text:
                text = text.replace(value, "${" + name + "}")
        return text
    if isinstance(node, dict):
        return {k: _refer(v, saved) for k, v in node.items()}
    if isinstance(node, list):
        return [_refer(v, saved) for v in node]
    return node


def _step(entry: dict[str, Any], saved: dict[str, str]) -> dict[str, Any]:
    request = entry["request"]
    step: dict[str, Any] = {}
    if entry.get("operation"):
        step["operation"] = entry["operation"]
    step["method"] = request["method"]
    step["path"] = _refer(request["path"], saved)
    if request.get("query"):
        step["query"] = _refer(request["query"], saved)
    key, body = _body(entry)
    raw_headers = request.get("headers") or {}
    headers = {k: v for k, v in raw_headers.items() if k.lower() not in DROPPED_HEADERS}
    ctype = _header(raw_headers, "content-type")
    if key is not None and ctype and ctype != DEFAULT_TYPES.get(key):
        headers["Content-Type"] = ctype
    if headers:
        step["headers"] = _refer(headers, saved)
    if key is not None:
        step[key] = _refer(body, saved)
    return step


def _expected(
    node: Any,
    saved: dict[str, str],
    later: list[str],
    names: _Names,
    key: str,
    opaque: Opaque | None = None,
) -> Any:
    """A journaled answer as an expectation: generated values as matchers."""
    if isinstance(node, dict):
        literal = any(str(k).startswith("$") for k in node)
        out = {k: _expected(v, saved, later, names, str(k), opaque) for k, v in node.items()}
        return {"$eq": node} if literal else out
    if isinstance(node, list):
        return [_expected(v, saved, later, names, key, opaque) for v in node]
    if not isinstance(node, str):
        return node
    if node in saved:
        return "${" + saved[node] + "}"
    pattern = generated_pattern(node)
    if pattern is None and node and opaque is not None and opaque(key, node):
        pattern = OPAQUE
    if pattern is None:
        return escape(node)
    matcher: dict[str, Any] = {"$match": pattern}
    if any(node in text for text in later):
        saved[node] = names.new(key)
        matcher["$save"] = saved[node]
    return matcher


def fetch(target: str, namespace: str | None, token: str | None = None) -> dict[str, Any]:
    """The journal, seed, clock and fault rules of a namespace of a running crmsim
    (``token``: its control token)."""
    import requests

    check_target(target)
    base = target.rstrip("/") + (f"/__ns/{namespace}" if namespace else "") + "/__sim"
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(path: str) -> Any:
        r = requests.get(base + path, headers=headers, timeout=30)
        check_control_answer(r, target)
        return r.json()

    try:
        journal = get("/journal")["entries"]
        seed = get("/seed")["seed"]
        clock = get("/clock")
        faults = get("/faults")["faults"]
    except requests.RequestException as exc:
        raise TargetUnreachable(f"crmsim stopped answering at {target}: {exc}") from exc
    rules = [
        {k: v for k, v in rule.items() if k not in ("id", "matched", "fired")} for rule in faults
    ]
    return {"journal": journal, "seed": seed, "clock": clock, "faults": rules}
