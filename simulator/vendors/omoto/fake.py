"""Fake Omoto campaigns and campaign responses,
for ``crmsim fake`` and the benchmarks (simulator/fake.py)."""

from __future__ import annotations

from typing import Any

from simulator.fake import POOL, Pools, Records, hex_id, iso


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users ``state(..., seed, ...)`` configures."""
    return {
        "campaigns": [
            {"campaign_id": str(154 + i), "api_key": hex_id(seed, f"omoto{i}", 24)}
            for i in range(3)
        ]
    }


def state(p: Pools, seed: int, size: int) -> dict[str, Any]:
    campaigns = credentials(seed)["campaigns"]
    names = ["Book club NPS", "Store visit survey", "Support follow-up"]

    def responses() -> Records:
        for i in range(size):
            first, last = p.person(i)
            rating = (i * 7 + p.offsets[i % POOL]) % 11
            yield {
                "response_id": i + 1,
                "endpoint": "endpoint",
                "campaign_id": campaigns[i % len(campaigns)]["campaign_id"],
                "channel": "email" if i % 3 else "sms",
                "campaigntype": "nps",
                "catnpsmap": {"price": [], "service": []} if rating < 7 else {},
                "npsrating": rating,
                "comment": p.sentences[i % POOL],
                "customerinfo": {"email": p.email(i, first, last), "name": f"{first} {last}"},
                "namevaluemap": {"unitname": p.cities[i % len(p.cities)]},
                "received_at": iso(p.when(i)),
            }

    return {
        "campaigns": [{**c, "name": names[n]} for n, c in enumerate(campaigns)],
        "response_endpoints": ["endpoint"],
        "responses": responses(),
    }
