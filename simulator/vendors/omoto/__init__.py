"""Omoto: the CRM API (survey invites) and the Response API (campaign responses), vendors.md §1."""

from typing import Any

from simulator.http import parse_json, read_form, read_json
from simulator.vendors._base import Operation, Vendor
from simulator.vendors.omoto.errors import http_error
from simulator.vendors.omoto.models import OmotoBackend
from simulator.vendors.omoto.routes import blueprint


def read_response_document() -> dict[str, Any]:
    """The Response API's request document: its two form fields, decoded."""
    form = read_form()
    return {name: parse_json(form[name]) for name in ("jsonheader", "jsonbody") if name in form}


_ERRORS = {400: "error", 401: "error", 404: "error", 405: "error"}

VENDOR = Vendor(
    slug="omoto",
    title="Omoto CRM API and Response API",
    prefixes=("/omoto",),
    blueprint=blueprint,
    backend=OmotoBackend,
    http_error=http_error,
    operations=("receive_customer_info", "push_response"),
    contract=(
        Operation(
            "receive_customer_info",
            read_json,
            "json",
            {200: "receive_customer_info.response", **_ERRORS},
        ),
        Operation(
            "push_response",
            read_response_document,
            "custom",
            {200: "push_response.response", **_ERRORS},
            raw_schema={
                "type": "object",
                "required": ["jsonheader", "jsonbody"],
                "properties": {
                    "jsonheader": {"type": "string", "description": 'JSON: {"processid": "76"}'},
                    "jsonbody": {"type": "string", "description": "JSON: one campaign response"},
                },
            },
        ),
    ),
)

__all__ = ["VENDOR", "OmotoBackend"]
