"""`make bench`: crmsim served as users run it, driven by wrk, at growing record counts.

Usage: python bench/run.py [--sizes 1000,100000,1000000] [--duration 5] [--repeat 3]
                           [--connections 16] [--threads N] [--out bench/RESULTS.md]

For each size it starts `crmsim serve` (gunicorn, one worker, threads) on a free loopback
port, measures start to first answer, loads a `crmsim fake` state of that many records per
vendor with `PUT /__sim/state/<vendor>` (timed, RSS before and after), then runs wrk
(bounded: --duration seconds per run, --repeat runs per operation, medians reported) on
each operation and on `GET /__sim/health`, the ceiling. Every operation is first sent once
from Python and its answer checked, so the figures are of answers that are right. At the
smallest size above 1,000 (else the first), two 10 s runs of a read and a write measure
RSS growth at a constant record count (the journal must stay bounded).

Writes bench/RESULTS.md (table, ratios against the issue's targets, machine, date, how to
reproduce) and prints the same. wrk comes from Debian's package; it is installed with
apt-get when missing.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.fake import credentials, fake_state  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "requests.lua"
SEED = 1
VENDORS = ("botw", "omoto", "antcrm", "crmcom")
SAMPLE = 5000  # records i < SAMPLE are the same in every size: fake records depend on i only


# -- processes and HTTP ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def crmsim_bin() -> str:
    local = Path(sys.executable).parent / "crmsim"
    return str(local) if local.exists() else "crmsim"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing Debian's package with apt-get", file=sys.stderr)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still missing after apt-get install wrk")
    return found


def worker_pid(master: int) -> int:
    """gunicorn's one worker: the master's child process."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise RuntimeError("gunicorn started no worker")


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """`crmsim serve` exactly as users start it, on a free port."""

    def __init__(self, threads: int | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [crmsim_bin(), "serve", "--port", str(self.port), "--seed", str(SEED)]
        if threads:
            cmd += ["--threads", str(threads)]
        self.log = tempfile.TemporaryFile()
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        while True:
            try:
                if http("GET", self.base + "/__sim/health")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.perf_counter() - started > 30:
                self.log.seek(0)
                raise RuntimeError("crmsim serve did not start: " + self.log.read().decode())
            time.sleep(0.005)
        self.start_s = time.perf_counter() - started
        self.worker = worker_pid(self.proc.pid)

    def rss(self) -> float:
        return rss_mib(self.worker)

    def peak(self) -> float:
        return rss_mib(self.worker, "VmHWM")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def inprocess_start() -> float:
    """Start to first answer of the pytest plugin's in-process server (a fresh interpreter
    that has imported pytest, as a test session has)."""
    code = (
        "import time, urllib.request\n"
        "import pytest  # already imported in a pytest session: not part of the start\n"
        "t = time.perf_counter()\n"
        "from simulator.pytest_plugin import _Server\n"
        "s = _Server()\n"
        "urllib.request.urlopen(s.url + '/__sim/health').read()\n"
        "print(time.perf_counter() - t)\n"
        "s.close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


# -- operations -----------------------------------------------------------------------------
@dataclass
class Op:
    name: str
    vendor: str | None
    method: str
    headers: dict[str, str]
    requests: list[tuple[str, str, str]]  # (method, path, body); {n} made unique by wrk
    check: Any  # (status, body bytes) -> problem text or None
    results: dict[int, list[dict[str, float]]] = field(default_factory=dict)


def expect(status: int, contains: str) -> Any:
    def check(got: int, body: bytes) -> str | None:
        text = body.decode("utf-8", "replace")
        if got != status or contains not in text:
            return f"expected {status} with {contains!r}, got {got}: {text[:300]}"
        return None

    return check


def operations(base: str, size: int) -> list[Op]:
    creds = credentials(SEED)
    sample = fake_state(SEED, min(size, SAMPLE))
    ops = [
        Op(
            "ceiling: GET /__sim/health",
            None,
            "GET",
            {},
            [("GET", "/__sim/health", "")],
            expect(200, '"ok"'),
        ),
    ]
    # BOTW
    key = creds["botw"]["api_key"]
    form = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"}
    listing = creds["botw"]["listings"][0]
    ops.append(
        Op(
            "botw create_contact",
            "botw",
            "POST",
            form,
            [
                (
                    "POST",
                    f"/crm/{listing}",
                    "first_name=Bench&last_name=User&email=bench{n}%40example.com&phone=555000{n}",
                )
            ],
            expect(201, "success"),
        )
    )
    searches = [
        ("GET", f"/crm/{c['listing_id']}?email={c['email'].replace('@', '%40')}", "")
        for c in sample["botw"]["contacts"]
    ]
    ops.append(
        Op(
            "botw search_contacts (email)",
            "botw",
            "GET",
            {"Authorization": f"Bearer {key}"},
            searches,
            expect(200, "record(s) found"),
        )
    )
    # Omoto
    campaign = creds["omoto"]["campaigns"][0]
    customer = [
        {
            "personalinfo": {
                "firstname": "bench",
                "lastname": "user",
                "email": "bench{n}@example.com",
                "mobileno": "9835132376",
                "transactionid": "{n}",
            },
            "qualifyinginfo": [{"name": "unitname", "value": "book club"}],
        }
    ]
    ops.append(
        Op(
            "omoto receive_customer_info",
            "omoto",
            "POST",
            {"Content-Type": "application/json"},
            [
                (
                    "POST",
                    f"/omoto/receivecustomerinfo.htm?key={campaign['api_key']}",
                    json.dumps(customer),
                )
            ],
            expect(200, "success"),
        )
    )
    # AntCRM
    ant = creds["antcrm"]
    new_contact = {
        "senderUser": ant["sender"],
        "data": [
            {
                "actionType": "add-contact",
                "data": {
                    "name": "Bench",
                    "lastname": "User{n}",
                    "passport": "B{n}",
                    "emails": [{"value": "bench{n}@example.com"}],
                    "phones": [{"value": "0900{n}"}],
                },
            }
        ],
    }
    listener = f"/antcrm/webhook/listener/{ant['listener_id']}"
    ops.append(
        Op(
            "antcrm add-contact (new)",
            "antcrm",
            "POST",
            {"Content-Type": "application/json"},
            [("POST", listener, json.dumps(new_contact))],
            expect(200, "true"),
        )
    )
    dups = []
    for c in sample["antcrm"]["customers"]:
        if c["kind"] != "contact":
            continue
        body = {
            "senderUser": ant["sender"],
            "data": [
                {
                    "actionType": "add-contact",
                    "data": {"name": c["name"], "emails": [{"value": c["emails"][0]["value"]}]},
                }
            ],
        }
        dups.append(("POST", listener, json.dumps(body)))
    ops.append(
        Op(
            "antcrm add-contact (duplicate)",
            "antcrm",
            "POST",
            {"Content-Type": "application/json"},
            dups,
            expect(200, "true"),
        )
    )
    # CRM.COM: the token comes from the loaded state's web API key (see prepare()).
    shows = [
        (
            "GET",
            "/crmapi/rest/v2/contact_information/show?token={token}"
            f"&contact_information_identifier=number={c['number']}&fields_set=id,number,name",
            "",
        )
        for c in sample["crmcom"]["contacts"]
    ]
    ops.append(
        Op("crmcom show_contact_information", "crmcom", "GET", {}, shows, expect(200, '"OK"'))
    )
    pending = min(size, SAMPLE) * 7 // 10 // 2  # PENDING requests of PROV1 in the sample
    pages = [
        (
            "GET",
            "/crmapi/rest/v2/provisioning/generic_provisioning_requests/get_pending"
            "?token={token}&provisioning_provider_identifier=id=PROV1&number_of_results=50"
            f"&offset={offset}",
            "",
        )
        for offset in range(0, max(1, pending - 50), 7)
    ]
    ops.append(
        Op(
            "crmcom get_pending (page of 50)",
            "crmcom",
            "GET",
            {},
            pages,
            expect(200, "pending_provisioning_requests_set"),
        )
    )
    return ops


def crmcom_token(base: str) -> str:
    key = credentials(SEED)["crmcom"]["web_api_key"]
    auth = base64.b64encode(f"{key}:".encode()).decode()
    status, body = http(
        "POST",
        base + "/crmapi/rest/v2/authentication/web_api_key/token",
        b"{}",
        {"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    doc = json.loads(body)
    if status != 200 or doc.get("status", {}).get("code") not in (None, "OK"):
        raise RuntimeError(f"no CRM.COM token: {status} {body[:300]!r}")
    return str(doc["data"]["token"])


def prepare(op: Op, base: str, token: str) -> Path:
    """Check one request of ``op`` from Python, then write its wrk request file."""
    reqs = [(m, p.replace("{token}", token), b) for m, p, b in op.requests]
    method, path, body = reqs[0]
    status, answer = http(
        method,
        base + path.replace("{n}", "0"),
        body.replace("{n}", "0").encode() if body else None,
        op.headers,
    )
    problem = op.check(status, answer)
    if problem:
        raise RuntimeError(f"{op.name}: {problem}")
    fd, name = tempfile.mkstemp(prefix="crmsim-bench-", suffix=".tsv")
    with os.fdopen(fd, "w") as out:
        for k, v in op.headers.items():
            out.write(f"H\t{k}\t{v}\n")
        for m, p, b in reqs:
            out.write(f"R\t{m}\t{p}\t{b}\n")
    return Path(name)


def wrk(
    binary: str, base: str, requests: Path, duration: float, connections: int, url_path: str = "/"
) -> dict[str, float]:
    out = subprocess.run(
        [
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{round(duration)}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base + url_path,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BENCH_REQUESTS": str(requests)},
    )
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCHJSON "))
    doc = json.loads(line.removeprefix("BENCHJSON "))
    errors = sum(doc["errors"].values())
    if errors:
        raise RuntimeError(f"wrk saw errors {doc['errors']}:\n{out.stdout}")
    return {
        "rps": doc["requests"] / (doc["duration_us"] / 1e6),
        "p50_ms": doc["p50_us"] / 1000,
        "p99_ms": doc["p99_us"] / 1000,
    }


def load_vendor(server: Server, vendor: str, size: int, workdir: Path) -> dict[str, float]:
    path = workdir / f"fake-{vendor}-{size}.json"
    t = time.perf_counter()
    subprocess.run(
        [
            crmsim_bin(),
            "fake",
            "--seed",
            str(SEED),
            "--size",
            str(size),
            "--vendors",
            vendor,
            "-o",
            str(path),
        ],
        check=True,
    )
    fake_s = time.perf_counter() - t
    data = path.read_bytes().rstrip(b"\n")
    head = b'{"' + vendor.encode() + b'":'
    assert data.startswith(head) and data.endswith(b"}"), "unexpected crmsim fake output"
    part = data[len(head) : -1]
    del data
    before = server.rss()
    t = time.perf_counter()
    status, body = http(
        "PUT", f"{server.base}/__sim/state/{vendor}", part, {"Content-Type": "application/json"}
    )
    load_s = time.perf_counter() - t
    if status != 200:
        raise RuntimeError(f"loading {vendor} at {size}: {status} {body[:500]!r}")
    path.unlink()
    return {
        "fake_s": fake_s,
        "load_s": load_s,
        "rss_delta_mib": server.rss() - before,
        "bytes": len(part),
    }


# -- the run --------------------------------------------------------------------------------
def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="wrk runs per operation")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="crmsim serve --threads")
    parser.add_argument("--memory-seconds", type=float, default=10.0)
    parser.add_argument(
        "--split-at",
        type=int,
        default=1_000_000,
        help="from this size on, one server per vendor (memory)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.sizes_list = sizes
    binary = ensure_wrk()
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {"sizes": sizes, "ops": {}, "loads": {}, "servers": {}}
    with tempfile.TemporaryDirectory(prefix="crmsim-bench-") as tmp:
        workdir = Path(tmp)
        for size in sizes:
            print(f"== {size:,} records per vendor", flush=True)
            # From --split-at records on, each vendor gets a server of its own (and the
            # ceiling is measured on each): four million records in one process would need
            # more memory than these machines have.
            groups = [list(VENDORS)] if size < args.split_at else [[v] for v in VENDORS]
            infos = [run_group(binary, group, size, workdir, report, args) for group in groups]
            report["servers"][size] = {
                "start_s": statistics.median(i["start_s"] for i in infos),
                "rss_empty_mib": statistics.median(i["rss_empty_mib"] for i in infos),
                "rss_loaded_mib": sum(i["rss_loaded_mib"] - i["rss_empty_mib"] for i in infos)
                + infos[0]["rss_empty_mib"],
                "rss_peak_mib": max(i["rss_peak_mib"] for i in infos),
                "servers": len(infos),
                **({"memory": infos[0]["memory"]} if "memory" in infos[0] else {}),
            }
    report["inprocess_start_s"] = statistics.median(inprocess_start() for _ in range(3))
    report["reset_ms"] = reset_ms()
    text = render(report, args, started)
    Path(args.out).write_text(text)
    print(text)


def run_group(
    binary: str, group: list[str], size: int, workdir: Path, report: dict[str, Any], args: Any
) -> dict[str, Any]:
    """One server: load ``group``'s vendors at ``size``, run their operations and the
    ceiling, and (at the memory size) the memory runs."""
    server = Server(args.threads)
    info: dict[str, Any] = {"start_s": server.start_s, "rss_empty_mib": server.rss()}
    try:
        for vendor in group:
            load = load_vendor(server, vendor, size, workdir)
            report["loads"][(vendor, size)] = load
            print(
                f"   loaded {vendor}: {load['load_s']:.2f} s, +{load['rss_delta_mib']:.0f} MiB",
                flush=True,
            )
        info["rss_loaded_mib"] = server.rss()
        token = crmcom_token(server.base) if "crmcom" in group else ""
        for op in operations(server.base, size):
            if op.vendor is not None and op.vendor not in group:
                continue
            requests = prepare(op, server.base, token)
            runs = [
                wrk(binary, server.base, requests, args.duration, args.connections)
                for _ in range(args.repeat)
            ]
            requests.unlink()
            report["ops"].setdefault(op.name, {}).setdefault(size, []).extend(runs)
            print(
                f"   {op.name}: {median(runs, 'rps'):.0f} req/s, "
                f"p50 {median(runs, 'p50_ms'):.1f} ms, p99 {median(runs, 'p99_ms'):.1f} ms",
                flush=True,
            )
        memory_size = next((s for s in args.sizes_list if s > 1000), args.sizes_list[0])
        if size == memory_size and {"botw", "omoto"} <= set(group):
            info["memory"] = memory_runs(binary, server, size, token, args)
        info["rss_peak_mib"] = server.peak()
    finally:
        server.stop()
    return info


def memory_runs(binary: str, server: Server, size: int, token: str, args: Any) -> dict[str, Any]:
    """RSS before and after two runs of a read and a write at a constant record count."""
    ops = {o.name: o for o in operations(server.base, size)}
    chosen = [ops["botw search_contacts (email)"], ops["omoto receive_customer_info"]]
    files = [prepare(o, server.base, token) for o in chosen]
    before = server.rss()
    rss = [before]
    for _ in range(2):
        for f in files:
            wrk(binary, server.base, f, args.memory_seconds, args.connections)
        rss.append(server.rss())
    for f in files:
        f.unlink()
    return {
        "ops": [o.name for o in chosen],
        "rss_mib": rss,
        "growth_mib": rss[-1] - before,
        "seconds": args.memory_seconds,
    }


def reset_ms() -> float:
    """Median time of POST /__sim/reset in-process (a namespace with some state)."""
    from simulator import create_app

    client = create_app({"seed": 1}).test_client()
    client.put("/__sim/state", json=fake_state(SEED, 100))
    times = []
    for _ in range(200):
        t = time.perf_counter()
        client.post("/__sim/reset")
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def render(report: dict[str, Any], args: Any, started: datetime.datetime) -> str:
    sizes = report["sizes"]
    ceiling = report["ops"]["ceiling: GET /__sim/health"]
    lines = [
        "# crmsim benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `make bench` (`bench/run.py`) on {machine()}.",
        "",
        f"Each figure is the median of {args.repeat} wrk runs of {args.duration:g} s "
        f"(1 wrk thread, {args.connections} connections, loopback) against `crmsim serve` "
        f"(gunicorn, one worker, {args.threads or 'default'} threads) holding "
        "a `crmsim fake --seed 1` state of N records per vendor (from "
        f"{args.split_at:,} records on, one server per vendor, each with its own ceiling "
        "run: four million records do not fit one process here).",
        "",
        "| operation | " + " | ".join(f"{s:,}: req/s | p50 ms | p99 ms" for s in sizes) + " |",
        "| --- | " + " | ".join("---: | ---: | ---:" for _ in sizes) + " |",
    ]
    for name, by_size in report["ops"].items():
        cells = []
        for s in sizes:
            runs = by_size.get(s)
            cells.append(
                "- | - | -"
                if not runs
                else f"{median(runs, 'rps'):,.0f} | {median(runs, 'p50_ms'):.1f} | "
                f"{median(runs, 'p99_ms'):.1f}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    small, large = sizes[0], sizes[-1]
    lines += [
        "",
        "## Targets",
        "",
        f"| operation | at {small:,}: share of ceiling (>= 70%) | at {large:,}: share of "
        f"its figure at {small:,} (>= 90%) | worst p99/p50 (<= 3) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, by_size in report["ops"].items():
        if name.startswith("ceiling"):
            continue
        share = median(by_size[small], "rps") / median(ceiling[small], "rps")
        flat = median(by_size[large], "rps") / median(by_size[small], "rps")
        tail = max(median(r, "p99_ms") / median(r, "p50_ms") for r in by_size.values())
        lines.append(
            f"| {name} | {mark(share, 0.7)} | {mark(flat, 0.9)} | "
            f"{tail:.1f}{'' if tail <= 3 else ' (miss)'} |"
        )
    tail = max(median(r, "p99_ms") / median(r, "p50_ms") for r in ceiling.values())
    lines.append(f"| ceiling | | | {tail:.1f}{'' if tail <= 3 else ' (miss)'} |")
    lines += [
        "",
        "## Loading, memory, start",
        "",
        "| vendor | records | `crmsim fake` s | `PUT /__sim/state/<vendor>` s (< 3 s at "
        "100,000) | RSS added MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for (vendor, size), load in report["loads"].items():
        lines.append(
            f"| {vendor} | {size:,} | {load['fake_s']:.1f} | {load['load_s']:.2f} | "
            f"{load['rss_delta_mib']:.0f} |"
        )
    lines += [
        "",
        "| records per vendor | start to first answer s (< 0.5) | RSS empty MiB | "
        "RSS loaded MiB | peak RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, info in report["servers"].items():
        lines.append(
            f"| {size:,} | {info['start_s']:.2f} | {info['rss_empty_mib']:.0f} | "
            f"{info.get('rss_loaded_mib', 0):.0f} | {info.get('rss_peak_mib', 0):.0f} |"
        )
    if any(info.get("servers", 1) > 1 for info in report["servers"].values()):
        lines += [
            "",
            "Where each vendor had its own server, start is the median of the servers, RSS "
            "loaded is one empty server plus what each vendor added, and peak RSS is the "
            "largest server's.",
        ]
    ant = [(s, report["loads"][("antcrm", s)]) for s in sizes if s >= 100000]
    if ant:
        s, load = ant[0]
        per = load["rss_delta_mib"] * 100000 / s
        lines += [
            "",
            f"AntCRM: {per:.0f} MiB RSS per 100,000 customers (target < 150), "
            f"measured at {s:,} (with their deals and tickets).",
        ]
    for size, info in report["servers"].items():
        mem = info.get("memory")
        if mem:
            lines += [
                "",
                f"Memory under load at {size:,} records: two rounds of "
                f"{mem['seconds']:g} s runs of {' and '.join(mem['ops'])}; RSS "
                + " → ".join(f"{r:.0f}" for r in mem["rss_mib"])
                + f" MiB, growth {mem['growth_mib']:.1f} MiB (target < 50).",
            ]
    lines += [
        "",
        f"In-process start to first answer (the pytest plugin's server in a fresh "
        "interpreter with pytest imported; crmsim's imports included): "
        f"{report['inprocess_start_s']:.2f} s (target < 0.3). "
        f"Namespace reset (`POST /__sim/reset`, test client): {report['reset_ms']:.2f} ms "
        "(target < 2).",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                                   # sizes 1,000 / 100,000 / 1,000,000",
        "BENCH_ARGS='--sizes 1000,100000 --repeat 1' make bench   # quicker",
        "```",
        "",
        "See `bench/README.md` for what is measured and how.",
        "",
    ]
    return "\n".join(lines)


def mark(value: float, target: float) -> str:
    return f"{value:.0%}" + ("" if value >= target else " (miss)")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
