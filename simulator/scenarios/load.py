"""Loading scenario files: YAML with line numbers, checked completely before anything runs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.http import CONTROL_MAX_DEPTH, BadBody, check_keepable
from simulator.scenarios.checks import (
    REQUEST_KEYS,
    Checker,
    FileProblem,
    check_steps,
    check_verify,
    scenario_schemas,
)
from simulator.scenarios.draws import has_draw
from simulator.schemas import Schemas, pointer

DEFAULT_EXAMPLES = 25


class ScenarioInvalid(Exception):
    """One or more scenario files are invalid; nothing was run."""

    def __init__(self, problems: list[FileProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


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
        return any(has_draw(step.get(k)) for step in self.steps for k in REQUEST_KEYS)

    @property
    def examples(self) -> int:
        return int(self.doc.get("examples", DEFAULT_EXAMPLES))


def loads(text: str, file: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Parse and check a scenario; raises ``ScenarioInvalid`` naming every problem."""
    check = Checker(file, {})
    try:
        node = yaml.compose(text, Loader=_Loader)
        doc = _stringify_keys(yaml.load(text, Loader=_Loader))  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioInvalid([FileProblem(file, line, "", f"not valid YAML: {problem}")]) from exc
    except RecursionError as exc:  # PyYAML's composer recurses once per level
        raise ScenarioInvalid(
            [FileProblem(file, None, "", "not valid YAML: nested too deeply")]
        ) from exc
    except ValueError as exc:  # an integer past Python's 4,300 digits
        raise ScenarioInvalid([FileProblem(file, None, "", f"not valid YAML: {exc}")]) from exc
    try:  # what the control plane refuses in its documents, said before anything runs
        check_keepable(doc, None, CONTROL_MAX_DEPTH)
    except BadBody as exc:
        raise ScenarioInvalid([FileProblem(file, None, "", exc.detail)]) from exc
    if node is not None:
        _lines(node, "", check.lines)
    if not isinstance(doc, dict):
        check.add("", "a scenario is a mapping with name and steps")
        raise ScenarioInvalid(check.problems)
    schemas = scenario_schemas()
    for v in schemas.validate("sim/scenario.json", doc):
        extra = v["message"].partition(": ")[2].split(", ")
        if v["keyword"] == "additionalProperties" and v["message"].startswith("unexpected"):
            for name in extra:  # placed on the line of the key itself
                check.add(v["pointer"] + pointer([name]), f"unexpected property {name}")
        else:
            check.add(v["pointer"], v["message"])
    # one pass: the static checks run on whatever parts have their shape, even when the
    # schema found problems elsewhere, so a file's problems are all said at once
    shaped = not check.problems
    try:
        given = _given(_part(doc, "given", dict, {}), base_dir, check, schemas)
        steps = _part(doc, "steps", list, [])
        saved = check_steps(steps, check, schemas, _part(doc, "vars", dict, {}))
        check_verify(_part(doc, "verify", list, []), "/verify", len(steps), saved, check)
    except (AttributeError, KeyError, TypeError):
        if shaped:
            raise  # a well-formed file must never break a check: a bug
        # a part whose shape the schema already refused: its problems are said
    if check.problems:
        check.problems.sort(key=lambda p: (p.line or 0, p.pointer))
        raise ScenarioInvalid(check.problems)
    return Scenario(doc, given, file, check.lines)


def _part(doc: dict[str, Any], key: str, kind: type, empty: Any) -> Any:
    """``doc[key]`` when it has its shape (the schema says so otherwise), else ``empty``."""
    value = doc.get(key, empty)
    return value if isinstance(value, kind) else empty


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
    raw: dict[str, Any], base_dir: Path | None, check: Checker, schemas: Schemas
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
