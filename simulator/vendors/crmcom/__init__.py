"""CRM.COM Web API v2: tokens, contact information, pending provisioning (vendors.md §3)."""

from simulator.http import read_json, read_query
from simulator.vendors._base import Operation, Vendor
from simulator.vendors.crmcom.errors import http_error
from simulator.vendors.crmcom.models import CrmcomBackend
from simulator.vendors.crmcom.routes import blueprint, read_body_or_empty

# POST operations whose parameters are all optional: an empty body is {} (CC-B1)
ALL_OPTIONAL = ("authenticate_web_api_key",)
OPERATIONS = (
    "authenticate",
    "authenticate_web_api_key",
    "release_token",
    "show_contact_information",
    "list_contact_information",
    "create_contact_information",
    "update_contact_information",
    "get_pending_provisioning_requests",
)
GETS = ("show_contact_information", "list_contact_information", "get_pending_provisioning_requests")

VENDOR = Vendor(
    slug="crmcom",
    title="CRM.COM Web API v2",
    prefixes=("/crmapi/rest/v2",),
    blueprint=blueprint,
    backend=CrmcomBackend,
    http_error=http_error,
    operations=OPERATIONS,
    # Application errors are HTTP 200 too (A-C1): 200 is the operation's answer or the error
    # envelope; transport errors keep the envelope.
    contract=tuple(
        Operation(
            name,
            read_query
            if name in GETS
            else read_body_or_empty
            if name in ALL_OPTIONAL
            else read_json,
            "query" if name in GETS else "json",
            {200: (f"{name}.response", "error"), **dict.fromkeys((404, 405, 413), "error")},
        )
        for name in OPERATIONS
    ),
)

__all__ = ["VENDOR", "CrmcomBackend"]
