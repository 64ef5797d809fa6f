"""BOTW CRM API routes: ``/crm/{listing_id}`` with POST, PUT, DELETE and GET (vendors.md §4)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from simulator.errors import json_response
from simulator.http import BadBody, read_form, read_query
from simulator.vendors._base import backend
from simulator.vendors.botw import errors
from simulator.vendors.botw.models import BotwBackend, Search

blueprint = Blueprint("botw", __name__, url_prefix="/crm")


def _api() -> BotwBackend:
    """The namespace's backend, after the key check that comes first on every method."""
    api = backend(BotwBackend)
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    api.authorize(
        key.strip() or None if scheme.lower() == "bearer" else None,
        request.view_args["listing_id"] if request.view_args else "",
    )
    return api


def _params(read: str) -> dict[str, str]:
    """Form body (``form``), query (``query``), or both with the body winning (``both``)."""
    try:
        if read == "query":
            return read_query()
        if read == "form":
            return read_form()
        return {**read_query(), **read_form()}
    except BadBody as exc:
        message = {
            "content_type": "Unsupported content type; send application/x-www-form-urlencoded.",
            "encoding": "Malformed request: parameters must be UTF-8.",
            "malformed": "Malformed request: a parameter has no name.",
            "duplicate": f"Duplicate parameter: {exc.field}.",
        }[exc.reason]
        raise errors.BadRequestBody(message) from exc


def reply(status: int, message: str, **extra: object) -> Response:
    return json_response({"status": "success", "message": message, **extra}, status)


@blueprint.post("/<listing_id>")
def create_contact(listing_id: str) -> Response:
    api = _api()
    p = _params("form")
    api.create_contact(
        listing_id=listing_id,
        first_name=p.get("first_name"),
        last_name=p.get("last_name"),
        email=p.get("email"),
        phone=p.get("phone"),
        ip_address=request.remote_addr,
    )
    return reply(201, "New contact successfully updated.")


@blueprint.put("/<listing_id>")
def update_contact(listing_id: str) -> Response:
    api = _api()
    p = _params("form")
    created = api.update_contact(
        listing_id=listing_id,
        contact_id=p.get("id"),
        first_name=p.get("first_name"),
        last_name=p.get("last_name"),
        email=p.get("email"),
        phone=p.get("phone"),
        ip_address=request.remote_addr,
    )
    if created:
        return reply(201, "New contact successfully updated.")
    return reply(200, "Contact successfully updated.")


@blueprint.delete("/<listing_id>")
def delete_contact(listing_id: str) -> Response:
    api = _api()
    p = _params("both")
    api.delete_contact(
        listing_id=listing_id, contact_id=p.get("id"), email=p.get("email"), phone=p.get("phone")
    )
    return reply(202, "Contact deleted successfully.")


@blueprint.get("/<listing_id>")
def search_contacts(listing_id: str) -> Response:
    api = _api()
    p = _params("query")
    results = api.search_contacts(
        listing_id=listing_id,
        search=Search(
            id=p.get("id") or None,
            first_name=p.get("first_name") or None,
            last_name=p.get("last_name") or None,
            name=p.get("name") or None,
            email=p.get("email") or None,
            phone=p.get("phone") or None,
        ),
    )
    return reply(200, f"{len(results)} record(s) found.", data={"results": results})
