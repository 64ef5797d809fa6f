"""Hypothesis strategies for every vendor operation, drawn from crmsim's own schemas.

    from simulator.testing import strategy

    @given(strategy("botw.create_contact"))
    def test_my_client_accepts_what_botw_accepts(form): ...

``strategy(operation)`` generates request documents that the operation's request schema
(``schemas/<vendor>/<op>.request.json``) accepts, via ``simulator.schema_strategies``
(crmsim's own JSON Schema generator, on Hypothesis' public API), then makes
names, emails and phones look real with Faker (seeded from Hypothesis, so examples shrink
and replay). ``pin`` fixes fields: ``strategy("botw.create_contact", pin={"email": ...})``
where a value may itself be a strategy.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from faker import Faker
from hypothesis import strategies as st

from simulator.schema_strategies import from_schema
from simulator.schemas import BASE_URI, Schemas, default_schemas_dir, load
from simulator.vendors import VENDORS


def all_schemas() -> Schemas:
    return load(default_schemas_dir().resolve())


def inline(schema: Any, base: str, schemas: Schemas, depth: int = 0) -> Any:
    """A copy of ``schema`` with every ``$ref`` (across files too) replaced by its target."""
    if depth > 20:
        raise ValueError("schema references nest too deeply to inline")
    if isinstance(schema, list):
        return [inline(v, base, schemas, depth) for v in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = urljoin(BASE_URI + base, schema["$ref"])
        file_uri, _, fragment = target.partition("#")
        name = file_uri.removeprefix(BASE_URI)
        node: Any = schemas.documents[name]
        for part in [p for p in fragment.split("/") if p]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        resolved = inline(node, name, schemas, depth + 1)
        return {**resolved, **rest} if rest else resolved
    return {
        k: inline(v, base, schemas, depth)
        for k, v in schema.items()
        if k not in ("$id", "$schema", "definitions")
    }


@functools.cache
def request_schema(operation: str) -> dict[str, Any]:
    """The inlined request schema of ``vendor.operation``."""
    vendor, _, name = operation.partition(".")
    path = f"{vendor}/{name}.request.json"
    schemas = all_schemas()
    if path not in schemas.documents:
        raise KeyError(f"no request schema for {operation} ({path})")
    result: dict[str, Any] = inline(schemas.documents[path], path, schemas)
    return result


Fake = Callable[[Faker], str]
FAKES: dict[str, Fake] = {
    "email": lambda f: f.email(),
    "email_address": lambda f: f.email(),
    "first_name": lambda f: f.first_name(),
    "firstname": lambda f: f.first_name(),
    "last_name": lambda f: f.last_name(),
    "lastname": lambda f: f.last_name(),
    "middle_name": lambda f: f.first_name(),
    "name": lambda f: f.name(),
    "company_name": lambda f: f.company(),
    "phone": lambda f: f.numerify("+1 (###) ###-####"),
    "mobileno": lambda f: f.numerify("98########"),
    "comment": lambda f: f.sentence(),
}


def _realistic(doc: Any, faker: Faker, key: str | None = None) -> Any:
    if isinstance(doc, dict):
        if key in ("emails", "phones") and "value" in doc:
            fake = FAKES["email" if key == "emails" else "phone"]
            return {**doc, "value": fake(faker)}
        return {k: _realistic(v, faker, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_realistic(v, faker, key) for v in doc]
    if isinstance(doc, str) and key in FAKES:
        return FAKES[key](faker)
    return doc


def refine(schemas: Schemas, path: str, doc: Any, seed: int) -> Any:
    """Make the document look real where that keeps it valid; else keep it as generated."""
    faker = Faker()
    faker.seed_instance(seed)
    candidate = _realistic(copy.deepcopy(doc), faker)
    return candidate if not schemas.validate(path, candidate) else doc


@functools.cache
def schema_strategy(path: str) -> st.SearchStrategy[Any]:
    schemas = all_schemas()
    return from_schema(inline(schemas.documents[path], path, schemas))


def strategy(operation: str, pin: Mapping[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Request documents of ``vendor.operation`` that its request schema accepts."""
    vendor, _, name = operation.partition(".")
    path = f"{vendor}/{name}.request.json"
    found = all_schemas()
    composed = VENDORS[vendor].strategies.get(name) if vendor in VENDORS else None
    # a vendor may compose a strategy whose schema is better drawn from its parts
    base = composed() if composed is not None else schema_strategy(path)
    pinned = {
        k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in (pin or {}).items()
    }

    @st.composite
    def documents(draw: st.DrawFn) -> Any:
        doc = refine(found, path, draw(base), draw(st.integers(0, 2**31)))
        if pinned and isinstance(doc, dict):
            doc = {**doc, **{k: draw(v) for k, v in pinned.items()}}
        return doc

    return documents()


def operations() -> list[str]:
    """Every declared ``vendor.operation`` that has a request schema."""
    found = all_schemas()
    return sorted(
        f"{vendor.slug}.{op.name}"
        for vendor in VENDORS.values()
        for op in vendor.operations
        if found.has(f"{vendor.slug}/{op.name}.request.json")
    )
