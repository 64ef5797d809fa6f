"""bench/run.py's report (issue 16): every figure as a ratio to WireMock's static stub and
to crmsim's ceiling, and the issue's targets marked. A made-up report, no servers."""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
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
        spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_run"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def runs(rps: float, p50: float = 5.0, p99: float = 10.0) -> list[dict[str, float]]:
    return [{"rps": rps, "p50_ms": p50, "p99_ms": p99}] * 3


def report(run: ModuleType, wiremock: bool = True) -> dict[str, Any]:
    sizes = [1000, 100_000]
    ops = {
        run.CEILING: {s: runs(12_000) for s in sizes},
        "botw create_contact": {1000: runs(9_000), 100_000: runs(8_000)},
        "antcrm add-contact (new)": {1000: runs(6_000, 5, 20), 100_000: runs(6_000)},
    }
    if wiremock:
        ops = {run.WIREMOCK: {s: runs(20_000) for s in sizes}, **ops}
    loads = {
        (v, s): {"fake_s": 1.0, "load_s": 3.5 if v == "antcrm" else 1.0, "bytes": 1,
                 "rss_delta_mib": s * (2.0 if v == "crmcom" else 1.0) / 1024}
        for v in run.VENDORS
        for s in sizes
    }  # fmt: skip
    return {
        "sizes": sizes,
        "ops": ops,
        "loads": loads,
        "servers": {s: {"start_s": 0.3, "rss_empty_mib": 40, "servers": 1} for s in sizes},
        "inprocess_start_s": 0.35,
        "reset_ms": 0.2,
        **(
            {"wiremock": {"start_s": 2.0, "warmup_rps": [4e3, 2e4], "rss_warm_mib": 300}}
            if wiremock
            else {}
        ),
    }


def render(run: ModuleType, doc: dict[str, Any]) -> str:
    args = argparse.Namespace(
        repeat=3, duration=8, wrk_threads=2, connections=32, threads=None,
        split_at=1_000_000, warmup=1, wiremock_warmup=3,
    )  # fmt: skip
    return str(run.render(doc, args, datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)))


def row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_each_row_is_a_ratio_to_wiremock_and_to_the_ceiling(run: ModuleType) -> None:
    text = render(run, report(run))
    # 1,000: req/s | vs WireMock | vs ceiling | p50 | p99, then the same at 100,000
    assert row(text, f"| {run.WIREMOCK} |").split(" | ")[1:4] == ["20,000", "1.00", "-"]
    assert row(text, f"| {run.CEILING} |").split(" | ")[1:4] == ["12,000", "0.60", "1.00"]
    create = row(text, "| botw create_contact |").split(" | ")
    assert create[1:4] == ["9,000", "0.45", "0.75"]
    assert create[6:9] == ["8,000", "0.40", "0.67"]


def test_targets_are_marked(run: ModuleType) -> None:
    text = render(run, report(run))
    assert row(text, "| crmsim's ceiling at least 0.6").endswith(
        "| ok: 1,000: 0.60; 100,000: 0.60 |"
    )
    assert row(text, "| every operation at least 0.6").endswith(
        "| (miss): 1 of 2 under (antcrm add-contact (new)) |"
    )
    assert "(miss): 1 over (antcrm add-contact (new))" in row(text, "| p99 at most 3")
    loads = row(text, "| `PUT /__sim/state` of 100,000")
    assert "antcrm 3.50 s (miss)" in loads and "botw 1.00 s," in loads
    per_record = row(text, "| at most 1.5 KiB")
    assert "crmcom 2.00 KiB (miss)" in per_record and "botw 1.00 KiB," in per_record
    assert row(text, "| in-process start under 0.3 s").endswith("| (miss): 0.35 s |")
    assert row(text, "| moonshot: BOTW create at 100,000").endswith(
        "| (miss): 8,000 vs 20,000 req/s: 0.40, 2.5× to go |"
    )
    antcrm = row(text, "| antcrm add-contact (new) | 0.50 (miss)")
    assert antcrm.endswith("| 4.0 (miss) |")


def test_without_wiremock_the_ratios_to_it_are_left_blank(run: ModuleType) -> None:
    text = render(run, report(run, wiremock=False))
    assert "WireMock was left out of this run (`--no-wiremock`)." in text
    assert run.WIREMOCK not in text
    assert row(text, f"| {run.CEILING} |").split(" | ")[1:4] == ["12,000", "-", "1.00"]
    assert row(text, "| moonshot").endswith("| not measured |")


