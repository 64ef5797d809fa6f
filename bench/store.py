"""The store's cost per write and memory per record, at a small and a large table.

    .venv/bin/python bench/store.py [--sizes 1000,1000000] [--buckets 64] [--memory 100000]

Each run fills a table declared like BOTW's contacts (six hash indexes) with BOTW-like
contacts, then times 2,000 inserts and 2,000 updates (an indexed field changes) on top of
it, in batches of 200, and reports the fastest batch (the machine is shared: the fastest
batch is the least disturbed; CPU time of the process, so time spent descheduled does not
count). Memory: tracemalloc's traced bytes after filling, per
record (documents included).
Figures in docs/serving.md ("The store").
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from simulator.store import Store, Table, tiny


def _lower(value: Any) -> str | None:
    return value.strip().lower() or None if isinstance(value, str) else None


def _key(field: str) -> Callable[[Mapping[str, Any]], Iterable[Any]]:
    def keys(c: Mapping[str, Any]) -> Iterable[Any]:
        value = _lower(c.get(field))
        return [(c["listing_id"], value)] if value else []

    return keys


def _full_name(c: Mapping[str, Any]) -> Iterable[Any]:
    first, last = _lower(c.get("first_name")), _lower(c.get("last_name"))
    names = [first, last, f"{first} {last}" if first and last else None]
    return [(c["listing_id"], n) for n in names if n]


def contacts() -> Table:
    return Store().table(
        "contacts",
        indexes={
            "email": _key("email"),
            "phone": _key("phone"),
            "first_name": _key("first_name"),
            "last_name": _key("last_name"),
            "name": _full_name,
            "unique_id": lambda c: [c.get("unique_id")],
        },
    )


def contact(i: int) -> dict[str, Any]:
    return {
        "contact_id": i,
        "listing_id": f"L{i % 100}",
        "unique_id": f"l-{i:08d}",
        "first_name": f"First{i % 5000}",
        "last_name": f"Last{i % 7000}",
        "email": f"user{i}@example.com",
        "phone": f"{5550000000 + i}",
        "created_date": "2026-01-01 00:00:00",
        "ip_address": "10.0.0.1",
        "source": "api",
        "status": "active",
    }


def fill(table: Table, n: int) -> None:
    for i in range(1, n + 1):
        table.insert(contact(i), i)


def per_write(n: int, k: int = 2000, batch: int = 200) -> tuple[float, float]:
    """Seconds per insert and per update with ``n`` records stored (fastest batch)."""
    table = contacts()
    fill(table, n)
    inserts, updates = [], []
    gc.collect()
    gc.disable()
    try:
        for first in range(0, k, batch):
            started = time.process_time()
            for i in range(n + first + 1, n + first + batch + 1):
                table.insert(contact(i), i)
            inserts.append((time.process_time() - started) / batch)
            started = time.process_time()
            for i in range(first + 1, first + batch + 1):
                table.update(max(1, i * (n // k)), {"email": f"new{i}@example.com"})
            updates.append((time.process_time() - started) / batch)
    finally:
        gc.enable()
    return min(inserts), min(updates)


def bytes_per_record(n: int) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        table = contacts()
        fill(table, n)
        gc.collect()
        traced, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table) == n
    return traced / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--buckets", default=str(tiny.BUCKET))
    parser.add_argument("--memory", type=int, default=100_000, help="records (0: skip)")
    args = parser.parse_args()
    for bucket in map(int, args.buckets.split(",")):
        tiny.BUCKET = bucket
        for n in map(int, args.sizes.split(",")):
            inserts, updates = per_write(n)
            print(
                f"bucket {bucket}, {n:>9,} records: insert {inserts * 1e6:.1f} µs,"
                f" update {updates * 1e6:.1f} µs"
            )
        if args.memory:
            print(f"bucket {bucket}: {bytes_per_record(args.memory):,.0f} bytes per record")


if __name__ == "__main__":
    main()
