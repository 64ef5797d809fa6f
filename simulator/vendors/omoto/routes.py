"""Omoto routes: the CRM API and the Response API, both under ``/omoto`` (vendors.md §1).

``POST /omoto/receivecustomerinfo.htm?key=`` takes a JSON array of customers;
``POST /omoto/{endpoint}.htm?key=`` takes the form fields ``jsonheader`` and ``jsonbody``,
for each endpoint name in the state's ``response_endpoints``. The key is always checked
before the body is read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from simulator.errors import json_response
from simulator.http import BadBody, parse_json, read_form, read_query
from simulator.vendors._base import backend
from simulator.vendors.omoto import errors
from simulator.vendors.omoto.models import OmotoBackend

blueprint = Blueprint("omoto", __name__, url_prefix="/omoto")


def _key() -> str | None:
    """The ``key`` query parameter; an unreadable query or a repeated key is no key (A-O1)."""
    try:
        return read_query().get("key")
    except BadBody:
        return None


def _authorized(api: OmotoBackend) -> str | None:
    """The key, after the check that comes before anything is read of the body."""
    key = _key()
    api.authorize(key)
    return key


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return parse_json(raw)
    except BadBody as exc:
        raise errors.ParseError(f"{what}: {exc.detail}") from exc


def success() -> Response:
    return json_response({"status": "success"}, 200)


@blueprint.post("/receivecustomerinfo.htm")
def receive_customer_info() -> Response:
    api = backend(OmotoBackend)
    key = _authorized(api)
    if request.mimetype != "application/json":
        raise errors.ParseError(f"expected application/json, got {request.mimetype or 'none'}")
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise errors.ParseError("the body is over the simulator's size limit") from exc
    api.receive_customer_info(api_key=key, customers=_json(raw, "the body"))
    return success()


@blueprint.post("/<endpoint>.htm")
def push_response(endpoint: str) -> Response:
    api = backend(OmotoBackend)
    if not api.has_endpoint(endpoint):
        request.url_rule = None  # journaled like any path that matches no vendor route
        raise NotFound()
    key = _authorized(api)
    try:
        form = read_form()
    except BadBody as exc:
        raise errors.ParseError(exc.detail) from exc
    except RequestEntityTooLarge as exc:
        raise errors.ParseError("the form is over the simulator's size limits") from exc
    header, body = form.get("jsonheader"), form.get("jsonbody")
    if header is None or body is None:
        raise errors.ParseError("the form fields jsonheader and jsonbody are both required")
    api.push_response(
        endpoint=endpoint,
        api_key=key,
        jsonheader=_json(header, "jsonheader"),
        jsonbody=_json(body, "jsonbody"),
    )
    return success()
