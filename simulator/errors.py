"""Errors: the control plane's problem documents and the base of every vendor error.

Every error the simulator answers is an exception rendered in exactly one place:
``SimulatorError.to_response``. Control-plane errors are RFC 9457 problem documents
(``Problem``); vendor errors subclass ``VendorError`` in ``vendors/<vendor>/errors.py`` and
render the vendor's own body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, Self, TypeVar

from flask import Response
from werkzeug.datastructures import Headers

# json.dumps with an argument of its own builds an encoder per call: one, built once
_UTF8_JSON = json.JSONEncoder(ensure_ascii=False)
_ASCII_JSON = json.JSONEncoder()


def utf8_json(body: Any) -> bytes:
    """``json.dumps(body, ensure_ascii=False)`` in UTF-8; ``UnicodeEncodeError`` when a
    string holds a lone surrogate (valid JSON escape, not UTF-8)."""
    return _UTF8_JSON.encode(body).encode("utf-8")


def encode_json(body: Any) -> bytes:
    """``body`` as UTF-8 JSON (``json.dumps(body, ensure_ascii=False)``)."""
    try:
        return utf8_json(body)
    except UnicodeEncodeError:  # a lone surrogate: kept escaped
        return _ASCII_JSON.encode(body).encode("ascii")


# (status, mimetype) -> (status line, status code, Content-Type) as Werkzeug makes them, or
# None when its Response is not made of the fields ``json_response`` sets (another version)
_SHAPES: dict[tuple[int, str], tuple[str, int, str] | None] = {}
_FIELDS = {"headers", "_status", "_status_code", "direct_passthrough", "_on_close", "response"}


def _shape(status: int, mimetype: str) -> tuple[str, int, str] | None:
    made = Response(b"", status=status, mimetype=mimetype)
    if vars(made).keys() != _FIELDS or list(made.headers.keys()) != [
        "Content-Type",
        "Content-Length",
    ]:
        return None  # made otherwise than this module knows: always by its constructor
    return made.status, made.status_code, made.headers["Content-Type"]


def json_response(
    body: Any,
    status: int,
    headers: dict[str, str] | None = None,
    mimetype: str = "application/json",
) -> Response:
    """A JSON response, as ``Response(encode_json(body), status=status, mimetype=mimetype,
    headers=headers)`` makes it. Every vendor answer is one: without extra headers its
    fields are set straight, with the status line and ``Content-Type`` Werkzeug made for
    that status and mimetype the first time, if Werkzeug's ``Response`` is made of those
    fields (tests/unit/test_errors.py compares the two)."""
    data = encode_json(body)
    key = (status, mimetype)
    shape = _SHAPES[key] if key in _SHAPES else _SHAPES.setdefault(key, _shape(*key))
    if headers or shape is None:
        return Response(data, status=status, mimetype=mimetype, headers=headers)
    answer_headers = Headers()
    answer_headers._list = [("Content-Type", shape[2]), ("Content-Length", str(len(data)))]
    response = Response.__new__(Response)
    response.__dict__.update(
        headers=answer_headers,
        _status=shape[0],
        _status_code=shape[1],
        direct_passthrough=False,
        _on_close=[],
        response=[data],
    )
    return response


def header_text(text: str, limit: int = 200) -> str:
    """``text`` as a safe header value: ASCII (others escaped), one line, at most ``limit``."""
    one_line = " ".join(text.split())
    ascii_only = one_line.encode("ascii", "backslashreplace").decode("ascii")
    return ascii_only if len(ascii_only) <= limit else ascii_only[: limit - 3] + "..."


class SimulatorError(Exception):
    """Base of every error the simulator answers with."""

    status: int = 500
    headers: dict[str, str]

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.headers = {}

    def body(self) -> Any:
        raise NotImplementedError

    def to_response(self) -> Response:
        return json_response(self.body(), self.status, self.headers)


class Problem(SimulatorError):
    """An RFC 9457 problem document for the control plane."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
        type_: str = "about:blank",
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.type = type_
        self.extra = extra

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def to_response(self) -> Response:
        return json_response(self.body(), self.status, self.headers, "application/problem+json")


class InvalidDocument(Problem):
    """A control document failed validation: 400 with one error per bad field."""

    def __init__(self, errors: list[dict[str, Any]], detail: str = "") -> None:
        super().__init__(
            400,
            "Invalid document",
            detail or f"The document has {len(errors)} error(s); nothing was changed.",
            errors=errors,
        )


class StateInvalid(Exception):
    """Raised by a backend's ``load_state`` for a rule a JSON Schema cannot express.

    ``errors`` are ``{"pointer", "message"}`` with pointers relative to the vendor's part of
    the state document.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


class VendorError(SimulatorError):
    """Base of every vendor's errors; each vendor's base class renders its own body."""

    status = 400

    def with_status(self, status: int) -> Self:
        """This error, answered with another HTTP status (a transport status of no class)."""
        self.status = status
        return self


E = TypeVar("E", bound=VendorError)


def status_phrase(status: int) -> str:
    """The HTTP reason phrase (``Too Many Requests``), or ``Error`` for an unknown status."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def transport_errors(
    known: Iterable[type[E]], other: Callable[[int, str], E]
) -> Callable[[int], E]:
    """A vendor's ``http_error``: its own class for a known transport status (404, 405, 413,
    429, 500...), else ``other(status, reason phrase)``."""
    by_status = {cls.status: cls for cls in known}

    def http_error(status: int) -> E:
        cls = by_status.get(status)
        return cls() if cls is not None else other(status, status_phrase(status))

    return http_error
