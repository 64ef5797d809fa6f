"""The vendors crmsim emulates: an explicit registry, nothing auto-discovered."""

from __future__ import annotations

from simulator.vendors import antcrm, botw, crmcom, omoto
from simulator.vendors._base import Vendor

VENDORS: dict[str, Vendor] = {
    v.slug: v
    for v in (
        omoto.VENDOR,
        antcrm.VENDOR,
        crmcom.VENDOR,
        botw.VENDOR,
    )
}

__all__ = ["VENDORS", "Vendor"]
