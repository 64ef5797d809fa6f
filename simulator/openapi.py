"""OpenAPI 3.1 of every vendor route and of the control plane, generated from ``schemas/``.

Each schema file becomes one component (``schemas/botw/create_contact.request.json`` is
``#/components/schemas/botw.create_contact.request``) with its ``$ref`` rewritten to point
at components, so the document is the schema files themselves, not a second copy. Routes
come from the app's URL map; what each vendor operation reads and answers comes from its
``Operation`` declaration, what each control route reads and answers from ``admin.ROUTES``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from flask import Flask

from simulator import CONTROL_API_VERSION
from simulator.admin.routes import ROUTES
from simulator.guard import CONTROL_PREFIX, OPEN_PATHS, WRITES
from simulator.schemas import BASE_URI, Schemas
from simulator.vendors._base import Operation, Vendor

PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
JSON = "application/json"
PROBLEM = "application/problem+json"


def component_name(path: str) -> str:
    return path.removesuffix(".json").replace("/", ".")


def _ref(path: str, fragment: str = "") -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component_name(path)}{fragment}"}


def _rewrite(node: Any, base: str) -> Any:
    """Copy a schema, pointing every ``$ref`` at the components."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$schema", "$id"):
                continue
            if key == "$ref" and isinstance(value, str):
                target = urljoin(BASE_URI + base, value)
                file_uri, _, fragment = target.partition("#")
                return {**_ref(file_uri.removeprefix(BASE_URI), fragment.rstrip("/"))}
            out[key] = _rewrite(value, base)
        return out
    if isinstance(node, list):
        return [_rewrite(v, base) for v in node]
    return node


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in PARAM.findall(rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return PARAM.sub(r"{\2}", rule), params


def _query_params(schemas: Schemas, schema: str) -> list[dict[str, Any]]:
    doc = schemas.documents[schema]
    required = set(doc.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _rewrite(prop, schema),
        }
        for name, prop in doc.get("properties", {}).items()
    ]


def _json_content(schema: dict[str, Any], media: str = JSON) -> dict[str, Any]:
    return {media: {"schema": schema}}


