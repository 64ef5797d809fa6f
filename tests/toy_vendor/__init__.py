"""Toy: a fifth vendor that lives outside simulator/, to show what adding a vendor takes.

Its package has the same files as every vendor's (routes, models, errors, parsing, fake)
and its own schemas; ``tests/test_fifth_vendor.py`` adds it to the registry, the one line a
real vendor adds in simulator/vendors/__init__.py.
"""

from pathlib import Path

from simulator.vendors._base import Vendor
from toy_vendor import fake, routes
from toy_vendor.errors import http_error
from toy_vendor.models import ToyBackend

VENDOR = Vendor(
    slug="toy",
    title="Toy notes API",
    prefix="/toy",
    operations=routes.operations,
    backend=ToyBackend,
    http_error=http_error,
    fake=fake,
    schemas_dir=Path(__file__).parent / "schemas",
)
