"""BOTW CRM API: contacts per listing, Bearer keys, blacklists (vendors.md §4)."""

from simulator.http import read_form, read_form_and_query, read_query
from simulator.vendors._base import Operation, Vendor
from simulator.vendors.botw.errors import http_error
from simulator.vendors.botw.models import BotwBackend
from simulator.vendors.botw.routes import blueprint

_ERRORS = {400: "error", 403: "error", 405: "error", 413: "error"}

VENDOR = Vendor(
    slug="botw",
    title="BOTW CRM API",
    prefixes=("/crm",),
    blueprint=blueprint,
    backend=BotwBackend,
    http_error=http_error,
    operations=("create_contact", "update_contact", "delete_contact", "search_contacts"),
    contract=(
        Operation("create_contact", read_form, "form", {201: "create_contact.response", **_ERRORS}),
        Operation(
            "update_contact",
            read_form,
            "form",
            {
                200: "update_contact.response",
                201: "update_contact.response",
                404: "error",
                **_ERRORS,
            },
        ),
        Operation(
            "delete_contact",
            read_form_and_query,
            "form+query",
            {202: "delete_contact.response", 404: "error", **_ERRORS},
        ),
        Operation(
            "search_contacts",
            read_query,
            "query",
            {200: "search_contacts.response", 404: "error", **_ERRORS},
        ),
    ),
)

__all__ = ["VENDOR", "BotwBackend"]
