"""In-process micro-benchmark: a vendor operation's cost at different record counts.

Usage: python bench/inprocess.py [--sizes 1000,100000] [--ops 2000]

Drives the Flask test client (no network), so it measures crmsim's own cost per request;
`make bench` (bench/run.py) measures the served instance with a load generator.
"""

from __future__ import annotations

import argparse
import time

from simulator import create_app

KEY = {"Authorization": "Bearer K"}


def botw_state(n: int) -> dict:
    return {
        "api_keys": {"K": ["1"]},
        "contacts": [
            {
                "contact_id": i,
                "listing_id": "1",
                "unique_id": f"l-{i:09d}",
                "first_name": f"F{i}",
                "last_name": "L",
                "email": f"c{i}@example.com",
                "phone": f"555{i:07d}",
            }
            for i in range(1, n + 1)
        ],
    }


def run(size: int, ops: int) -> dict[str, float]:
    app = create_app({"seed": 1, "journal_limit": 1000})
    client = app.test_client()
    t = time.perf_counter()
    assert client.put("/__sim/state/botw", json=botw_state(size)).status_code == 200
    load_s = time.perf_counter() - t
    results = {"load_s": load_s}
    t = time.perf_counter()
    for i in range(ops):
        r = client.post("/crm/1", data={"email": f"new{i}@example.com"}, headers=KEY)
        assert r.status_code == 201
    results["botw.create_contact/s"] = ops / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(ops):
        r = client.get(f"/crm/1?email=c{1 + i % size}@example.com", headers=KEY)
        assert r.status_code == 200
    results["botw.search_contacts/s"] = ops / (time.perf_counter() - t)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        res = run(size, args.ops)
        print(f"{size:>9} records: " + ", ".join(f"{k} {v:,.1f}" for k, v in res.items()))


if __name__ == "__main__":
    main()
