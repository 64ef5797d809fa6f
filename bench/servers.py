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

Two floors, served by this file under granian with `crmsim serve`'s options (RSGI, uvloop,
asyncio's tasks, one worker), for `--ops health,botw create` only (docs/serving.md, "What
0.6 of the ceiling would take"):

* `floor-bare`: answers a constant to every request (a POST's body is read first): what
  granian and the load generator cost with no Python work at all;
* `floor-direct`: BOTW create without Flask: the same key check, form parser, contract
  check (crmsim's schemas), backend (its store, indexes, ids) and journal entry as
  crmsim's create, called directly from the RSGI handler; health a constant. What a
  vendor request costs once Flask's request cycle and the pipeline's generic steps are
  taken out, and what `floor-direct`'s create reaches against crmsim's own health.
"""

from __future__ import annotations

import argparse
import gc
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
from typing import Any

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


HEALTH = b'{"status":"ok"}'
JSON = [("Content-Type", "application/json")]


class Floor:
    """``floor-bare`` (``direct`` False) or ``floor-direct``: an RSGI app (module docstring)."""

    def __init__(self, direct: bool) -> None:
        self.direct = direct
        if direct:
            from simulator import create_app

            self.app = create_app({"seed": 1})
            self.sim = self.app.extensions["crmsim"]

    def __rsgi_init__(self, _loop: object) -> None:
        return None

    def __rsgi_del__(self, _loop: object) -> None:
        return None

    def answer(self, proto: Any, status: int, body: bytes, headers: list[Any] = JSON) -> None:
        proto.response_bytes(status, [*headers, ("Content-Length", str(len(body)))], body)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.method == "GET":
            return self.answer(proto, 200, HEALTH)
        body = await proto()
        if not self.direct:
            return self.answer(proto, 201, HEALTH)
        if scope.path.startswith("/__sim/"):  # the state: through crmsim's own control plane
            client = self.app.test_client()
            got = client.put(scope.path, data=body, content_type="application/json")
            from simulator.serve import steady_gc

            # the collector as `crmsim serve`'s worker keeps it (simulator/serve.py)
            gc.collect()
            gc.freeze()
            steady_gc()
            return self.answer(proto, got.status_code, got.get_data())
        status, headers, out = self.create(scope, body)
        return self.answer(proto, status, out, headers)

    def create(self, scope: Any, body: bytes) -> tuple[int, list[Any], bytes]:
        """BOTW create_contact, its vendor steps as crmsim takes them, without Flask."""
        from simulator.errors import VendorError, encode_json
        from simulator.http import BadBody, parse_urlencoded
        from simulator.journal import ENTRY_OVERHEAD, Raw
        from simulator.vendors.botw import parsing

        started = time.perf_counter()
        world = self.sim.namespaces.find("default")
        assert not world.faults.rules and not world.settings["latency"]
        headers = list(scope.headers.items())
        sent = dict(headers)
        listing = scope.path.removeprefix("/crm/")
        with world.lock:
            try:
                form = sent.get("content-type") == "application/x-www-form-urlencoded"
                document = parse_urlencoded(body) if form else {}
            except BadBody:
                document = {}
            violations = self.sim.schemas.validate("botw/create_contact.request.json", document)
            api = world.backends["botw"]
            scheme, _, key = sent.get("authorization", "").partition(" ")
            try:
                api.authorize(key.strip() or None if scheme.lower() == "bearer" else None, listing)
                contact = parsing.create_contact(document)
                api.create_contact(listing, contact, scope.client.rpartition(":")[0])
                status = 201
                out = encode_json(
                    {"status": "success", "message": "New contact successfully updated."}
                )
            except VendorError as exc:
                response = exc.to_response()
                status, out = response.status_code, response.get_data()
            answered = [*JSON, ("X-Sim-Violations", str(len(violations)))]
            keep = world.journal_body_bytes
            request = Raw(
                headers, body, "application/x-www-form-urlencoded", scope.query_string, False, keep
            )
            response_raw = Raw(answered, out, "application/json", keep=keep)
            entry = {
                "at": world.clock.now(),
                "vendor": "botw",
                "operation": "botw.create_contact",
                "request": {"method": scope.method, "path": scope.path, "raw": request},
                "response": {"status": status, "raw": response_raw},
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "violations": violations,
                "fault": None,
                "outcomes": None,
            }
            world.journal.append(entry, ENTRY_OVERHEAD + request.size() + response_raw.size())
            world.changes += 1
        return status, answered, out


def serve_floor(name: str, port: int) -> None:
    """``floor-bare`` or ``floor-direct`` on ``port`` (module docstring)."""
    from functools import partial

    from granian.constants import Interfaces, Loops, TaskImpl
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    server = MPServer(
        "floor",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.RSGI,
        workers=1,
        loop=Loops.uvloop,
        task_impl=TaskImpl.asyncio,
        log_level=LogLevels.warning,
    )
    server.serve(target_loader=partial(Floor, name == "floor-direct"), wrap_loader=False)


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
    if kind.startswith(("granian+", "floor-")):
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
    if args.serve and args.serve.startswith("floor-"):
        return serve_floor(args.serve, args.port)
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