def _vendor_operation(
    schemas: Schemas, vendor: Vendor, op: Operation, params: list[dict[str, Any]]
) -> dict[str, Any]:
    request_schema = f"{vendor.slug}/{op.name}.request.json"
    doc: dict[str, Any] = {
        "operationId": f"{vendor.slug}.{op.name}",
        "tags": [vendor.title],
        "summary": schemas.documents.get(request_schema, {}).get("title", op.name),
        "parameters": list(params),
        "responses": {},
    }
    has_schema = request_schema in schemas.documents
    carrier = op.reads.carrier
    if carrier in ("query", "form+query") and has_schema:
        doc["parameters"] += _query_params(schemas, request_schema)
    body: dict[str, Any] | None = None
    if carrier == "json" and has_schema:
        body = _json_content(_ref(request_schema))
    elif carrier in ("form", "form+query") and has_schema:
        body = {
            media: {"schema": _ref(request_schema)}
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        }
    elif carrier == "custom" and op.reads.wire_schema is not None:
        body = {
            media: {"schema": dict(op.reads.wire_schema)}
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        }
    if body is not None:
        doc["requestBody"] = {"required": carrier == "json", "content": body}
    for status in sorted(op.answers):
        refs = [_ref(name) for name in op.answer_schemas(vendor.slug, status)]
        doc["responses"][str(status)] = {
            "description": ", ".join(r["$ref"].rsplit("/", 1)[1] for r in refs),
            "content": _json_content(refs[0] if len(refs) == 1 else {"anyOf": refs}),
        }
    doc["responses"]["422"] = {
        "description": "strict_contract is on and the request violates its schema",
        "content": _json_content(_ref("sim/problem.json"), PROBLEM),
    }
    return doc


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``."""
    sim = app.extensions["crmsim"]
    schemas: Schemas = sim.schemas
    paths: dict[str, dict[str, Any]] = {}
    control = {f"sim.{r.view.__name__}": r for r in ROUTES}
    vendors = {v.slug: v for v in sim.vendors}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        path, params = _path_and_params(rule.rule)
        blueprint, _, name = rule.endpoint.partition(".")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] | None = None
            if blueprint in vendors:
                op = vendors[blueprint].operation(name)
                if op is not None:
                    operation = _vendor_operation(schemas, vendors[blueprint], op, params)
            elif rule.endpoint in control and "{vendor}" in path:
                # one path per vendor, each with that vendor's state schema
                for slug in vendors:
                    paths.setdefault(path.replace("{vendor}", slug), {})[method.lower()] = (
                        _control_operation(control[rule.endpoint], [], slug)
                    )
            elif rule.endpoint in control:
                operation = _control_operation(control[rule.endpoint], params)
            if operation is not None:
                paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crmsim",
            "version": sim.version,
            # the control plane's own version (CHANGELOG.md, "Versions and upgrades")
            "x-crmsim-control-api": CONTROL_API_VERSION,
            "description": "Four CRM vendors' HTTP APIs, simulated, and the control plane "
            "under /__sim. Every path is also served under /__ns/{namespace}. "
            f"info.version is crmsim's version (semantic versioning); x-crmsim-control-api "
            f"({CONTROL_API_VERSION}) is the control plane's, MAJOR.MINOR: a minor step only "
            "adds a route, an optional field or parameter, a major one removes or changes a "
            "meaning and is announced one release ahead (CHANGELOG.md).",
        },
        "paths": paths,
        "components": {
            "schemas": {component_name(n): _rewrite(d, n) for n, d in schemas.documents.items()},
            "securitySchemes": {
                "controlToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The control token (CRMSIM_CONTROL_TOKEN), when crmsim "
                    "has one; without one the control plane needs none.",
                }
            },
        },
    }


def _guarded(doc: dict[str, Any], route: Any) -> None:
    """What simulator/guard.py answers before the route: 403 (a foreign Origin, a
    non-loopback Host on a loopback bind), 401 (the control token, unless the path is open),
    415 (a write that is not JSON)."""
    problem = _json_content(_ref("sim/problem.json"), PROBLEM)
    doc["responses"]["403"] = {"description": "a foreign Origin or Host", "content": problem}
    if f"{CONTROL_PREFIX}{route.rule}".startswith(OPEN_PATHS) and route.method == "GET":
        doc["security"] = [{}]
    else:
        doc["security"] = [{"controlToken": []}, {}]
        doc["responses"]["401"] = {"description": "control token required", "content": problem}
    if route.method in WRITES:
        doc["responses"]["415"] = {"description": "not JSON", "content": problem}


def _control_operation(
    route: Any, params: list[dict[str, Any]], vendor: str | None = None
) -> dict[str, Any]:
    """A control route's operation; with ``vendor``, its ``/state/{vendor}`` path for that
    vendor (body and answer ``{vendor}/state.json``)."""
    answer = (
        _ref(f"{vendor}/state.json")
        if vendor
        else _ref(f"sim/{route.answer}.json")
        if route.answer
        else {"type": "object"}
    )
    doc: dict[str, Any] = {
        "operationId": f"sim.{route.view.__name__}" + (f".{vendor}" if vendor else ""),
        "tags": ["control plane"],
        "summary": (route.view.__doc__ or "").strip(),
        "parameters": list(params),
        "responses": {
            str(route.status): {
                "description": "done",
                "content": (
                    # An answer with a "/" is a media type, not a schema (the dashboard's files).
                    {route.answer: {"schema": {"type": "string"}}}
                    if route.answer and "/" in route.answer
                    else _json_content(answer)
                ),
            },
            "400": {
                "description": "invalid document",
                "content": _json_content(_ref("sim/problem.json"), PROBLEM),
            },
            "404": {
                "description": "no such thing",
                "content": _json_content(_ref("sim/problem.json"), PROBLEM),
            },
        },
    }
    if route.body:
        doc["requestBody"] = {
            "required": route.body != "reset",
            "content": _json_content(_ref(f"sim/{route.body}.json")),
        }
    elif vendor and route.method == "PUT":
        doc["requestBody"] = {"required": True, "content": _json_content(answer)}
    if route.method != "GET":
        problem = _json_content(_ref("sim/problem.json"), PROBLEM)
        doc["responses"]["413"] = {"description": "over max_control_bytes", "content": problem}
        doc["responses"]["429"] = {"description": "over max_namespaces", "content": problem}
    if route.minimal:
        doc["parameters"].append(
            {
                "name": "Prefer",
                "in": "header",
                "required": False,
                "description": "return=minimal: answer 204 instead of the loaded state",
                "schema": {"type": "string"},
            }
        )
        doc["responses"]["204"] = {"description": "loaded (Prefer: return=minimal)"}
    if route.etag:
        doc["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "the ETag of the last answer: 304 while nothing was written",
                "schema": {"type": "string"},
            }
        )
        tag = {"description": "changes with every write", "schema": {"type": "string"}}
        doc["responses"][str(route.status)]["headers"] = {"ETag": tag}
        doc["responses"]["304"] = {"description": "not modified since that ETag"}
    _guarded(doc, route)
    doc["parameters"] += [
        {"name": name, "in": "query", "required": False, "schema": dict(schema)}
        for name, schema in route.query.items()
    ]
    return doc