def test_a_wiremock_still_warming_up_is_said_so(run: ModuleType) -> None:
    doc = report(run)
    assert "not steady" not in render(run, doc)
    doc["wiremock"]["warm"] = False
    assert "(**not steady after 90 s**: the machine was busy" in render(run, doc)


class _FallingServer:
    """A worker whose RSS falls for a while after a load, then holds."""

    def __init__(self, readings: list[float]) -> None:
        self.readings = readings
        self.reads = 0

    def rss(self) -> float:
        value = self.readings[min(self.reads, len(self.readings) - 1)]
        self.reads += 1
        return value


def test_settled_rss_waits_for_the_fall_to_end(run: ModuleType, monkeypatch) -> None:
    monkeypatch.setattr(run, "SETTLE_POLL_S", 0)
    falling = _FallingServer([900.0, 850.0, 800.0, 700.0, 650.0, 650.2, 650.0, 649.9, 650.1])
    assert run.settled_rss(falling) == 650.1
    assert falling.reads == 9  # stopped once four reads in a row held
    flat = _FallingServer([500.0])
    assert run.settled_rss(flat) == 500.0 and flat.reads == 1 + run.SETTLE_QUIET


def test_the_loads_table_shows_the_rss_right_after_and_settled(run: ModuleType) -> None:
    doc = report(run)
    for load in doc["loads"].values():
        load["rss_after_mib"] = load["rss_delta_mib"] + 40
    text = render(run, doc)
    line = row(text, "| crmcom | 100,000 |")
    assert "| 235 | 195 | 2.00 (miss) |" in line


def test_loads_timed_again_report_their_median_and_spread(run: ModuleType) -> None:
    doc = report(run)
    doc["loads"][("antcrm", 100_000)].update(load_s=2.6, load_runs=[3.5, 2.5, 2.6])
    text = render(run, doc)
    assert row(text, "| antcrm | 100,000 |").startswith(
        "| antcrm | 100,000 | 1.0 | 2.60 (2.50–3.50) |"
    )
    assert row(text, "| botw | 100,000 |").startswith("| botw | 100,000 | 1.0 | 1.00 |")
    assert row(text, "| `PUT /__sim/state` of 100,000").endswith(
        "| ok: botw 1.00 s, omoto 1.00 s, antcrm 2.60 s, crmcom 1.00 s |"
    )


def test_a_reload_goes_to_its_own_namespace_and_drops_it(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        run, "put_state", lambda base, vendor, part, size: calls.append(("PUT", base, vendor))
    )

    def http(method: str, url: str, *_args: Any, **_kwargs: Any) -> tuple[int, bytes]:
        calls.append((method, url))
        return 200, b"{}"

    monkeypatch.setattr(run, "http", http)
    monkeypatch.setattr(run, "wait_quiet", lambda: calls.append(("quiet",)) or 0.0)
    # the worker's (user, system) CPU before and after each load
    worker_cpu = iter([(10.0, 1.0), (11.0, 1.5), (11.0, 1.5), (13.0, 2.0)])
    server = argparse.Namespace(base="http://sim", cpu=lambda: next(worker_cpu))
    load: dict[str, Any] = {"load_s": 3.2, "load_cpu_s": 3.1, "load_sys_s": 0.4}
    run.reload_vendor(server, "antcrm", b"{}", 100_000, load)
    assert calls == [
        ("quiet",),
        ("PUT", "http://sim/__ns/bench-reload", "antcrm"),
        ("DELETE", "http://sim/__ns/bench-reload/__sim"),
    ] * (run.LOADS - 1)
    assert len(load["load_runs"]) == run.LOADS and load["load_runs"][0] == 3.2
    assert load["load_s"] < 3.2  # the median: the two instant ones
    assert load["load_cpu_runs"] == [3.1, 1.5, 2.5]
    assert load["load_cpu_s"] == 2.5
    assert load["load_sys_runs"] == [0.4, 0.5, 0.5]
    assert load["load_sys_s"] == 0.5


def test_the_machine_is_quiet_when_its_cpu_is_idle(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /proc/stat's busy and total jiffies at each read: busy, busy, then idle
    readings = iter([(0, 100), (90, 200), (180, 300), (185, 400), (500, 500)])
    monkeypatch.setattr(run, "machine_jiffies", lambda: next(readings))
    monkeypatch.setattr(run.time, "sleep", lambda _s: None)
    run.wait_quiet()
    assert next(readings) == (500, 500)  # stopped at the first quiet window


def test_cpu_times_are_read_from_proc(run: ModuleType) -> None:
    busy, total = run.machine_jiffies()
    assert 0 < busy < total
    user, system = run.cpu_s(os.getpid())
    assert user > 0 and system >= 0
