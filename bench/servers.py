"""Which HTTP server serves crmsim: the same app under each, side by side, driven by wrk.

    .venv/bin/python bench/servers.py [--duration 5] [--rounds 3] [--connections 32]

For each server it starts `crmsim serve --server NAME` (or granian's own WSGI interface,
for reference: it cannot reset a connection for a `drop` fault, see docs/serving.md) on a
free loopback port with 1,000 BOTW contacts stored, then runs wrk (2 threads) on
`GET /__sim/health` and on BOTW create (`POST /crm/1`, a new email each time). Rounds
alternate the servers; the figures are medians. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk" / "requests.lua"
KEY = "Authorization\tBearer KEY"
SERVERS = {
    "gunicorn": ["-m", "simulator", "serve", "--server", "gunicorn"],
    "granian": ["-m", "simulator", "serve", "--server", "granian"],
    "granian-wsgi": [
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--blocking-threads",
        "2",
        "--log-level",
        "warning",
        "simulator.app:create_app",
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(method: str, url: str, body: bytes | None = None, ctype: str = "") -> int:
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=30) as r:
        return int(r.status)


def start(name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    kind, _, threads = name.partition(":")  # "granian:4": granian with --threads 4
    args = SERVERS[kind][:-1] + ["--port", str(port), SERVERS[kind][-1]]
    if kind != "granian-wsgi":
        args = SERVERS[kind] + ["--port", str(port)] + (["--threads", threads] if threads else [])
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call("GET", base + "/__sim/health") == 200:
                break
        except OSError:
            time.sleep(0.05)
    else:
        stop(proc)
        raise RuntimeError(f"{name} did not start")
    contacts = [
        {"contact_id": i, "listing_id": "1", "email": f"seed{i}@example.com"}
        for i in range(1, 1001)
    ]
    state = {"api_keys": {"KEY": ["1"]}, "contacts": contacts}
    call("PUT", base + "/__sim/state/botw", json.dumps(state).encode(), "application/json")
    return proc, base


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wrk(base: str, requests: Path, duration: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{round(duration)}s", "-s", str(LUA), base + "/"],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
        env={**os.environ, "BENCH_REQUESTS": str(requests)},
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCHJSON "))
    doc = json.loads(line.removeprefix("BENCHJSON "))
    if sum(doc["errors"].values()):
        raise RuntimeError(f"wrk saw errors: {doc['errors']}")
    return {
        "rps": doc["requests"] / (doc["duration_us"] / 1e6),
        "p50": doc["p50_us"] / 1000,
        "p99": doc["p99_us"] / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="e.g. granian:1,granian:4 (--threads)"
    )
    args = parser.parse_args()
    names = args.servers.split(",")
    work = Path(tempfile.mkdtemp(prefix="crmsim-servers-"))
    ops = {
        "health": "R\tGET\t/__sim/health\t\n",
        "botw create": f"H\t{KEY}\nH\tContent-Type\tapplication/x-www-form-urlencoded\n"
        "R\tPOST\t/crm/1\temail=b{n}%40example.com\n",
    }
    files = {}
    for op, text in ops.items():
        files[op] = work / (op.replace(" ", "-") + ".tsv")
        files[op].write_text(text)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        order = names if round_ % 2 == 0 else list(reversed(names))
        for name in order:
            proc, base = start(name)
            try:
                for op, path in files.items():
                    wrk(base, path, 1, args.connections)  # warm-up
                    figures = wrk(base, path, args.duration, args.connections)
                    results.setdefault((name, op), []).append(figures)
                    print(name, op, figures, file=sys.stderr, flush=True)
            finally:
                stop(proc)
    print("| server | request | req/s | p50 ms | p99 ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in names:
        for op in ops:
            runs = results[(name, op)]
            rps = statistics.median(r["rps"] for r in runs)
            p50 = statistics.median(r["p50"] for r in runs)
            p99 = statistics.median(r["p99"] for r in runs)
            print(f"| {name} | {op} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
