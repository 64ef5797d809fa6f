"""Omoto: the CRM API (survey invites) and the Response API (campaign responses),
docs/vendors/omoto.md."""

from simulator.vendors._base import Vendor
from simulator.vendors.omoto import fake, routes
from simulator.vendors.omoto.errors import http_error
from simulator.vendors.omoto.models import OmotoBackend

VENDOR = Vendor(
    slug="omoto",
    title="Omoto CRM API and Response API",
    prefix="/omoto",
    operations=routes.operations,
    backend=OmotoBackend,
    http_error=http_error,
    fake=fake,
)

__all__ = ["VENDOR", "OmotoBackend"]
