"""BOTW CRM API: contacts per listing, Bearer keys, blacklists (vendors.md §4)."""

from simulator.vendors._base import Vendor
from simulator.vendors.botw.errors import http_error
from simulator.vendors.botw.models import BotwBackend
from simulator.vendors.botw.routes import blueprint

VENDOR = Vendor(
    slug="botw",
    title="BOTW CRM API",
    prefixes=("/crm",),
    blueprint=blueprint,
    backend=BotwBackend,
    http_error=http_error,
    operations=("create_contact", "update_contact", "delete_contact", "search_contacts"),
)

__all__ = ["VENDOR", "BotwBackend"]
