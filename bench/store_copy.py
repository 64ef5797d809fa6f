"""A vendor's store copied from the memory engine into Redis (issue 17's state loads).

    .venv/bin/python bench/store_copy.py [--size 100000] [--vendors botw,antcrm,crmcom]
        [--repeat 3] [--redis redis://127.0.0.1:6379/0]

Per vendor: its fake state (simulator/fake.py) of ``--size`` records loaded into its real
backend on the memory engine (``load_state``, timed for context, and again with the
garbage collector paused), then ``Store.copy_to`` a fresh store on Redis (timed), then
every table of the copy read back by iteration (what ``GET /__sim/state`` streams) and one
listing page by ``get_many`` (100 ids). Wall-clock seconds, the best of ``--repeat`` (the
machine is shared), with the CPU seconds this process and the Redis server spent in that
run beside them, and Redis's keys and ``used_memory`` after it. Without ``--redis`` a
``redis-server`` without persistence is started on a free port and stopped after.
Figures in docs/scale-out.md ("Measured").
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import redis

from simulator.clock import Clock, Ids
from simulator.fake import fake_state
from simulator.journal import Outbox
from simulator.store import Store, gc_paused
from simulator.store import redis as redis_engine
from simulator.vendors import VENDORS
from simulator.vendors._base import Context


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.TemporaryDirectory(prefix="crmsim-bench-redis-")
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    proc = subprocess.Popen(
        [*args, "no", "--dir", workdir.name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not answer")
            time.sleep(0.05)  # polling the server's start, with a deadline
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        workdir.cleanup()


def server_cpu(client: Any) -> float:
    """Seconds of CPU the Redis server has used (its process: unlike wall time, not
    inflated while other processes hold the machine's cores)."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def run(client: Any, slug: str, size: int, round_no: int) -> dict[str, float]:
    clock = Clock()
    ctx = Context(clock, Ids(1), Outbox(10, clock))
    state = fake_state(1, size, [slug])[slug]
    started = time.perf_counter()
    backend = VENDORS[slug].backend(ctx)
    backend.load_state(state)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with gc_paused():  # what the serving layer may do: the same load, no collections
        VENDORS[slug].backend(Context(clock, Ids(1), Outbox(10, clock))).load_state(state)
    loaded_paused = time.perf_counter() - started
    source: Store = backend.store
    records = sum(len(t) for t, _, _ in source._tables.values())
    target = Store(redis_engine.Engine(client, "bench", f"{slug}@{round_no}"))
    server, cpu = server_cpu(client), time.process_time()
    started = time.perf_counter()
    source.copy_to(target)
    copied = time.perf_counter() - started
    cpu, server = time.process_time() - cpu, server_cpu(client) - server
    memory = client.info("memory")["used_memory"]
    started = time.perf_counter()
    read = sum(1 for name in source._tables for _ in target.table(name))
    iterated = time.perf_counter() - started
    assert read == records, (read, records)
    name, (table, _, _) = max(source._tables.items(), key=lambda t: len(t[1][0]))
    page = list(range(1, 101))
    started = time.perf_counter()
    assert sum(r is not None for r in target.table(name).get_many(page)) == 100
    paged = time.perf_counter() - started
    keys = client.dbsize()
    client.flushdb()
    return {
        "records": records,
        "keys": keys,
        "redis bytes": memory,
        "load (memory)": loaded,
        "load (memory, gc paused)": loaded_paused,
        "copy": copied,
        "copy cpu": cpu,
        "copy redis cpu": server,
        "iterate": iterated,
        "get_many 100": paged,
    }


INTS = ("records", "keys", "redis bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--vendors", default="botw,antcrm,crmcom")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis", help="a Redis to use (its database is flushed)")
    opts = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = opts.redis or stack.enter_context(redis_server())
        client = redis_engine.connect(url, timeout=60)
        for slug in opts.vendors.split(","):
            rounds = [run(client, slug, opts.size, n) for n in range(opts.repeat)]
            best = min(rounds, key=lambda r: r["copy"])
            figures = ", ".join(
                f"{k} {v:,.0f}" if k in INTS else f"{k} {v:.3f} s" for k, v in best.items()
            )
            print(f"{slug}: {figures}", flush=True)


if __name__ == "__main__":
    main()
