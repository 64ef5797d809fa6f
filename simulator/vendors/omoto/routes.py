"""Omoto operations: the CRM API and the Response API, both under ``/omoto``
(docs/vendors/omoto.md).

``POST /omoto/receivecustomerinfo.htm?key=`` takes a JSON array of customers;
``POST /omoto/{endpoint}.htm?key=`` takes the form fields ``jsonheader`` and ``jsonbody``,
for each endpoint name in the state's ``response_endpoints``. The key is always checked
before the body is read; the decoded document is then checked and turned into typed
arguments by ``parsing.py`` before the backend is called.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from simulator.errors import json_response
from simulator.http import BadBody, parse_json, read_form, read_query
from simulator.vendors._base import JSON_BODY, Operations, Reads, request_document
from simulator.vendors.omoto import errors, parsing
from simulator.vendors.omoto.models import OmotoBackend

operations = Operations()
ERRORS = dict.fromkeys((400, 401, 404, 405), "error")
FIELDS = ("jsonheader", "jsonbody")
BOTH_REQUIRED = "the form fields jsonheader and jsonbody are both required"


class FieldNotJson(BadBody):
    """A Response API form field that is not JSON; ``form`` names the fields sent."""

    def __init__(self, exc: BadBody, field: str, form: frozenset[str]) -> None:
        super().__init__(exc.reason, exc.detail, field)
        self.form = form


def read_response_document() -> dict[str, Any]:
    """The Response API's request document: its two form fields, each decoded as JSON."""
    form = read_form()
    document = {}
    for name in FIELDS:
        if name in form:
            try:
                document[name] = parse_json(form[name])
            except BadBody as exc:
                raise FieldNotJson(exc, name, frozenset(form)) from exc
    return document


RESPONSE_FORM = Reads(
    "custom",
    read_response_document,
    wire_schema={
        "type": "object",
        "required": list(FIELDS),
        "properties": {
            "jsonheader": {"type": "string", "description": 'JSON: {"processid": "76"}'},
            "jsonbody": {"type": "string", "description": "JSON: one campaign response"},
        },
    },
)


def authorize(api: OmotoBackend) -> str | None:
    """The ``key`` query parameter, checked before anything is read of the body; an
    unreadable query or a repeated key is no key (OM-KEY-1)."""
    try:
        key = read_query().get("key")
    except BadBody:
        key = None
    api.authorize(key)
    return key


def reply() -> Response:
    return json_response({"status": "success"}, 200)


@operations(
    "POST",
    "/receivecustomerinfo.htm",
    reads=JSON_BODY,
    answers={200: "receive_customer_info.response", **ERRORS},
)
def receive_customer_info(api: OmotoBackend) -> Response:
    key = authorize(api)
    if request.mimetype != "application/json":
        raise errors.ParseError(f"expected application/json, got {request.mimetype or 'none'}")
    try:
        customers = request_document()
    except RequestEntityTooLarge as exc:
        raise errors.ParseError("the body is over the simulator's size limit") from exc
    except BadBody as exc:
        raise errors.ParseError(f"the body: {exc.detail}") from exc
    api.receive_customer_info(key, parsing.receive_customer_info(customers))
    return reply()


@operations(
    "POST",
    "/<endpoint>.htm",
    reads=RESPONSE_FORM,
    answers={200: "push_response.response", **ERRORS},
)
def push_response(api: OmotoBackend, endpoint: str) -> Response:
    if not api.has_endpoint(endpoint):
        request.url_rule = None  # journaled like any path that matches no vendor route
        raise NotFound()
    key = authorize(api)
    try:
        document = request_document()
    except FieldNotJson as exc:
        missing = any(name not in exc.form for name in FIELDS)
        raise errors.ParseError(BOTH_REQUIRED if missing else f"{exc.field}: {exc.detail}") from exc
    except BadBody as exc:
        raise errors.ParseError(exc.detail) from exc
    except RequestEntityTooLarge as exc:
        raise errors.ParseError("the form is over the simulator's size limits") from exc
    if any(name not in document for name in FIELDS):
        raise errors.ParseError(BOTH_REQUIRED)
    response = parsing.push_response(document["jsonheader"], document["jsonbody"])
    api.push_response(endpoint, key, response)
    return reply()
