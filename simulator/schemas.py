"""The JSON Schemas under ``schemas/``: loaded and checked once, used for validation.

Each file is registered under ``https://crmsim.local/schemas/<path>`` (its ``$id`` is set to
that), so relative ``$ref`` between files work. ``validate(name, instance)`` returns
violations ``{"pointer", "message", "keyword"}`` with messages a developer can act on.

Validation has a fast path: the Rust validator ``jsonschema_rs`` answers "valid or not"
(a whole 100,000-record state document in a tenth of a second, where python-jsonschema takes
tens of seconds). python-jsonschema stays the authority: when the fast path says invalid,
or cannot take the instance, python-jsonschema runs and its errors (or its verdict of valid)
are the answer. The Rust copies of the schemas spell ``\\s``/``\\S`` as Python's whitespace
class, so the fast path is never more lenient than Python's ``re`` (where the two regex
dialects differ, e.g. ``\\d`` and ``$``, it is stricter, and Python decides).

python-jsonschema (with ``referencing`` and ``attrs``, about 45 ms of an app's start) is
imported, and its registry of the schema files built, on the first refusal it explains: an
app that only ever sees valid documents never loads it (docs/serving.md, "Start to first
answer").
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urldefrag, urljoin

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

BASE_URI = "https://crmsim.local/schemas/"
DRAFT7_URI = "http://json-schema.org/draft-07/schema#"
# Python's ``\s`` for str patterns (every ``str.isspace()`` character), as class contents.
PY_SPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000"
)


def ecma_pattern(pattern: str) -> str:
    """``pattern`` with ``\\s`` and ``\\S`` spelled as Python's ``re`` reads them."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(PY_SPACE if in_class else f"[{PY_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{PY_SPACE}]")
            else:  # \S inside a class is left alone (no schema uses it)
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def _rust_copy(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_rust_copy(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        k: ecma_pattern(v) if k == "pattern" and isinstance(v, str) else _rust_copy(v)
        for k, v in schema.items()
    }


def default_schemas_dir() -> Path:
    """``schemas/`` beside the package (a checkout), else the copy inside the package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas", here / "_schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("crmsim cannot find its schemas/ directory")


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) from a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def type_name(value: Any) -> str:
    """The JSON Schema type name of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: Any) -> str:
    """``value`` as JSON, cut to 80 characters (a 4,000-digit number is not echoed whole)."""
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _message(error: ValidationError) -> str:
    kw, val, inst = error.validator, error.validator_value, error.instance
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if kw == "type":
        expected = " or ".join(val) if isinstance(val, list) else str(val)
        return f"expected {expected}, got {type_name(inst)}"
    if kw == "enum":
        allowed = ", ".join(json.dumps(v) for v in cast(list[Any], val))
        return f"expected one of {allowed}, got {json.dumps(inst)}"
    if kw == "const":
        return f"expected {json.dumps(val)}, got {json.dumps(inst)}"
    if kw == "additionalProperties":
        extra = sorted(set(cast(dict[str, Any], inst)) - set(schema.get("properties", {})))
        return f"unexpected propert{'y' if len(extra) == 1 else 'ies'}: {', '.join(extra)}"
    if kw == "minLength" and val == 1:
        return "must not be empty"
    described = schema.get("description")
    if kw in ("pattern", "format", "not", "minLength", "maxLength") and described:
        return f"expected {described}, got {_shown(inst)}"
    if kw == "pattern":
        return f"expected a string matching {val}, got {_shown(inst)}"
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {
            "minimum": ">=",
            "maximum": "<=",
            "exclusiveMinimum": ">",
            "exclusiveMaximum": "<",
        }[str(kw)]
        # the bound itself first: a description may speak of the other side (at most 100
        # years, said of a negative number)
        also = f" ({described})" if described else ""
        return f"expected a number {bound} {val}{also}, got {_shown(inst)}"
    if kw in ("anyOf", "oneOf") and schema.get("description"):
        return str(schema["description"])
    if kw in ("anyOf", "oneOf") and isinstance(val, list):
        # never python-jsonschema's "{'stauts': 201} is not valid under any of ...": a
        # Python repr of the value, which the other problems at this pointer already place
        needs = [b["required"] for b in val if isinstance(b, dict) and set(b) == {"required"}]
        if len(needs) == len(val):
            return "needs " + " or ".join(" and ".join(n) for n in needs)
        return f"matches none of the {len(val)} forms it may take"
    if kw == "not" and isinstance(val, dict):  # "not required together": which ones
        branches = val.get("anyOf", [val])
        groups = [b["required"] for b in branches if isinstance(b, dict) and set(b) == {"required"}]
        if groups and len(groups) == len(branches):
            if not isinstance(inst, dict):  # said by its type error (same text: said once)
                return f"expected object, got {type_name(inst)}"
            given = [g for g in groups if set(g) <= set(inst)]
            return "takes only one of " + ", ".join(dict.fromkeys(n for g in given for n in g))
    return str(error.message)


