"""BOTW CRM API operations: ``/crm/{listing_id}`` with POST, PUT, DELETE and GET
(docs/vendors/botw.md). Each view checks the key, reads its parameters, turns them into
typed arguments (parsing.py), calls the backend and renders the answer; the rules are in
models.py."""

from __future__ import annotations

from flask import Response, request

from simulator.errors import json_response
from simulator.http import BadBody
from simulator.vendors._base import (
    FORM_AND_QUERY,
    FORM_BODY,
    QUERY,
    Operations,
    request_document,
)
from simulator.vendors.botw import errors, parsing
from simulator.vendors.botw.models import BotwBackend

operations = Operations()
ERRORS = dict.fromkeys((400, 403, 405, 413), "error")


def authorize(api: BotwBackend, listing_id: str) -> None:
    """The key check that comes first on every method: a Bearer key of this listing."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    api.authorize(key.strip() or None if scheme.lower() == "bearer" else None, listing_id)


def parameters() -> dict[str, str]:
    """The operation's parameters (form body, query, or both), BOTW's 400 when unreadable."""
    try:
        found: dict[str, str] = request_document()
    except BadBody as exc:
        message = {
            "content_type": "Unsupported content type; send application/x-www-form-urlencoded.",
            "encoding": "Malformed request: parameters must be UTF-8.",
            "malformed": "Malformed request: a parameter has no name.",
            "duplicate": f"Duplicate parameter: {exc.field}.",
        }[exc.reason]
        raise errors.BadRequestBody(message) from exc
    return found


def reply(status: int, message: str, **extra: object) -> Response:
    return json_response({"status": "success", "message": message, **extra}, status)


@operations(
    "POST", "/<listing_id>", reads=FORM_BODY, answers={201: "create_contact.response", **ERRORS}
)
def create_contact(api: BotwBackend, listing_id: str) -> Response:
    authorize(api, listing_id)
    contact = parsing.create_contact(parameters())
    api.create_contact(listing_id, contact, request.remote_addr)
    return reply(201, "New contact successfully updated.")


@operations(
    "PUT",
    "/<listing_id>",
    reads=FORM_BODY,
    answers={
        200: "update_contact.response",
        201: "update_contact.response",
        404: "error",
        **ERRORS,
    },
)
def update_contact(api: BotwBackend, listing_id: str) -> Response:
    authorize(api, listing_id)
    update = parsing.update_contact(parameters())
    created = api.update_contact(listing_id, update, request.remote_addr)
    if created:
        return reply(201, "New contact successfully updated.")
    return reply(200, "Contact successfully updated.")


@operations(
    "DELETE",
    "/<listing_id>",
    reads=FORM_AND_QUERY,
    answers={202: "delete_contact.response", 404: "error", **ERRORS},
)
def delete_contact(api: BotwBackend, listing_id: str) -> Response:
    authorize(api, listing_id)
    api.delete_contact(listing_id, parsing.delete_contact(parameters()))
    return reply(202, "Contact deleted successfully.")


@operations(
    "GET",
    "/<listing_id>",
    reads=QUERY,
    answers={200: "search_contacts.response", 404: "error", **ERRORS},
)
def search_contacts(api: BotwBackend, listing_id: str) -> Response:
    authorize(api, listing_id)
    results = api.search_contacts(listing_id, parsing.search_contacts(parameters()))
    return reply(200, f"{len(results)} record(s) found.", data={"results": results})
