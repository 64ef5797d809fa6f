"""CRM.COM Web API v2 operations under ``/crmapi/rest/v2`` (docs/vendors/crmcom.md).

GET methods read their parameters (the token included) from the query string only, POST
methods from a JSON object body only (CC-TOKEN-1). Every answer is the envelope; the backend's
errors are ``CrmcomError``s, which render themselves as the error envelope.

Each view follows the check order (CC-ORDER-1): it reads the request document (``body`` or
``query``), has the backend check the token (``authorize``), turns the document into the
operation's typed arguments (``parsing.py``) and calls the backend method of the same name.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from simulator.errors import encode_json, json_response
from simulator.http import LONE_SURROGATE, TOO_DEEP, BadBody, read_json
from simulator.vendors._base import JSON_BODY, QUERY, Kept, Operations, Reads, request_document
from simulator.vendors.crmcom import errors, parsing
from simulator.vendors.crmcom.models import CrmcomBackend

operations = Operations()
# Application errors are HTTP 200 too (CC-ERR-1): 200 is the operation's answer or the error
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


def reply(data: Any, auth: bool = False) -> Response:
    """The success envelope: ``""`` message/description on authentication/*, else null."""
    text = "" if auth else None
    status = {"code": "OK", "message": text, "description": text}
    if isinstance(data, Kept):  # encoded once: the same bytes as encoding the whole envelope
        head = encode_json({"status": status})
        return Response(
            head[:-1] + b', "data": ' + data.encoded() + b"}",
            status=200,
            mimetype="application/json",
        )
    return json_response({"status": status, "data": data}, 200)


@operations("POST", "/authentication/token", reads=JSON_BODY, answers=answers("authenticate"))
def authenticate(api: CrmcomBackend) -> Response:
    token = api.authenticate(parsing.authenticate(body()))
    return reply({"token": token}, auth=True)


@operations(
    "POST",
    "/authentication/web_api_key/token",
    reads=OPTIONAL_BODY,
    answers=answers("authenticate_web_api_key"),
)
def authenticate_web_api_key(api: CrmcomBackend) -> Response:
    doc = body()
    authorization = request.headers.get("Authorization", "")
    token = api.authenticate_web_api_key(parsing.authenticate_web_api_key(doc, authorization))
    return reply({"token": token}, auth=True)


@operations(
    "POST", "/authentication/token/release", reads=JSON_BODY, answers=answers("release_token")
)
def release_token(api: CrmcomBackend) -> Response:
    doc = body()
    api.authorize(doc.get("token"))
    api.release_token(doc["token"])
    return reply(None, auth=True)


@operations(
    "GET", "/contact_information/show", reads=QUERY, answers=answers("show_contact_information")
)
def show_contact_information(api: CrmcomBackend) -> Response:
    q = query()
    api.authorize(q.get("token"))
    data = api.show_contact_information(parsing.show_contact_information(q))
    return reply(data)


@operations(
    "GET", "/contact_information/list", reads=QUERY, answers=answers("list_contact_information")
)
def list_contact_information(api: CrmcomBackend) -> Response:
    q = query()
    api.authorize(q.get("token"))
    data = api.list_contact_information(parsing.list_contact_information(q))
    return reply(data)


@operations(
    "POST",
    "/contact_information/create",
    reads=JSON_BODY,
    answers=answers("create_contact_information"),
)
def create_contact_information(api: CrmcomBackend) -> Response:
    doc = body()
    api.authorize(doc.get("token"))
    data = api.create_contact_information(parsing.create_contact_information(doc))
    return reply(data)


@operations(
    "POST",
    "/contact_information/update",
    reads=JSON_BODY,
    answers=answers("update_contact_information"),
)
def update_contact_information(api: CrmcomBackend) -> Response:
    doc = body()
    api.authorize(doc.get("token"))
    data = api.update_contact_information(parsing.update_contact_information(doc))
    return reply(data)


@operations(
    "GET",
    "/provisioning/generic_provisioning_requests/get_pending",
    reads=QUERY,
    answers=answers("get_pending_provisioning_requests"),
)
def get_pending_provisioning_requests(api: CrmcomBackend) -> Response:
    q = query()
    api.authorize(q.get("token"))
    data = api.get_pending_provisioning_requests(parsing.get_pending_provisioning_requests(q))
    return reply(data)
