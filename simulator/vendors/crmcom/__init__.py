"""CRM.COM Web API v2: tokens, contact information, pending provisioning
(docs/vendors/crmcom.md)."""

from simulator.vendors._base import Vendor
from simulator.vendors.crmcom import fake, routes
from simulator.vendors.crmcom.errors import http_error
from simulator.vendors.crmcom.models import CrmcomBackend

VENDOR = Vendor(
    slug="crmcom",
    title="CRM.COM Web API v2",
    prefix="/crmapi/rest/v2",
    operations=routes.operations,
    backend=CrmcomBackend,
    http_error=http_error,
    fake=fake,
)

__all__ = ["VENDOR", "CrmcomBackend"]
