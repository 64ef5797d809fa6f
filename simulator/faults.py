"""Fault rules: make a vendor slow, down, rate-limiting or unreachable, deterministically."""

from __future__ import annotations

import fnmatch
import functools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MAX_DELAY_MS = 60_000  # a drawn delay never exceeds this (the schema's bound on delay_ms)
# what a rule's templated body may name (docs/control-plane.md, "One-off answers")
ANSWER_ROOTS = ("request", "now")
BODY_DEPTH = 100  # levels a rule's body may nest: rendering it, per request, recurses
# what frames an HTTP answer: crmsim writes these itself, and a rule's would break the
# answers of every request it fires on (a Content-Length that lies, two framings)
FRAMING = frozenset(
    ("content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te")
    + ("trailer", "proxy-connection")
)


@dataclass
class FaultRule:
    """A rule as posted (``spec``), its id, and how often it matched and fired."""

    id: str
    spec: dict[str, Any]
    matched: int = 0
    fired: int = 0

    def selects(self, vendor: str | None, operation: str | None, method: str, path: str) -> bool:
        s = self.spec
        return (
            ("vendor" not in s or s["vendor"] == vendor)
            and ("operation" not in s or s["operation"] == operation)
            and ("method" not in s or s["method"] == method)
            and ("path" not in s or fnmatch.fnmatchcase(path, s["path"]))
        )

    def fires(self, rng: random.Random) -> bool:
        """Count a match and say whether the rule acts on it."""
        self.matched += 1
        s = self.spec
        if "times" in s and self.fired >= s["times"]:
            return False
        if "every" in s and self.matched % s["every"] != 0:
            return False
        if "probability" in s and not rng.random() < s["probability"]:
            return False
        self.fired += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec, "matched": self.matched, "fired": self.fired}


@dataclass
class Faults:
    """A namespace's fault rules, first added first consulted, and their random source."""

    seed: int
    rules: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next_id = 1
        self._random: random.Random | None = None
        self._stream: int | None = None

    @property
    def random(self) -> random.Random:
        """Separate from the id source, so that adding a rule never changes generated ids;
        built on first use (2.5 KiB an unused namespace does not pay)."""
        found = self._random
        if found is None:
            stream = "" if self._stream is None else f":{self._stream}"
            found = self._random = random.Random(f"faults:{self.seed}{stream}")
        return found

    def at(self, stream: int) -> None:
        """Draw from stream ``stream`` from now on (see ``Ids.at``)."""
        self._stream = stream
        self._random = None

    def reseed(self, seed: int) -> None:
        """Restart the random draws from ``seed`` (the rules stay)."""
        self.seed = seed
        self._random = None

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        rule = FaultRule(str(self.next_id), dict(spec))
        self.next_id += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) < before

    def clear(self) -> None:
        self.rules.clear()

    def restart(self, seed: int) -> None:
        self.seed = seed
        self.rules.clear()
        self.next_id = 1
        self._random = None

    def pick(
        self, vendor: str | None, operation: str | None, method: str, path: str
    ) -> FaultRule | None:
        """The first rule that selects this request and fires, if any."""
        for rule in self.rules:
            if rule.selects(vendor, operation, method, path) and rule.fires(self.random):
                return rule
        return None


@dataclass(frozen=True)
class Effect:
    """What a fired rule does to the request: wait ``delay`` (a number of milliseconds or a
    distribution, drawn by ``draw_ms``), then answer ``status`` (with ``body`` when the rule
    gives one, else the vendor's own error for it) or drop the connection. ``status`` None
    after the wait means the vendor answers as usual. ``malformed``, ``truncate`` and
    ``dribble`` change how the answer, whoever gives it, reaches the client."""

    delay: Any = None
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    drop: bool = False
    malformed: bool = False
    truncate: bool = False
    dribble: Mapping[str, int] | None = None


# One entry per kind of fault (schemas/sim/fault.json): how its spec shapes the effect.
# A new kind is a schema property and a line here.
EFFECTS: dict[str, Callable[[Effect, Any], Effect]] = {
    "delay_ms": lambda e, delay: replace(e, delay=delay),
    "status": lambda e, status: replace(e, status=status),
    "body": lambda e, body: replace(e, body=body, has_body=True),
    "headers": lambda e, headers: replace(e, headers={**e.headers, **headers}),
    "rate_limit": lambda e, spec: replace(
        e,
        status=429,
        headers={"Retry-After": str(spec.get("retry_after", 1)), **e.headers},
    ),
    "drop": lambda e, _: replace(e, drop=True, status=503),
    "malformed": lambda e, _: replace(e, malformed=True),
    "truncate": lambda e, _: replace(e, truncate=True),
    "dribble": lambda e, spec: replace(e, dribble=spec),
}


