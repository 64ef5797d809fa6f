"""CRM.COM Web API v2 routes under ``/crmapi/rest/v2`` (vendors.md §3).

GET methods read their parameters (the token included) from the query string only, POST
methods from a JSON object body only (A-C10). Every answer is the envelope; the backend's
errors render themselves through the blueprint's error handler.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, request

from simulator.errors import json_response
from simulator.http import LONE_SURROGATE, TOO_DEEP, BadBody, read_json, read_query
from simulator.vendors._base import backend
from simulator.vendors.crmcom import errors
from simulator.vendors.crmcom.models import LIST_FILTERS, CrmcomBackend

blueprint = Blueprint("crmcom", __name__, url_prefix="/crmapi/rest/v2")


def _api() -> CrmcomBackend:
    return backend(CrmcomBackend)


def read_body_or_empty() -> Any:
    """The JSON body, or ``{}`` when there is none (CC-B1: an operation whose parameters
    are all optional reads an empty body as ``{}``, as PHP curl with no fields sends it)."""
    if not request.get_data(cache=True):
        return {}
    return read_json()


def _body(all_optional: bool = False) -> dict[str, Any]:
    """The POST body: a JSON object (RFC 8259, UTF-8, no unpaired surrogates)."""
    try:
        doc = read_body_or_empty() if all_optional else read_json()
    except BadBody as exc:
        if exc.reason == "encoding":
            description = "The body is not UTF-8."
        elif exc.detail == TOO_DEEP:  # over PHP json_decode's depth of 512
            description = "The JSON is nested too deeply."
        elif exc.detail == LONE_SURROGATE:
            description = "The body contains an unpaired surrogate."
        elif exc.detail.startswith("invalid JSON"):
            description = "The body is not valid JSON (RFC 8259)."
        else:
            description = exc.detail[:1].upper() + exc.detail[1:] + "."
        raise errors.InvalidRequestBody(description) from exc
    if not isinstance(doc, dict):
        raise errors.InvalidRequestBody("The body must be a JSON object.")
    return doc


def _query() -> dict[str, str]:
    """The GET parameters, parsed strictly (a parameter given twice is rejected)."""
    try:
        return read_query()
    except BadBody as exc:
        if exc.reason == "duplicate":
            raise errors.InvalidParameterValue(exc.field, "is given more than once") from exc
        reason = {
            "encoding": "The query string is not valid UTF-8.",
            "malformed": "The query string has a parameter with no name.",
        }.get(exc.reason, exc.detail)
        raise errors.InvalidParameterValue(None, reason) from exc


def _basic_user() -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header (the Web API key), or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, _, _password = decoded.partition(":")
    return user or None


def ok(data: Any, auth: bool = False) -> Response:
    """The success envelope: ``""`` message/description on authentication/*, else null."""
    text = "" if auth else None
    return json_response(
        {"status": {"code": "OK", "message": text, "description": text}, "data": data}, 200
    )


@blueprint.post("/authentication/token")
def authenticate() -> Response:
    body = _body()
    token = _api().authenticate(
        username=body.get("username"),
        password=body.get("password"),
        organisation=body.get("organisation"),
        unit=body.get("unit"),
    )
    return ok({"token": token}, auth=True)


@blueprint.post("/authentication/web_api_key/token")
def authenticate_web_api_key() -> Response:
    body = _body(all_optional=True)
    token = _api().authenticate_web_api_key(web_api_key=_basic_user(), unit=body.get("unit"))
    return ok({"token": token}, auth=True)


@blueprint.post("/authentication/token/release")
def release_token() -> Response:
    body = _body()
    _api().release_token(token=body.get("token"))
    return ok(None, auth=True)


@blueprint.get("/contact_information/show")
def show_contact_information() -> Response:
    q = _query()
    data = _api().show_contact_information(
        token=q.get("token"),
        contact_information_identifier=q.get("contact_information_identifier"),
        fields_set=q.get("fields_set"),
    )
    return ok(data)


@blueprint.get("/contact_information/list")
def list_contact_information() -> Response:
    q = _query()
    data = _api().list_contact_information(
        token=q.get("token"),
        number_of_results=q.get("number_of_results"),
        offset=q.get("offset"),
        filters={f: q[f] for f in LIST_FILTERS if f in q},
        fields_set=q.get("fields_set"),
    )
    return ok(data)


@blueprint.post("/contact_information/create")
def create_contact_information() -> Response:
    body = _body()
    data = _api().create_contact_information(
        token=body.get("token"), contact=body, fields_set=body.get("fields_set")
    )
    return ok(data)


@blueprint.post("/contact_information/update")
def update_contact_information() -> Response:
    body = _body()
    data = _api().update_contact_information(
        token=body.get("token"),
        contact_information_identifier=body.get("contact_information_identifier"),
        contact=body,
        fields_set=body.get("fields_set"),
    )
    return ok(data)


@blueprint.get("/provisioning/generic_provisioning_requests/get_pending")
def get_pending_provisioning_requests() -> Response:
    q = _query()
    data = _api().get_pending_provisioning_requests(
        token=q.get("token"),
        provisioning_provider_identifier=q.get("provisioning_provider_identifier"),
        number_of_results=q.get("number_of_results"),
        offset=q.get("offset"),
        fields_set=q.get("fields_set"),
    )
    return ok(data)
