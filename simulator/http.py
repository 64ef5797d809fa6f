"""Strict request parsing shared by the vendors (G2: RFC 8259 JSON, no repairs).

Each function raises ``BadBody`` with a ``reason``; the vendor's route turns that into the
vendor's own error. Nothing here knows a vendor.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadBody(Exception):
    """A request body or query that cannot be read.

    ``reason`` is one of ``json`` (not RFC 8259 JSON), ``encoding`` (not UTF-8),
    ``content_type`` (not a form), ``malformed`` (a form pair with no name) and
    ``duplicate`` (a parameter given twice; ``field`` names it).
    """

    def __init__(self, reason: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.field = field


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes | str) -> Any:
    """Parse RFC 8259 JSON strictly: UTF-8 only, no NaN/Infinity, no trailing data."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BadBody("encoding", "the body is not UTF-8") from exc
    except RecursionError as exc:
        raise BadBody("json", "the JSON is nested too deeply") from exc
    except ValueError as exc:
        raise BadBody("json", f"invalid JSON: {exc}") from exc


def read_json() -> Any:
    """The request body as strict JSON (the content type is not consulted)."""
    return parse_json(request.get_data(cache=True))


def parse_urlencoded(raw: bytes) -> dict[str, str]:
    """Parse ``a=1&b=2`` strictly: UTF-8 after percent-decoding, each name at most once."""
    fields: dict[str, str] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        name_raw, _, value_raw = part.partition(b"=")
        try:
            name = unquote_to_bytes(name_raw.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(value_raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadBody("encoding", "the parameters are not UTF-8") from exc
        if not name:
            raise BadBody("malformed", "a parameter has no name")
        if name in fields:
            raise BadBody("duplicate", f"the parameter '{name}' is given more than once", name)
        fields[name] = value
    return fields


def read_query() -> dict[str, str]:
    """The query string, parsed strictly."""
    return parse_urlencoded(request.environ.get("QUERY_STRING", "").encode("latin-1"))


def read_form(allow_empty_body: bool = True) -> dict[str, str]:
    """The form body (url-encoded or multipart), parsed strictly.

    An empty body with no content type reads as no fields; a non-empty body of any other
    content type is ``content_type``.
    """
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        form = request.form
        fields: dict[str, str] = {}
        for name in form:
            values = form.getlist(name)
            if len(values) > 1:
                raise BadBody("duplicate", f"the parameter '{name}' is given more than once", name)
            fields[name] = values[0]
        return fields
    raw = request.get_data(cache=True)
    if mimetype == "application/x-www-form-urlencoded":
        return parse_urlencoded(raw)
    if not raw and allow_empty_body:
        return {}
    raise BadBody(
        "content_type",
        f"expected a form body (application/x-www-form-urlencoded), got {mimetype or 'none'}",
    )


def read_form_and_query() -> dict[str, str]:
    """Query parameters and form fields together, the form winning on a clash."""
    return {**read_query(), **read_form()}
