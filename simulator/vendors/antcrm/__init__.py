"""AntCRM ("CRM Data Platform") webhook listener: eight actions on one URL (vendors.md §2)."""

from simulator.http import read_json
from simulator.vendors._base import Operation, Vendor
from simulator.vendors.antcrm.errors import http_error
from simulator.vendors.antcrm.models import AntcrmBackend
from simulator.vendors.antcrm.routes import blueprint

VENDOR = Vendor(
    slug="antcrm",
    title="AntCRM webhook listener",
    prefixes=("/antcrm",),
    blueprint=blueprint,
    backend=AntcrmBackend,
    http_error=http_error,
    operations=("listener",),
    contract=(
        Operation(
            "listener",
            read_json,
            "json",
            {200: "listener.response", **dict.fromkeys((400, 403, 404, 405, 413), "error")},
        ),
    ),
)

__all__ = ["VENDOR", "AntcrmBackend"]
