"""What a fault rule's templated body may name: the request, as ``${request...}``, and the
namespace's clock, as ``${now}`` (docs/control-plane.md, "One-off answers")."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.exceptions import HTTPException

from simulator.clock import iso
from simulator.http import BadBody, parse_json


def request_body(req: Request) -> Any:
    """The body as a reference sees it: JSON parsed, a url-encoded form as a map of its
    fields (the first of a repeated one), anything else as text; no body (or one over the
    size limit) is null, JSON that does not parse is its text."""
    try:
        data = req.get_data(cache=True)
    except HTTPException:
        return None
    if not data:
        return None
    text = data.decode("utf-8", "replace")
    mimetype = req.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            return parse_json(data)
        except BadBody:
            return text
    if mimetype == "application/x-www-form-urlencoded":
        fields: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, value)
        return fields
    return text


def request_values(
    req: Request, vendor: str | None, operation: str | None, namespace: str, now: Any
) -> dict[str, Any]:
    """The values a rule's body may refer to."""
    query: dict[str, str] = {}
    for name, value in req.args.items(multi=True):
        query.setdefault(name, value)
    return {
        "request": {
            "method": req.method,
            "path": req.path,
            "query": query,
            "headers": dict(req.headers.items()),
            "body": request_body(req),
            "vendor": vendor,
            "operation": operation,
            "namespace": namespace,
        },
        "now": iso(now),
    }
