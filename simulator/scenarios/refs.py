"""References in scenarios: ``${name}`` and ``${steps.N.…}``, and the values they name."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
REF_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$")


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
class Bindings:
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