def violations(validator: Draft7Validator, instance: Any) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    # python-jsonschema yields one ``required`` error per missing property, each carrying the
    # whole ``required`` list: report each missing property once, however many errors name it.
    missing: set[str] = set()
    said: set[tuple[str, str]] = set()
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    except RecursionError:  # python-jsonschema recurses a few frames per level and keyword
        return [
            {
                "pointer": "",
                "message": "the document nests too deeply for its errors to be told apart; "
                "nest it less",
                "keyword": "depth",
            }
        ]
    for error in errors:
        base = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                at = pointer([*base, name])
                if name not in error.instance and at not in missing:
                    missing.add(at)
                    found.append(
                        {
                            "pointer": at,
                            "message": f"missing required property '{name}'",
                            "keyword": "required",
                        }
                    )
            continue
        at, message = pointer(base), _message(error)
        if (at, message) in said:
            continue  # two keywords saying the same thing of one value: say it once
        said.add((at, message))
        found.append({"pointer": at, "message": message, "keyword": str(error.validator)})
    return found


class Schemas:
    """Every schema file, checked once; a validator per file on demand."""

    def __init__(self, root: Path, vendors: Sequence[tuple[str, Path | None]] = ()) -> None:
        self.root = root
        self.documents: dict[str, dict[str, Any]] = {}
        files = [(path.relative_to(root).as_posix(), path) for path in sorted(root.rglob("*.json"))]
        for slug, where in vendors:  # a vendor that keeps its schemas in its own directory
            if where is not None:
                files += [
                    (f"{slug}/{path.relative_to(where).as_posix()}", path)
                    for path in sorted(where.rglob("*.json"))
                ]
        for name, path in files:
            doc = json.loads(path.read_text(encoding="utf-8"))
            self.documents[name] = {
                "$id": BASE_URI + name,
                **{k: v for k, v in doc.items() if k != "$id"},
            }
        if vendors:
            _list_vendors(self.documents, [slug for slug, _ in vendors])
        rust = {name: _rust_copy(doc) for name, doc in self.documents.items()}
        for name, doc in self.documents.items():
            # the Rust check against Draft 7's meta-schema answers "valid?" in microseconds;
            # python-jsonschema's (about 10 ms a file) only runs to explain a refusal
            if not jsonschema_rs.meta.is_valid({**rust[name], "$schema": DRAFT7_URI}):
                from jsonschema import Draft7Validator

                Draft7Validator.check_schema(doc)
        self._registry: Registry[Any] | None = None  # python-jsonschema's, on first use
        self._registry_lock = threading.Lock()
        self._validators: dict[str, Draft7Validator] = {}
        self._fast_registry = jsonschema_rs.Registry([(BASE_URI + n, d) for n, d in rust.items()])
        self._fast: dict[str, Any] = {}
        self._depths: dict[str, float] = {}

    def names(self) -> Iterator[str]:
        return iter(self.documents)

    def has(self, name: str) -> bool:
        return name in self.documents

    @property
    def registry(self) -> Registry[Any]:
        """python-jsonschema's registry of every schema file (``$ref`` across files), built
        the first time a validator needs it."""
        with self._registry_lock:
            if self._registry is None:
                from referencing import Registry
                from referencing.jsonschema import DRAFT7

                resources = [
                    (BASE_URI + n, DRAFT7.create_resource(d)) for n, d in self.documents.items()
                ]
                self._registry = Registry().with_resources(resources).crawl()
            return self._registry

    def validator(self, name: str) -> Draft7Validator:
        found = self._validators.get(name)
        if found is None:
            from jsonschema import Draft7Validator, FormatChecker

            found = Draft7Validator(
                self.documents[name], registry=self.registry, format_checker=FormatChecker()
            )
            self._validators[name] = found
        return found

    def fast_valid(self, name: str, instance: Any) -> bool:
        """True when the Rust validator accepts ``instance``; False when it does not, or
        cannot read it (e.g. an integer beyond 64 bits): then ask python-jsonschema."""
        found = self._fast.get(name)
        if found is None:
            found = jsonschema_rs.Draft7Validator(
                _rust_copy(self.documents[name]),
                registry=self._fast_registry,
                validate_formats=True,
            )
            self._fast[name] = found
        try:
            return bool(found.is_valid(instance))
        except Exception:  # any failure means "not known valid"
            return False

    def depth_bound(self, name: str) -> float:
        """The deepest nesting of arrays and objects (``http.check_keepable``'s depth: a
        scalar 0, ``[]`` 1) of any instance valid against the schema file ``name``;
        ``math.inf`` when no bound follows from the schema (a free-form value, a ``$ref``
        cycle, a keyword this does not read). An upper bound: keywords that only narrow
        (``required``, ``not``, ``if``, ``maxItems``...) are not read."""
        found = self._depths.get(name)
        if found is None:
            found = self._depths[name] = _depth_bound(
                self.documents, self.documents[name], BASE_URI + name, frozenset()
            )
        return found

    def validate(self, name: str, instance: Any) -> list[dict[str, str]]:
        """Violations of ``instance`` against the schema file ``name`` (``botw/state.json``)."""
        if self.fast_valid(name, instance):
            return []
        return violations(self.validator(name), instance)


