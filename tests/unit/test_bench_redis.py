"""bench/run.py's shared store rows (issue 17): each Redis row as a ratio to the memory
engine's row of the same rounds, to Redis with one worker and to WireMock, with Redis's
figures per request; spread rows alternate namespaces. A made-up section, no servers."""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # bench/run.py imports bench/wiremock.py
    try:
        spec = importlib.util.spec_from_file_location("bench_run_redis", BENCH / "run.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_run_redis"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def runs(rps: float, reads: float | None = None) -> list[dict[str, float]]:
    run: dict[str, float] = {"rps": rps, "p50_ms": 5.0, "p99_ms": 10.0, "requests": rps}
    if reads is not None:
        run |= {"reads": reads, "commands": 20.0, "script_s": 100e-6, "cpu_s": 250e-6}
    return [run, run]


def section(run: ModuleType, wiremock: bool = True) -> dict[str, Any]:
    create, spread = "botw create_contact", "botw create_contact, 8 namespaces"
    rows = {
        (1000, create, run.MEMORY_ROW): runs(2000),
        (1000, create, run.REDIS_1): runs(400, 5.0),
        (1000, create, "Redis, 2 workers"): runs(500, 5.5),
        (1000, create, run.PAIR_ROW): runs(600, 6.0),
        (1000, spread, run.REDIS_1): runs(400, 5.0),
        (1000, spread, "Redis, 4 workers"): runs(1000, 5.2),
    }
    if wiremock:
        rows[(1000, run.WIREMOCK, "")] = runs(10_000)
    return {
        "sizes": [1000],
        "rows": rows,
        "loads": {(e, v, 1000): 0.5 for e in ("memory", "Redis") for v in run.VENDORS},
        "load_before": (1.0, 2.0, 3.0),
        "load_after": (4.0, 5.0, 6.0),
        "started": datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.UTC),
        "namespaces": 8,
        "version": "7.0.15",
    }


def args() -> argparse.Namespace:
    return argparse.Namespace(repeat=2, duration=2.0, wrk_threads=2, connections=32,
                              warmup=1.0, threads=None)  # fmt: skip


def row(text: str, op: str, setup: str) -> list[str]:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[:2] == [op, setup]:
            return cells
    raise AssertionError(f"no row {op} / {setup} in:\n{text}")


def test_each_redis_row_is_a_ratio_to_memory_one_worker_and_wiremock(run: ModuleType) -> None:
    text = run.render_redis(section(run), args())
    # req/s, vs memory, vs 1 worker, vs WireMock, p50, p99, round trips, commands, CPU, scripts
    assert row(text, "botw create_contact", "Redis, 2 workers")[2:] == [
        "500", "0.25", "1.25", "0.05", "5.0", "10.0", "5.5", "20.0", "250", "100",
    ]  # fmt: skip
    assert row(text, "botw create_contact", run.PAIR_ROW)[2:6] == ["600", "0.30", "1.50", "0.06"]
    memory = row(text, "botw create_contact", run.MEMORY_ROW)
    assert memory[2:6] == ["2,000", "1.00", "", "0.20"] and memory[8:] == ["-"] * 4
    # a spread row: vs the memory row of its plain operation, vs its own 1-worker row
    assert row(text, "botw create_contact, 8 namespaces", "Redis, 4 workers")[2:5] == [
        "1,000", "0.50", "2.50",
    ]  # fmt: skip
    assert "load average 1.0, 2.0, 3.0 at the start, 4.0, 5.0, 6.0 at the end" in text
    assert "n0 … n7" in text and "Redis 7.0.15" in text


def test_without_wiremock_its_ratio_is_left_blank(run: ModuleType) -> None:
    text = run.render_redis(section(run, wiremock=False), args())
    assert run.WIREMOCK not in text
    assert row(text, "botw create_contact", "Redis, 2 workers")[5] == "-"


def test_spread_requests_go_to_the_namespaces_in_turn(run: ModuleType) -> None:
    ops = {o.name: o for o in run.operations("http://x", 1000)}
    create = run.spread_op(ops["botw create_contact"], 8)
    assert create.name == "botw create_contact, 8 namespaces"
    (method, path, body) = ops["botw create_contact"].requests[0]
    assert create.requests == [(method, f"/__ns/n{k}{path}", body) for k in range(8)]
    search = ops["botw search_contacts (email)"]
    spread = run.spread_op(search, 8)
    assert len(spread.requests) == len(search.requests) == 1000
    assert [p for _, p, _ in spread.requests[:9]] == [
        f"/__ns/n{i % 8}{p}" for i, (_, p, _) in enumerate(search.requests[:9])
    ]
    assert spread.headers == search.headers and spread.check is search.check
