"""AntCRM ("CRM Data Platform") webhook listener: eight actions on one URL
(docs/vendors/antcrm.md)."""

from simulator.vendors._base import Vendor
from simulator.vendors.antcrm import fake, routes
from simulator.vendors.antcrm.errors import http_error
from simulator.vendors.antcrm.models import AntcrmBackend

VENDOR = Vendor(
    slug="antcrm",
    title="AntCRM webhook listener",
    prefix="/antcrm",
    operations=routes.operations,
    backend=AntcrmBackend,
    http_error=http_error,
    fake=fake,
    strategies={"listener": fake.listener_documents},
    client_path="/webhook/listener",
)

__all__ = ["VENDOR", "AntcrmBackend"]
