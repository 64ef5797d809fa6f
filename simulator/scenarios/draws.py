"""``$draw``: request values drawn by Hypothesis, and the plain scenario a run leaves behind."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from simulator.scenarios.checks import scenario_schemas
from simulator.scenarios.refs import escape

Draw = Callable[[Any, str], Any]  # (strategy, label) -> value, Hypothesis' data.draw


def has_draw(node: Any) -> bool:
    """Whether ``node`` holds a ``{"$draw": ...}`` anywhere."""
    if isinstance(node, dict):
        return "$draw" in node or any(has_draw(v) for v in node.values())
    if isinstance(node, list):
        return any(has_draw(v) for v in node)
    return False


@functools.lru_cache(maxsize=256)
def draw_strategy(spec: str) -> Any:
    """The Hypothesis strategy of a ``$draw`` node (its JSON as the cache key)."""
    from hypothesis import strategies as st

    node = json.loads(spec)
    what = node["$draw"]
    pin = {
        k: draw_strategy(json.dumps(v)) if has_draw(v) else st.just(v)
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
        from simulator.schema_strategies import from_schema
        from simulator.testing import inline

        schemas = scenario_schemas()
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


def resolve_draws(node: Any, draw: Draw, label: str) -> Any:
    """``node`` with each ``$draw`` replaced by a value drawn (``label``: where, for Hypothesis)."""
    if isinstance(node, dict):
        if "$draw" in node:
            return draw(draw_strategy(json.dumps(node, sort_keys=True)), label)
        return {k: resolve_draws(v, draw, f"{label}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_draws(v, draw, f"{label}.{i}") for i, v in enumerate(node)]
    return node


def replace_draws(template: Any, drawn: Any) -> Any:
    """``template`` (as written) with each draw replaced by the value drawn for it, escaped."""
    if isinstance(template, dict):
        if "$draw" in template:
            return escape(drawn)
        return {
            k: replace_draws(v, drawn[k]) if isinstance(drawn, dict) and k in drawn else v
            for k, v in template.items()
        }
    if isinstance(template, list) and isinstance(drawn, list) and len(template) == len(drawn):
        return [replace_draws(t, d) for t, d in zip(template, drawn, strict=True)]
    return template
