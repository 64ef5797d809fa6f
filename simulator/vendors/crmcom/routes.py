"""CRM.COM Web API v2 operations under ``/crmapi/rest/v2`` (docs/vendors/crmcom.md).

GET methods read their parameters (the token included) from the query string only, POST
methods from a JSON object body only (A-C10). Every answer is the envelope; the backend's
errors are ``CrmcomError``s, which render themselves as the error envelope.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Response, request

from simulator.errors import json_response
from simulator.http import LONE_SURROGATE, TOO_DEEP, BadBody, read_json
from simulator.vendors._base import JSON_BODY, QUERY, Operations, Reads, request_document
from simulator.vendors.crmcom import errors
from simulator.vendors.crmcom.models import LIST_FILTERS, CrmcomBackend

operations = Operations()
# Application errors are HTTP 200 too (A-C1): 200 is the operation's answer or the error
# envelope; transport errors keep the envelope.
ERRORS = dict.fromkeys((404, 405, 413), "error")


def answers(name: str) -> dict[int, str | tuple[str, ...]]:
    return {200: (f"{name}.response", "error"), **ERRORS}


def read_body_or_empty() -> Any:
    """The JSON body, or ``{}`` when there is none (CC-B1: an operation whose parameters
    are all optional reads an empty body as ``{}``, as PHP curl with no fields sends it)."""
    if not request.get_data(cache=True):
        return {}
    return read_json()


# POST operations whose parameters are all optional: an empty body is {} (CC-B1)
OPTIONAL_BODY = Reads("json", read_body_or_empty)


def body() -> dict[str, Any]:
    """The POST body: a JSON object (RFC 8259, UTF-8, no unpaired surrogates)."""
    try:
        doc = request_document()
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


def query() -> dict[str, str]:
    """The GET parameters, parsed strictly (a parameter given twice is rejected)."""
    try:
        found: dict[str, str] = request_document()
    except BadBody as exc:
        if exc.reason == "duplicate":
            raise errors.InvalidParameterValue(exc.field, "is given more than once") from exc
        reason = {
            "encoding": "The query string is not valid UTF-8.",
            "malformed": "The query string has a parameter with no name.",
        }.get(exc.reason, exc.detail)
        raise errors.InvalidParameterValue(None, reason) from exc
    return found


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


def reply(data: Any, auth: bool = False) -> Response:
    """The success envelope: ``""`` message/description on authentication/*, else null."""
    text = "" if auth else None
    return json_response(
        {"status": {"code": "OK", "message": text, "description": text}, "data": data}, 200
    )


@operations("POST", "/authentication/token", reads=JSON_BODY, answers=answers("authenticate"))
def authenticate(api: CrmcomBackend) -> Response:
    doc = body()
    token = api.authenticate(
        username=doc.get("username"),
        password=doc.get("password"),
        organisation=doc.get("organisation"),
        unit=doc.get("unit"),
    )
    return reply({"token": token}, auth=True)


@operations(
    "POST",
    "/authentication/web_api_key/token",
    reads=OPTIONAL_BODY,
    answers=answers("authenticate_web_api_key"),
)
def authenticate_web_api_key(api: CrmcomBackend) -> Response:
    doc = body()
    token = api.authenticate_web_api_key(web_api_key=_basic_user(), unit=doc.get("unit"))
    return reply({"token": token}, auth=True)


@operations(
    "POST", "/authentication/token/release", reads=JSON_BODY, answers=answers("release_token")
)
def release_token(api: CrmcomBackend) -> Response:
    doc = body()
    api.release_token(token=doc.get("token"))
    return reply(None, auth=True)


@operations(
    "GET", "/contact_information/show", reads=QUERY, answers=answers("show_contact_information")
)
def show_contact_information(api: CrmcomBackend) -> Response:
    q = query()
    data = api.show_contact_information(
        token=q.get("token"),
        contact_information_identifier=q.get("contact_information_identifier"),
        fields_set=q.get("fields_set"),
    )
    return reply(data)


@operations(
    "GET", "/contact_information/list", reads=QUERY, answers=answers("list_contact_information")
)
def list_contact_information(api: CrmcomBackend) -> Response:
    q = query()
    data = api.list_contact_information(
        token=q.get("token"),
        number_of_results=q.get("number_of_results"),
        offset=q.get("offset"),
        filters={f: q[f] for f in LIST_FILTERS if f in q},
        fields_set=q.get("fields_set"),
    )
    return reply(data)


@operations(
    "POST",
    "/contact_information/create",
    reads=JSON_BODY,
    answers=answers("create_contact_information"),
)
def create_contact_information(api: CrmcomBackend) -> Response:
    doc = body()
    data = api.create_contact_information(
        token=doc.get("token"), contact=doc, fields_set=doc.get("fields_set")
    )
    return reply(data)


@operations(
    "POST",
    "/contact_information/update",
    reads=JSON_BODY,
    answers=answers("update_contact_information"),
)
def update_contact_information(api: CrmcomBackend) -> Response:
    doc = body()
    data = api.update_contact_information(
        token=doc.get("token"),
        contact_information_identifier=doc.get("contact_information_identifier"),
        contact=doc,
        fields_set=doc.get("fields_set"),
    )
    return reply(data)


@operations(
    "GET",
    "/provisioning/generic_provisioning_requests/get_pending",
    reads=QUERY,
    answers=answers("get_pending_provisioning_requests"),
)
def get_pending_provisioning_requests(api: CrmcomBackend) -> Response:
    q = query()
    data = api.get_pending_provisioning_requests(
        token=q.get("token"),
        provisioning_provider_identifier=q.get("provisioning_provider_identifier"),
        number_of_results=q.get("number_of_results"),
        offset=q.get("offset"),
        fields_set=q.get("fields_set"),
    )
    return reply(data)
