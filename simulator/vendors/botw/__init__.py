"""BOTW CRM API: contacts per listing, Bearer keys, blacklists (docs/vendors/botw.md)."""

from simulator.vendors._base import Vendor
from simulator.vendors.botw import fake, routes
from simulator.vendors.botw.errors import http_error
from simulator.vendors.botw.models import BotwBackend

VENDOR = Vendor(
    slug="botw",
    title="BOTW CRM API",
    prefix="/crm",
    operations=routes.operations,
    backend=BotwBackend,
    http_error=http_error,
    fake=fake,
)

__all__ = ["VENDOR", "BotwBackend"]