def _value_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_value_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_value_depth, value), default=0)
    return 0


def _depth_bound(
    documents: dict[str, dict[str, Any]], schema: Any, base: str, refs: frozenset[str]
) -> float:
    """``Schemas.depth_bound`` of one (sub)schema read at ``base``; ``refs``: the
    ``$ref``s being followed (met again: a cycle, unbounded)."""
    if schema is True or schema is False:
        return math.inf if schema else 0
    if not isinstance(schema, dict) or ("$id" in schema and schema["$id"] != base):
        return math.inf  # a resource of its own inside a file: not resolved here
    if "$ref" in schema:  # Draft 7: the keywords beside a $ref are ignored
        url, fragment = urldefrag(urljoin(base, schema["$ref"]))
        target: Any = documents.get(url[len(BASE_URI) :]) if url.startswith(BASE_URI) else None
        for part in [p for p in fragment.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            else:
                target = None
        if target is None or url + "#" + fragment in refs:
            return math.inf
        return _depth_bound(documents, target, url, refs | {url + "#" + fragment})

    def below(subs: list[Any]) -> float:
        return max((_depth_bound(documents, s, base, refs) for s in subs), default=0)

    types = schema.get("type")
    kinds = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else None
    bound: float = 0 if kinds is None or kinds - {"object", "array"} else -1
    if kinds is None or "object" in kinds:
        subs = [
            *schema.get("properties", {}).values(),
            *schema.get("patternProperties", {}).values(),
        ]
        bound = max(bound, 1 + below([*subs, schema.get("additionalProperties", True)]))
    if kinds is None or "array" in kinds:
        items = schema.get("items", True)
        subs = [*items, schema.get("additionalItems", True)] if isinstance(items, list) else [items]
        bound = max(bound, 1 + below(subs))
    for sub in schema.get("allOf", []):
        bound = min(bound, _depth_bound(documents, sub, base, refs))
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            bound = min(bound, below(schema[keyword]))
    if "enum" in schema:
        bound = min(bound, max(map(_value_depth, schema["enum"]), default=0))
    if "const" in schema:
        bound = min(bound, _value_depth(schema["const"]))
    return max(bound, 0)


def _list_vendors(documents: dict[str, dict[str, Any]], slugs: list[str]) -> None:
    """Where the control plane's schemas name the vendors, name the registry's: the state
    document's parts, a fault rule's ``vendor``, a reset's ``vendors``."""
    state = documents.get("sim/state.schema.json")
    if state is not None:
        state["properties"] = {
            s: {"$ref": f"../{s}/state.json"} for s in slugs if f"{s}/state.json" in documents
        }
    fault = documents.get("sim/fault.json")
    if fault is not None:
        fault["properties"]["vendor"] = {**fault["properties"]["vendor"], "enum": slugs}
    reset = documents.get("sim/reset.json")
    if reset is not None:
        items = reset["properties"]["vendors"]["items"]
        reset["properties"]["vendors"]["items"] = {**items, "enum": slugs}


@functools.lru_cache(maxsize=8)
def _load(root: Path, vendors: tuple[tuple[str, Path | None], ...]) -> Schemas:
    return Schemas(root, vendors)


def load(root: Path) -> Schemas:
    """The schemas under ``root`` and those of every registered vendor, loaded once per
    process (they are data, never state)."""
    from simulator.vendors import VENDORS

    return _load(root, tuple((v.slug, v.schemas_dir) for v in VENDORS.values()))
