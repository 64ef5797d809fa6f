"""Fake BOTW contacts (ten listings, one key for all),
for ``crmsim fake`` and the benchmarks (simulator/fake.py)."""

from __future__ import annotations

from typing import Any

from simulator.fake import POOL, Pools, Records, hex_id

LISTINGS = 10


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users ``state(..., seed, ...)`` configures."""
    return {"api_key": hex_id(seed, "botw"), "listings": listings()}


def listings() -> list[str]:
    return [str(1001 + i) for i in range(LISTINGS)]


def state(p: Pools, seed: int, size: int) -> dict[str, Any]:
    listing_ids = listings()

    def contacts() -> Records:
        for i in range(size):
            first, last = p.person(i)
            yield {
                "contact_id": i + 1,
                "listing_id": listing_ids[i % LISTINGS],
                "unique_id": f"l-{i + 1:08d}",
                "first_name": first,
                "last_name": last,
                "email": p.email(i, first, last),
                "phone": "1" + p.phone_digits(i),
                "created_date": p.when(i).strftime("%Y-%m-%d %H:%M:%S"),
                "ip_address": p.ips[i % POOL],
                "source": "api",
                "status": "active",
            }

    return {
        "api_keys": {hex_id(seed, "botw"): listing_ids},
        "blacklist": {listing_ids[0]: {"emails": ["spam@example.com"], "phones": ["15550000000"]}},
        "contacts": contacts(),
    }
