"""Strict request parsing shared by the vendors (GEN-JSON-1: RFC 8259 JSON, no repairs).

Each function raises ``BadBody`` with a ``reason``; the vendor's route turns that into the
vendor's own error. Nothing here knows a vendor.

What is accepted must be kept: every accepted document can be written to a snapshot
(UTF-8 JSON) and read back. So JSON is refused, at the limits of PHP's ``json_decode``
(behind many such vendors), when it nests arrays and objects deeper than ``MAX_DEPTH``
(512), when a ``\\uD800``-style escape leaves an unpaired surrogate (no UTF-8 can carry
it), and when a number is too large for a double (``1e400``, which would read as
infinity). Forms and queries are strict UTF-8 (surrogates cannot be encoded in it), and
multipart fields are decoded by werkzeug with replacement characters, so neither can carry
an unpaired surrogate.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_DEPTH = 512  # PHP json_decode's default depth: arrays and objects nested at most this deep
_SURROGATE = re.compile("[\ud800-\udfff]")
# Control documents (a state dump holds vendor records a few levels down) may nest deeper.
CONTROL_MAX_DEPTH = MAX_DEPTH + 32
TOO_DEEP = f"the JSON is nested deeper than {MAX_DEPTH} levels"
LONE_SURROGATE = "the JSON holds an unpaired surrogate"


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


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _too_deep(max_depth: int) -> str:
    return (
        TOO_DEEP if max_depth == MAX_DEPTH else f"the JSON is nested deeper than {max_depth} levels"
    )


def parse_json(
    raw: bytes | str, max_depth: int = MAX_DEPTH, shallow: Callable[[Any], bool] | None = None
) -> Any:
    """Parse RFC 8259 JSON strictly: UTF-8 only, no NaN/Infinity, no trailing data, and
    nothing a snapshot could not keep (see the module's docstring). ``shallow``: as for
    ``check_keepable``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise BadBody("encoding", "the body is not UTF-8") from exc
    except RecursionError as exc:
        raise BadBody("json", _too_deep(max_depth)) from exc
    except ValueError as exc:
        raise BadBody("json", f"invalid JSON: {exc}") from exc
    check_keepable(doc, text, max_depth, shallow)
    return doc


def check_keepable(
    doc: Any,
    text: str | None = None,
    max_depth: int = MAX_DEPTH,
    shallow: Callable[[Any], bool] | None = None,
) -> None:
    """Raise ``BadBody`` (``json``) if ``doc`` nests deeper than ``max_depth`` or holds an
    unpaired surrogate. With ``text`` (the JSON it was read from), documents that cannot
    hold either are not walked: fewer brackets than ``max_depth``, no ``\\uD...`` escape.
    ``shallow(doc)`` True vouches that ``doc`` nests at most ``max_depth`` deep (a state
    document the Rust validator accepted against a schema of bounded depth): then it is
    not walked for depth (only if an escape could have made a surrogate, as before)."""
    # a backslash first: one character's search rules out both escapes in most texts
    strings = text is None or ("\\" in text and ("\\ud" in text or "\\uD" in text))
    if not strings and shallow is not None and shallow(doc):
        return  # not deep, and no escape to search: no walk (nor its brackets counted)
    deep = text is None or text.count("[") + text.count("{") > max_depth
    if not (deep or strings) or not isinstance(doc, dict | list):
        if strings and isinstance(doc, str) and _SURROGATE.search(doc):
            raise BadBody("json", LONE_SURROGATE)
        return
    # Level by level (no recursion, one comprehension per container): the containers of
    # the next level, and (only when an escape could have made one) the strings to search.
    level: list[Any] = [doc]
    depth = 1
    while level and not strings:
        # depth only (a large state document): a level's values chained at once, no
        # comprehension per container (a fifth less time on 100,000 AntCRM records)
        if depth > max_depth:
            raise BadBody("json", _too_deep(max_depth))
        chained = itertools.chain(
            itertools.chain.from_iterable(
                map(dict.values, [n for n in level if n.__class__ is dict])
            ),
            itertools.chain.from_iterable([n for n in level if n.__class__ is list]),
        )
        level = [v for v in chained if v.__class__ is dict or v.__class__ is list]
        depth += 1
    while level:
        if depth > max_depth:
            raise BadBody("json", _too_deep(max_depth))
        below: list[Any] = []
        texts: list[str] = []
        for node in level:
            values = node.values() if node.__class__ is dict else node
            below += [v for v in values if v.__class__ is dict or v.__class__ is list]
            if strings:
                if node.__class__ is dict:
                    texts += node
                texts += [v for v in values if v.__class__ is str]
        for i in range(0, len(texts), 256):  # a few strings at a time: bounded memory
            if _SURROGATE.search("".join(texts[i : i + 256])):
                raise BadBody("json", LONE_SURROGATE)
        level = below
        depth += 1


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
