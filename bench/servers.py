"""Which HTTP server serves crmsim: the same app under each, side by side, driven by wrk.

    .venv/bin/python bench/servers.py [--duration 5] [--rounds 3] [--connections 32]

For each server it starts `crmsim serve --server NAME` (or granian's own WSGI interface,
for reference: it cannot reset a connection for a `drop` fault, see docs/serving.md) on a
free loopback port with 1,000 BOTW contacts stored, then runs wrk (2 threads) on
`GET /__sim/health`, on BOTW create (`POST /crm/1`, a new email each time) and on BOTW
search (`GET /crm/1?email=`, stored emails in turn). Rounds alternate the servers; the
figures are medians. Prints a Markdown table, with the server's CPU time per request (all
its processes, from /proc): on a shared machine the figure least disturbed by others.

Variants of `crmsim serve` (granian) for comparing its settings, each served by this file
(`servers.py --serve NAME --port P`): `granian+pool` (every request in the bridge's thread
pool: the bridge before its inline path), `granian+asyncio`, `granian+uvloop`,
`granian+rloop` (the event loop), `granian+rust`, `granian+aiotasks` (granian's Rust
task implementation or asyncio's), `granian+rt2` (two runtime threads); options combine:
`granian+pool+asyncio+aiotasks` is `crmsim serve` as it was before issue 16's changes.
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


def serve_variant(name: str, port: int) -> None:
    """``crmsim serve`` (granian) on ``port`` with the options of ``name`` (see above)."""
    import granian.server.mp as mp
    from granian.constants import Loops, RuntimeModes, TaskImpl

    from simulator import rsgi, serve
    from simulator.config import Config

    extra: dict[str, object] = {}
    for option in name.split("+")[1:]:
        if option == "pool":
            rsgi.quiet = lambda namespaces: lambda path: False  # type: ignore[assignment]
        elif option in ("asyncio", "uvloop", "rloop"):
            extra["loop"] = Loops(option)
        elif option in ("rust", "aiotasks"):
            extra["task_impl"] = TaskImpl.rust if option == "rust" else TaskImpl.asyncio
        elif option in ("st", "mt"):
            extra["runtime_mode"] = RuntimeModes(option)
        elif option.startswith("rt"):
            extra["runtime_threads"] = int(option[2:])
        else:
            raise SystemExit(f"unknown option {option!r} in {name!r}")
    init = mp.MPServer.__init__

    def with_options(self: object, *args: object, **kwargs: object) -> None:
        init(self, *args, **{**kwargs, **extra})  # type: ignore[arg-type]

    mp.MPServer.__init__ = with_options  # type: ignore[method-assign]
    serve.serve_granian(Config.from_env().merged({"port": port}))


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
    if kind.startswith("granian+"):
        args = [str(Path(__file__).resolve()), "--serve", kind, "--port", str(port)]
    elif kind == "granian-wsgi":
        args = SERVERS[kind][:-1] + ["--port", str(port), SERVERS[kind][-1]]
    else:
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


def cpu_seconds(group: int) -> float:
    """CPU time (user and system) used so far by the processes of process group ``group``:
    the server and its workers. Per request, it is the figure that the other work on a
    shared machine disturbs least (req/s falls when another process takes a core)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(
    base: str, requests: Path, duration: float, connections: int, group: int = 0
) -> dict[str, float]:
    used = cpu_seconds(group) if group else 0.0
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
    used = cpu_seconds(group) - used if group else 0.0
    return {
        "cpu_us": used / doc["requests"] * 1e6,
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
    parser.add_argument("--ops", help="only these requests, e.g. health,botw create")
    parser.add_argument("--serve", help="serve this variant (granian+...) on --port")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        return serve_variant(args.serve, args.port)
    names = args.servers.split(",")
    work = Path(tempfile.mkdtemp(prefix="crmsim-servers-"))
    ops = {
        "health": "R\tGET\t/__sim/health\t\n",
        "botw create": f"H\t{KEY}\nH\tContent-Type\tapplication/x-www-form-urlencoded\n"
        "R\tPOST\t/crm/1\temail=b{n}%40example.com\n",
        "botw search": f"H\t{KEY}\n"
        + "".join(f"R\tGET\t/crm/1?email=seed{i}%40example.com\t\n" for i in range(1, 1001, 7)),
    }
    if args.ops:
        ops = {op: ops[op] for op in args.ops.split(",")}
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
                    figures = wrk(base, path, args.duration, args.connections, proc.pid)
                    results.setdefault((name, op), []).append(figures)
                    print(name, op, figures, file=sys.stderr, flush=True)
            finally:
                stop(proc)
    print("| server | request | req/s | p50 ms | p99 ms | server CPU µs per request |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in names:
        for op in ops:
            runs = results[(name, op)]
            rps = statistics.median(r["rps"] for r in runs)
            p50 = statistics.median(r["p50"] for r in runs)
            p99 = statistics.median(r["p99"] for r in runs)
            cpu = statistics.median(r["cpu_us"] for r in runs)
            print(f"| {name} | {op} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