def effect(spec: Mapping[str, Any]) -> Effect:
    """The effect of a rule's spec (selectors and firing conditions play no part)."""
    found = Effect()
    # in any order: a kind that adds headers (rate_limit's Retry-After) puts the rule's own
    # headers, given before or after it, on top of its own
    for key, value in spec.items():
        apply = EFFECTS.get(key)
        if apply is not None:
            found = apply(found, value)
    return found


# -- latency -------------------------------------------------------------------------------
def draw_ms(delay: Any, rng: random.Random) -> float:
    """Milliseconds to wait for ``delay`` (schemas/sim/latency.json): a number of them, or
    ``{"fixed": ms}``, ``{"uniform": {"min", "max"}}`` or ``{"lognormal": {"median",
    "sigma", "max"?}}`` drawn from ``rng`` (the namespace's seeded fault source); never
    more than ``MAX_DELAY_MS`` nor a lognormal's ``max``."""
    if not isinstance(delay, Mapping):
        return min(float(delay), MAX_DELAY_MS)
    if "fixed" in delay:
        return min(float(delay["fixed"]), MAX_DELAY_MS)
    if "uniform" in delay:
        bounds = delay["uniform"]
        return min(rng.uniform(bounds["min"], bounds["max"]), MAX_DELAY_MS)
    shape = delay["lognormal"]
    drawn = rng.lognormvariate(math.log(shape["median"]), shape["sigma"])
    return min(drawn, float(shape.get("max", MAX_DELAY_MS)))  # the schema caps max


# -- one-off answers: bodies templated from the request --------------------------------------
@functools.cache
def _bindings() -> Any:
    """The scenarios' references (imported on first use: the scenarios package is large and
    the app needs it only for templated answers)."""
    from simulator.scenarios.refs import Bindings, UnknownReference

    class RequestBindings(Bindings):
        """A reference to what the request lacks is null, not an error: the rule answers."""

        def lookup(self, ref: str) -> Any:
            try:
                return super().lookup(ref)
            except UnknownReference:
                return None

    return RequestBindings


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """``template`` with each ``${request...}`` / ``${now}`` replaced from ``values``; a
    string that is one reference takes the value itself, else the value's text (``$${``
    writes ``${``)."""
    return _bindings()(saved=dict(values)).substitute(template)


def rule_problems(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """What a rule that its schema accepted may still not do, as violations: set a header
    that frames the answer, nest its body deeper than ``BODY_DEPTH``, or name in it a
    ``${reference}`` that can never have a value."""
    from simulator.http import BadBody, check_keepable

    found = [
        {
            "pointer": "/headers/" + name.replace("~", "~0").replace("/", "~1"),
            "message": f"{name} frames the answer, which crmsim does itself: a rule cannot set it",
            "keyword": "framing",
        }
        for name in doc.get("headers") or {}
        if name.lower() in FRAMING
    ]
    try:
        check_keepable(doc.get("body"), None, BODY_DEPTH)
    except BadBody:
        found.append(
            {
                "pointer": "/body",
                "message": f"the body nests deeper than {BODY_DEPTH} levels",
                "keyword": "depth",
            }
        )
    else:
        found += bad_references(doc.get("body"), "/body")
    return found


def bad_references(node: Any, pointer: str) -> list[dict[str, str]]:
    """The references of a rule's body that can never have a value: ``{pointer, message}``."""
    if isinstance(node, dict):
        return [
            e
            for k, v in node.items()
            for e in bad_references(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}")
        ]
    if isinstance(node, list):
        return [e for i, v in enumerate(node) for e in bad_references(v, f"{pointer}/{i}")]
    if not isinstance(node, str):
        return []
    from simulator.scenarios.refs import REF, REF_PATH

    found = []
    for m in REF.finditer(node):
        ref = m.group(1)
        if ref is None:
            continue  # $${, a literal ${
        if not REF_PATH.match(ref) or ref.split(".")[0] not in ANSWER_ROOTS:
            found.append(
                {
                    "pointer": pointer,
                    "message": f"${{{ref}}} names nothing a request has; references start "
                    "with request. (method, path, query, headers, body, vendor, operation, "
                    "namespace) or are ${now}",
                    "keyword": "reference",
                }
            )
    return found
