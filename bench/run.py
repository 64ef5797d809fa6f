"""`make bench`: crmsim served as users run it, driven by wrk, at growing record counts.

Usage: python bench/run.py [--sizes 1000,100000,1000000] [--duration 8] [--repeat 3]
                           [--connections 32] [--wrk-threads 2] [--threads N]
                           [--no-wiremock] [--out bench/RESULTS.md]
                           [--no-redis | --redis-only] [--redis-sizes 1000,100000]
                           [--redis-namespaces 8]

For each size it starts `crmsim serve` (its default server: granian, one worker, the app in
its threads) on a free loopback
port, measures start to first answer, loads a `crmsim fake` state of that many records per
vendor with `PUT /__sim/state/<vendor>` (timed, RSS before and after), then runs wrk
(bounded: --duration seconds per run, --repeat rounds, medians reported) on each operation,
on `GET /__sim/health` (crmsim's ceiling) and on WireMock's static stub (bench/wiremock.py:
one JVM for the whole run, warmed up first). Rounds alternate the servers: WireMock is
measured next to the ceiling in every round (first in rounds 1, 3, ..., last in 2, 4, ...),
so each ratio is of figures from the same minutes. Every operation is first sent once from
Python and its answer checked, so the figures are of answers that are right. At the
smallest size above 1,000 (else the first), two 10 s runs of a read and a write measure
RSS growth at a constant record count (the journal must stay bounded).

Then the shared store's rows (issue 17; `--no-redis` leaves them out, `--redis-only` runs
them alone): a `redis-server` on a free port (Debian's, no persistence), and at each of
--redis-sizes (default: the --sizes up to 100,000) the memory engine with one worker, Redis
with 1, 2 and 4 workers, and two processes of 2 workers on one Redis, all up at once and
measured in alternating rounds on BOTW create and search, CRM.COM show, Omoto's push and
AntCRM add-contact, with Redis's round trips, commands and CPU per request; at the first
size also BOTW create and search spread over --redis-namespaces namespaces.

Writes bench/RESULTS.md (table with each figure as a ratio to WireMock and to the ceiling,
the issue's targets marked, machine, date, how to reproduce) and prints the same. wrk and
Java come from Debian's packages, installed with apt-get when missing; WireMock's jar from
the npm package `wiremock` (cached in bench/.cache/).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wiremock  # noqa: E402  (bench/wiremock.py: this script's directory is on sys.path)

from simulator.fake import credentials, fake_state  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "requests.lua"
SEED = 1
VENDORS = ("botw", "omoto", "antcrm", "crmcom")
CONTROL_BYTES = 4 << 30  # the served instances' control-body limit (a 1,000,000-record part)
SAMPLE = 5000  # records i < SAMPLE are the same in every size: fake records depend on i only
CEILING = "ceiling: GET /__sim/health"
WIREMOCK = f"WireMock {wiremock.VERSION} static stub: POST {wiremock.STUB_PATH}"
WIREMOCK_WARM_REQUESTS = 200_000  # HotSpot compiles a method after ~10,000 calls: ample
WIREMOCK_WARM_SECONDS = 90  # however slow the machine, the warm-up ends


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
    return ensure_debian("wrk", "wrk")


def ensure_debian(binary: str, package: str) -> str:
    """``binary`` from PATH, installing Debian's ``package`` with apt-get when missing."""
    found = shutil.which(binary)
    if found:
        return found
    print(f"{binary} not found: installing Debian's package with apt-get", file=sys.stderr)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which(binary)
    if not found:
        raise SystemExit(f"{binary} is still missing after apt-get install {package}")
    return found


def worker_pid(master: int) -> int:
    """The server's one worker: the master's child process (granian's or gunicorn's)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise RuntimeError("crmsim serve started no worker")


def cpu_s(pid: int) -> tuple[float, float]:
    """The user and the system CPU seconds process ``pid`` has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """`crmsim serve` exactly as users start it, on a free port."""

    def __init__(self, threads: int | None, store: str | None = None, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [crmsim_bin(), "serve", "--port", str(self.port), "--seed", str(SEED)]
        if threads:
            cmd += ["--threads", str(threads)]
        if store:  # a shared store (issue 17): several workers allowed
            cmd += ["--store", store, "--workers", str(workers)]
        self.log = tempfile.TemporaryFile()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            preexec_fn=wiremock.die_with_parent,  # no server outlives a killed harness
            # a million records' state document is larger than the default 256 MiB limit
            env={**os.environ, "CRMSIM_MAX_CONTROL_BYTES": str(CONTROL_BYTES)},
        )
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

    def cpu(self) -> tuple[float, float]:
        return cpu_s(self.worker)

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


INPROCESS_OPS = (CEILING, "botw create_contact")


def inprocess_rps(binary: str, args: Any) -> dict[str, dict[str, float]]:
    """Requests per second of the pytest plugin's in-process server (Werkzeug's threaded
    server in a test session's process, here a process of its own), with 1,000 records per
    vendor, the same wrk settings and requests as the served runs: health and BOTW create."""
    code = (
        "import sys\n"
        "from simulator.pytest_plugin import _Server\n"
        "s = _Server()\n"
        "print(s.url, flush=True)\n"
        "sys.stdin.read()  # until the harness closes it\n"
        "s.close()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    found: dict[str, dict[str, float]] = {}
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        if not base.startswith("http://"):
            raise RuntimeError("the plugin's server did not start")
        state = fake_state(SEED, 1000)
        for vendor in VENDORS:
            put_state(base, vendor, json.dumps(state[vendor]).encode(), 1000)
        token = crmcom_token(base)
        for op in operations(base, 1000):
            if op.name not in INPROCESS_OPS:
                continue
            requests = prepare(op, base, token)
            try:
                wrk(binary, base, requests, 1, args.connections, args.wrk_threads)  # warm-up
                found[op.name] = wrk(
                    binary, base, requests, args.duration, args.connections, args.wrk_threads
                )
            finally:
                requests.unlink()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            wiremock.stop_group(proc, 10)  # type: ignore[arg-type]
    return found


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
            CEILING,
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

    def pages(offsets: Iterable[int]) -> list[tuple[str, str, str]]:
        return [
            (
                "GET",
                "/crmapi/rest/v2/provisioning/generic_provisioning_requests/get_pending"
                "?token={token}&provisioning_provider_identifier=id=PROV1&number_of_results=50"
                f"&offset={offset}",
                "",
            )
            for offset in offsets
        ]

    # A poller reads the same few pages until something changes: the backend keeps them
    # (CRM.COM's PAGES). Every offset in turn (300 and more, PAGES is 64) reads each
    # page's records: the first read of a page.
    for name, offsets in (
        ("crmcom get_pending (polled page of 50)", range(0, 8 * 7, 7)),
        ("crmcom get_pending (page of 50, first read)", range(max(1, pending - 50))),
    ):
        ops.append(
            Op(
                name,
                "crmcom",
                "GET",
                {},
                pages(offsets),
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


def wiremock_op() -> Op:
    """WireMock's static stub, sent the same request as BOTW create (a form, a new email)."""
    key = credentials(SEED)["botw"]["api_key"]
    return Op(
        WIREMOCK,
        None,
        "POST",
        {"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
        [
            (
                "POST",
                wiremock.STUB_PATH,
                "first_name=Bench&last_name=User&email=bench{n}%40example.com&phone=555000{n}",
            )
        ],
        expect(201, "success"),
    )


def wrk(
    binary: str,
    base: str,
    requests: Path,
    duration: float,
    connections: int,
    threads: int = 1,
    url_path: str = "/",
) -> dict[str, float]:
    out = subprocess.run(
        wrk_command(binary, base + url_path, duration, connections, threads),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BENCH_REQUESTS": str(requests)},
    )
    return wrk_result(out.returncode, out.stdout, out.stderr)


def wrk_command(
    binary: str, url: str, duration: float, connections: int, threads: int
) -> list[str]:
    return [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]


def wrk_result(returncode: int, stdout: str, stderr: str) -> dict[str, float]:
    if returncode != 0:
        raise RuntimeError(f"wrk failed ({returncode}): {stdout}{stderr}")
    line = next(x for x in stdout.splitlines() if x.startswith("BENCHJSON "))
    doc = json.loads(line.removeprefix("BENCHJSON "))
    errors = sum(doc["errors"].values())
    if errors:
        raise RuntimeError(f"wrk saw errors {doc['errors']}:\n{stdout}")
    return {
        "rps": doc["requests"] / (doc["duration_us"] / 1e6),
        "p50_ms": doc["p50_us"] / 1000,
        "p99_ms": doc["p99_us"] / 1000,
        "requests": doc["requests"],
    }


# After a load, the worker's RSS is read until it stops falling: granian's allocator
# (jemalloc) returns the buffers of a large upload some seconds after the request (a
# 575 MB body: 0.4 KiB per record for about 20 s; docs/serving.md, "Memory per record")
SETTLE_S = 30.0  # at most this long
SETTLE_POLL_S = 0.5
SETTLE_QUIET = 4  # polls in a row that fall by no more than SETTLE_MIB: settled
SETTLE_MIB = 0.5


def settled_rss(server: Server) -> float:
    """The worker's RSS once no fall of more than ``SETTLE_MIB`` has come for
    ``SETTLE_QUIET`` polls (at most ``SETTLE_S``)."""
    samples = [server.rss()]
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        time.sleep(SETTLE_POLL_S)
        samples.append(server.rss())
        recent = samples[-SETTLE_QUIET - 1 :]
        if len(recent) > SETTLE_QUIET and min(recent[1:]) >= recent[0] - SETTLE_MIB:
            break
    return samples[-1]


# A load of 100,000 records takes 1 to 3 s and varies by a fifth from one to the next on
# this machine (the same document into the same server: 2.3 to 3.1 s for AntCRM's), so up
# to RELOAD_UP_TO records it is timed LOADS times and the median reported, beside the
# spread: the first load into the default namespace (its RSS is the one measured), the
# others at the end of the server's runs into a namespace of their own, dropped after each
# (their memory freed then would otherwise flatter the RSS figures measured after them).
LOADS = 3
RELOAD_UP_TO = 100_000
RELOAD_NAMESPACE = "bench-reload"
# Before each timed load the machine is let go quiet: a load is one core's work for 1 to 3
# s, and what else holds the cores then (in a full run, WireMock's JVM after its rounds;
# seen: the same AntCRM load 2.4 to 2.5 s alone, 2.75 to 3.55 s in a full run) is not
# crmsim's time. Quiet: at most QUIET_SHARE of the machine's CPU busy over QUIET_WINDOW_S
# (bench/run.py itself included), waited for at most QUIET_WAIT_S. The worker's own CPU
# seconds over the load are reported beside its wall time.
QUIET_SHARE = 0.1
QUIET_WINDOW_S = 0.25
QUIET_WAIT_S = 10.0


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the machine so far, all cores, from ``/proc/stat``."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def wait_quiet() -> float:
    """Wait until the machine is quiet (above); the seconds waited."""
    started = time.monotonic()
    busy, total = machine_jiffies()
    while time.monotonic() - started < QUIET_WAIT_S:
        time.sleep(QUIET_WINDOW_S)
        busy_now, total_now = machine_jiffies()
        share = (busy_now - busy) / max(total_now - total, 1)
        busy, total = busy_now, total_now
        if share <= QUIET_SHARE:
            break
    return time.monotonic() - started


def timed_put(
    server: Server, base: str, vendor: str, part: bytes, size: int
) -> tuple[float, float, float]:
    """``put_state`` on a quiet machine: (wall seconds, the worker's CPU seconds, of them
    the system's: mostly page faults, which on this virtual machine cost a few µs each
    and vary with the host's memory, e.g. 1.2 to 3.5 s to touch 2 GiB)."""
    wait_quiet()
    user, system = server.cpu()
    t = time.perf_counter()
    put_state(base, vendor, part, size)
    wall = time.perf_counter() - t
    user_after, system_after = server.cpu()
    return wall, user_after - user + system_after - system, system_after - system


def load_vendor(
    server: Server, vendor: str, size: int, workdir: Path, keep: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Load ``vendor``'s fake state at ``size``; ``keep`` receives the document for
    ``reload_vendor``."""
    part, fake_s = fake_part(vendor, size, workdir)
    if keep is not None:
        keep[vendor] = part
    before = server.rss()
    load_s, cpu, system = timed_put(server, server.base, vendor, part, size)
    after = server.rss()
    return {
        "fake_s": fake_s,
        "load_s": load_s,
        "load_cpu_s": cpu,
        "load_sys_s": system,
        "rss_after_mib": after - before,  # right after the answer
        "rss_delta_mib": settled_rss(server) - before,  # once settled: the target's figure
        "bytes": len(part),
    }


def reload_vendor(
    server: Server, vendor: str, part: bytes, size: int, load: dict[str, Any]
) -> None:
    """Time ``LOADS - 1`` more loads of ``part`` (each into a namespace of its own, dropped
    after it); ``load_s`` becomes the median of all, ``load_runs`` lists them (and
    ``load_cpu_s``, ``load_cpu_runs`` the worker's CPU seconds, ``load_sys_s``,
    ``load_sys_runs`` the system's part of them)."""
    runs, cpus, systems = [load["load_s"]], [load["load_cpu_s"]], [load["load_sys_s"]]
    base = f"{server.base}/__ns/{RELOAD_NAMESPACE}"
    for _ in range(LOADS - 1):
        wall, cpu, system = timed_put(server, base, vendor, part, size)
        runs.append(wall)
        cpus.append(cpu)
        systems.append(system)
        status, body = http("DELETE", base + "/__sim")
        if status != 200:
            raise RuntimeError(f"dropping {RELOAD_NAMESPACE}: {status} {body[:300]!r}")
    load["load_runs"] = runs
    load["load_s"] = statistics.median(runs)
    load["load_cpu_runs"] = cpus
    load["load_cpu_s"] = statistics.median(cpus)
    load["load_sys_runs"] = systems
    load["load_sys_s"] = statistics.median(systems)


def put_state(base: str, vendor: str, part: bytes, size: int) -> None:
    """``PUT <base>/__sim/state/<vendor>`` (``base`` may end in ``/__ns/<name>``)."""
    status, body = http(
        "PUT",
        f"{base}/__sim/state/{vendor}",
        part,
        # as a loading script would: the loaded state is not wanted back
        {"Content-Type": "application/json", "Prefer": "return=minimal"},
    )
    if status != 204:
        raise RuntimeError(f"loading {vendor} at {size}: {status} {body[:500]!r}")


def fake_part(vendor: str, size: int, workdir: Path) -> tuple[bytes, float]:
    """``crmsim fake`` of one vendor: its state document's bytes, and seconds taken."""
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
    path.unlink()
    return part, fake_s


# -- the run --------------------------------------------------------------------------------
def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds: wrk runs per operation (medians)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--threads", type=int, default=None, help="crmsim serve --threads")
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of one unmeasured wrk run per crmsim operation before the rounds (0: none)",
    )
    parser.add_argument(
        "--wiremock-warmup",
        type=float,
        default=3.0,
        help="seconds per WireMock warm-up run (runs repeat until req/s is steady)",
    )
    parser.add_argument("--no-wiremock", action="store_true", help="leave WireMock out")
    parser.add_argument(
        "--wiremock-jar", default=None, help="a WireMock standalone jar (default: from npm)"
    )
    parser.add_argument("--memory-seconds", type=float, default=10.0)
    parser.add_argument(
        "--split-at",
        type=int,
        default=1_000_000,
        help="from this size on, one server per vendor (memory)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    redis_opts = parser.add_mutually_exclusive_group()
    redis_opts.add_argument(
        "--no-redis", action="store_true", help="leave the shared store (Redis) rows out"
    )
    redis_opts.add_argument(
        "--redis-only",
        action="store_true",
        help="only the shared store (Redis) rows (and WireMock unless --no-wiremock)",
    )
    parser.add_argument(
        "--redis-sizes",
        default=None,
        help="records per vendor for the Redis rows (default: the --sizes up to 100,000)",
    )
    parser.add_argument(
        "--redis-namespaces",
        type=int,
        default=8,
        help="namespaces the spread rows load and alternate (0: no spread rows)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.sizes_list = sizes
    if args.redis_sizes:
        args.redis_sizes_list = [int(s) for s in args.redis_sizes.split(",")]
    else:
        args.redis_sizes_list = [s for s in sizes if s <= 100_000] or [min(sizes)]
    binary = ensure_wrk()
    # SIGTERM/SIGHUP end the run through the finally blocks, which stop every server.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda n, _frame: sys.exit(128 + n))
    started = datetime.datetime.now(datetime.UTC)
    report: dict[str, Any] = {"sizes": sizes, "ops": {}, "loads": {}, "servers": {}}
    wm = None
    try:
        if not args.no_wiremock:
            jar = Path(args.wiremock_jar) if args.wiremock_jar else wiremock.ensure_jar()
            wm = wiremock.WireMock(jar)
            report["wiremock"] = warm_wiremock(binary, wm, args)
        args.wm = wm
        if not args.redis_only:
            run_sizes(binary, sizes, report, args)
        if not args.no_redis:
            run_redis(binary, report, args)
        if wm is not None:
            report["wiremock"]["rss_end_mib"] = wm.rss_mib()
    finally:
        if wm is not None:
            wm.stop()
    if args.redis_only:
        text = render_redis(report["redis"], args, title="# crmsim benchmark results")
    else:
        report["inprocess_start_s"] = statistics.median(inprocess_start() for _ in range(3))
        report["inprocess_rps"] = inprocess_rps(binary, args)
        report["reset_ms"] = reset_ms()
        text = render(report, args, started)
        if "redis" in report:  # before "## Reproduce"
            head, sep, tail = text.partition("\n## Reproduce\n")
            text = head + "\n" + render_redis(report["redis"], args) + sep + tail
    Path(args.out).write_text(text)
    print(text)


def warm_wiremock(binary: str, wm: wiremock.WireMock, args: Any) -> dict[str, Any]:
    """Warm the JVM up (the JIT compiles the hot paths under load: a cold JVM serves a
    tenth of what a warm one does): --wiremock-warmup second wrk runs until WireMock has
    served WIREMOCK_WARM_REQUESTS requests and three runs in a row are within 5% of each
    other (a JVM that still climbs is not warm), for at most WIREMOCK_WARM_SECONDS."""
    requests = prepare(wiremock_op(), wm.base, "")
    rates: list[float] = []
    served = 0.0
    steady = False
    try:
        while len(rates) * args.wiremock_warmup < WIREMOCK_WARM_SECONDS:
            rate = wrk(
                binary, wm.base, requests, args.wiremock_warmup, args.connections, args.wrk_threads
            )["rps"]
            rates.append(rate)
            served += rate * args.wiremock_warmup
            print(f"   WireMock warm-up: {rate:,.0f} req/s", flush=True)
            last = rates[-3:]
            steady = len(last) == 3 and max(last) <= 1.05 * min(last)
            if steady and served >= WIREMOCK_WARM_REQUESTS:
                break
    finally:
        requests.unlink()
    return {
        "start_s": wm.start_s,
        "warmup_rps": rates,
        "warm": steady and served >= WIREMOCK_WARM_REQUESTS,
        "rss_warm_mib": wm.rss_mib(),
        "command": wm.command,
    }


def run_sizes(binary: str, sizes: list[int], report: dict[str, Any], args: Any) -> None:
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


def run_group(
    binary: str, group: list[str], size: int, workdir: Path, report: dict[str, Any], args: Any
) -> dict[str, Any]:
    """One server: load ``group``'s vendors at ``size``, run their operations and the
    ceiling, and (at the memory size) the memory runs."""
    server = Server(args.threads)
    info: dict[str, Any] = {"start_s": server.start_s, "rss_empty_mib": server.rss()}
    parts: dict[str, bytes] | None = {} if size <= RELOAD_UP_TO else None
    try:
        for vendor in group:
            load = load_vendor(server, vendor, size, workdir, parts)
            report["loads"][(vendor, size)] = load
            print(
                f"   loaded {vendor}: {load['load_s']:.2f} s, +{load['rss_delta_mib']:.0f} MiB",
                flush=True,
            )
        info["rss_loaded_mib"] = server.rss()
        token = crmcom_token(server.base) if "crmcom" in group else ""
        # (op, base URL, request file): WireMock first, then the ceiling, then the
        # operations; odd rounds run the list backwards, so WireMock always sits next to
        # the ceiling and neither is always first.
        runs_of: list[tuple[Op, str, Path]] = []
        try:
            if args.wm is not None:
                op = wiremock_op()
                runs_of.append((op, args.wm.base, prepare(op, args.wm.base, "")))
            for op in operations(server.base, size):
                if op.vendor is None or op.vendor in group:
                    runs_of.append((op, server.base, prepare(op, server.base, token)))
            if args.warmup > 0:
                for op, base, requests in runs_of:
                    if op.name != WIREMOCK:  # warmed up once, at its start
                        wrk(binary, base, requests, args.warmup, args.connections, args.wrk_threads)
            runs: dict[str, list[dict[str, float]]] = {op.name: [] for op, _, _ in runs_of}
            for round_ in range(args.repeat):
                for op, base, requests in runs_of if round_ % 2 == 0 else runs_of[::-1]:
                    run = wrk(
                        binary, base, requests, args.duration, args.connections, args.wrk_threads
                    )
                    runs[op.name].append(run)
                    print(
                        f"   [{round_ + 1}/{args.repeat}] {op.name}: {run['rps']:,.0f} req/s, "
                        f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms",
                        flush=True,
                    )
        finally:
            for _, _, requests in runs_of:
                requests.unlink(missing_ok=True)
        for name, got in runs.items():
            report["ops"].setdefault(name, {}).setdefault(size, []).extend(got)
        memory_size = next((s for s in args.sizes_list if s > 1000), args.sizes_list[0])
        if size == memory_size and {"botw", "omoto"} <= set(group):
            info["memory"] = memory_runs(binary, server, size, token, args)
        info["rss_peak_mib"] = server.peak()
        for vendor, part in (parts or {}).items():  # after every memory figure was read
            load = report["loads"][(vendor, size)]
            reload_vendor(server, vendor, part, size, load)
            walls = ", ".join(f"{r:.2f}" for r in load["load_runs"])
            pairs = zip(load["load_cpu_runs"], load["load_sys_runs"], strict=True)
            cpus = ", ".join(f"{c:.2f} ({s:.2f})" for c, s in pairs)
            print(f"   {vendor}'s loads: {walls} s (the worker's CPU, system's: {cpus} s)")
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
            wrk(binary, server.base, f, args.memory_seconds, args.connections, args.wrk_threads)
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


def rps(report: dict[str, Any], name: str, size: int) -> float | None:
    runs = report["ops"].get(name, {}).get(size)
    return median(runs, "rps") if runs else None


def ratio(value: float | None, by: float | None) -> float | None:
    return value / by if value is not None and by else None


def fmt(value: float | None, target: float | None = None) -> str:
    """A ratio with two decimals, " (miss)" when under ``target``; "-" when not measured."""
    if value is None:
        return "-"
    return f"{value:.2f}" + ("" if target is None or value >= target else " (miss)")


def verdict(ok: bool) -> str:
    return "ok" if ok else "(miss)"


def miss(ok: bool) -> str:
    return "" if ok else " (miss)"


def render(report: dict[str, Any], args: Any, started: datetime.datetime) -> str:
    sizes = report["sizes"]
    small, large = sizes[0], sizes[-1]
    wm = report.get("wiremock")
    ops = [n for n in report["ops"] if n not in (WIREMOCK, CEILING)]
    lines = [
        "# crmsim benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `make bench` (`bench/run.py`) on {machine()}.",
        "",
        f"Each figure is the median of {args.repeat} rounds of {args.duration:g} s wrk runs "
        f"({args.wrk_threads} wrk threads, {args.connections} connections, loopback) against "
        f"`crmsim serve` (granian, one worker, {args.threads or 'default'} app threads) holding "
        "a `crmsim fake --seed 1` state of N records per vendor (from "
        f"{args.split_at:,} records on, one server per vendor, each with its own ceiling "
        "run: four million records do not fit one process here)"
        + (f", after a {args.warmup:g} s warm-up run of each operation." if args.warmup else ".")
        + " Every request is checked once from Python before it is measured, and wrk must "
        "see no error.",
        "",
    ]
    if wm:
        lines += [
            f"WireMock {wiremock.VERSION} standalone (the npm package's jar, "
            f"`{wiremock.command_line()}`), one static stub `POST {wiremock.STUB_PATH}` "
            "(201, a small JSON body), was started once, and warmed up before the first round with "
            f"{args.wiremock_warmup:g} s runs until it had served {WIREMOCK_WARM_REQUESTS:,} "
            f"requests and three runs in a row were within 5% (at most {WIREMOCK_WARM_SECONDS} "
            "s): "
            + " → ".join(f"{r:,.0f}" for r in wm["warmup_rps"])
            + " req/s"
            + (
                ""
                if wm.get("warm", True)
                else f" (**not steady after {WIREMOCK_WARM_SECONDS} s**: the machine was busy, "
                "and WireMock's figures below are of a JVM still warming up)"
            )
            + ". In every round WireMock is measured next to crmsim's ceiling (first in "
            "rounds 1, 3, ..., last in rounds 2, 4, ...), at every size, with the same wrk "
            "settings and the same request as BOTW create. *vs WireMock*: the row's req/s ÷ "
            "WireMock's static stub's at that size; *vs ceiling*: ÷ crmsim's "
            "`GET /__sim/health` at that size (at sizes with a server per vendor, the "
            "median of their ceiling runs).",
            "",
        ]
    else:
        lines += ["WireMock was left out of this run (`--no-wiremock`).", ""]
    lines += [
        "| operation | "
        + " | ".join(f"{s:,}: req/s | vs WireMock | vs ceiling | p50 ms | p99 ms" for s in sizes)
        + " |",
        "| --- | " + " | ".join("---: | ---: | ---: | ---: | ---:" for _ in sizes) + " |",
    ]
    for name in ([WIREMOCK] if wm else []) + [CEILING] + ops:
        cells = []
        for s in sizes:
            runs = report["ops"].get(name, {}).get(s)
            if not runs:
                cells.append("- | - | - | - | -")
                continue
            value = median(runs, "rps")
            by_wm = ratio(value, rps(report, WIREMOCK, s))
            by_ceiling = None if name == WIREMOCK else ratio(value, rps(report, CEILING, s))
            cells.append(
                f"{value:,.0f} | {fmt(by_wm)} | {fmt(by_ceiling)} | "
                f"{median(runs, 'p50_ms'):.1f} | {median(runs, 'p99_ms'):.1f}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    # -- the targets
    def tail(name: str) -> float:
        return max(median(r, "p99_ms") / median(r, "p50_ms") for r in report["ops"][name].values())

    def share(name: str, size: int) -> float | None:
        return ratio(rps(report, name, size), rps(report, CEILING, size))

    ceiling_vs_wm = [(s, ratio(rps(report, CEILING, s), rps(report, WIREMOCK, s))) for s in sizes]
    ends = [small] if small == large else [small, large]
    share_misses = [
        n for n in ops if any((share(n, s) or 0) < 0.6 for s in ends if rps(report, n, s))
    ]
    tail_misses = [n for n in ops + [CEILING] if tail(n) > 3]
    hundred_k = [(v, load) for (v, s), load in report["loads"].items() if s == 100_000]
    # RSS per record at 100,000 (the figures), else at the largest size measured
    per_record_size = 100_000 if 100_000 in sizes else large
    per_record = [
        (v, load["rss_delta_mib"] * 1024 / s)
        for (v, s), load in report["loads"].items()
        if s == per_record_size
    ]
    starts = [info["start_s"] for info in report["servers"].values()]
    moon_size = 100_000 if 100_000 in sizes else large
    moon = ratio(rps(report, "botw create_contact", moon_size), rps(report, WIREMOCK, moon_size))
    rows = [
        (
            "crmsim's ceiling at least 0.6 of WireMock's static stub",
            (
                verdict(all((r or 0) >= 0.6 for _, r in ceiling_vs_wm))
                + ": "
                + "; ".join(f"{s:,}: {fmt(r, 0.6)}" for s, r in ceiling_vs_wm)
            )
            if wm
            else "not measured",
        ),
        (
            "every operation at least 0.6 of the ceiling, at "
            + " and at ".join(f"{s:,}" for s in ends),
            verdict(not share_misses)
            + (
                f": {len(share_misses)} of {len(ops)} under ({', '.join(share_misses)})"
                if share_misses
                else ""
            ),
        ),
        (
            "p99 at most 3 × p50, every operation (and the ceiling)",
            verdict(not tail_misses)
            + (f": {len(tail_misses)} over ({', '.join(tail_misses)})" if tail_misses else ""),
        ),
        (
            "`PUT /__sim/state` of 100,000 records under 3 s, every vendor",
            (
                verdict(all(load["load_s"] < 3 for _, load in hundred_k))
                + ": "
                + ", ".join(
                    f"{v} {load['load_s']:.2f} s{miss(load['load_s'] < 3)}" for v, load in hundred_k
                )
            )
            if hundred_k
            else "not measured (no 100,000 size)",
        ),
        (
            f"at most 1.5 KiB of RSS per stored record, every vendor (at {per_record_size:,}, "
            "settled)",
            verdict(all(k <= 1.5 for _, k in per_record))
            + ": "
            + ", ".join(f"{v} {k:.2f} KiB{miss(k <= 1.5)}" for v, k in per_record),
        ),
        (
            "start to first answer under 0.5 s (`crmsim serve`)",
            f"{verdict(max(starts) < 0.5)}: worst {max(starts):.2f} s",
        ),
        (
            "in-process start under 0.3 s (the pytest plugin's server)",
            f"{verdict(report['inprocess_start_s'] < 0.3)}: {report['inprocess_start_s']:.2f} s",
        ),
        (
            f"moonshot: BOTW create at {moon_size:,} records at or above WireMock's static stub",
            (
                f"{verdict(moon >= 1)}: "
                f"{rps(report, 'botw create_contact', moon_size):,.0f} vs "
                f"{rps(report, WIREMOCK, moon_size):,.0f} req/s: {fmt(moon)}"
                + (f", {1 / moon:.1f}× to go" if moon < 1 else "")
            )
            if moon is not None
            else "not measured",
        ),
    ]
    lines += ["", "## Targets (issue 16)", "", "| target | this run |", "| --- | --- |"]
    lines += [f"| {target} | {result} |" for target, result in rows]
    flat = len(ends) > 1  # the "flat" column: the largest size against the smallest
    lines += [
        "",
        "| operation | "
        + "".join(f"at {s:,}: vs ceiling (>= 0.6) | " for s in ends)
        + (f"at {large:,}: share of its figure at {small:,} (flat, >= 0.9) | " if flat else "")
        + "".join(f"at {s:,}: vs WireMock | " for s in ends)
        + "worst p99/p50 (<= 3) |",
        "| --- |" + " ---: |" * (2 * len(ends) + flat + 1),
    ]

    def vs_wm(name: str, size: int, target: float | None = None) -> str:
        return fmt(ratio(rps(report, name, size), rps(report, WIREMOCK, size)), target)

    for name in ops:
        worst = tail(name)
        grown = ratio(rps(report, name, large), rps(report, name, small))
        lines.append(
            f"| {name} | "
            + "".join(f"{fmt(share(name, s), 0.6)} | " for s in ends)
            + (f"{fmt(grown, 0.9)} | " if flat else "")
            + "".join(f"{vs_wm(name, s)} | " for s in ends)
            + f"{worst:.1f}{'' if worst <= 3 else ' (miss)'} |"
        )
    worst = tail(CEILING)
    lines.append(
        "| ceiling | "
        + "| " * (len(ends) + flat)
        + "".join(f"{vs_wm(CEILING, s, 0.6)} | " for s in ends)
        + f"{worst:.1f}{'' if worst <= 3 else ' (miss)'} |"
    )
    lines += [
        "",
        "## Loading, memory, start",
        "",
        "| vendor | records | `crmsim fake` s | `PUT /__sim/state/<vendor>` s (< 3 s at "
        "100,000) | the worker's CPU s | of it system s | RSS added MiB, right after | "
        "RSS added MiB, settled | KiB per record, settled (<= 1.5 from 100,000) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def spread(runs: list[float] | None) -> str:
        return f" ({min(runs):.2f}–{max(runs):.2f})" if runs else ""

    for (vendor, size), load in report["loads"].items():
        kib = load["rss_delta_mib"] * 1024 / size
        slow = size == 100_000 and load["load_s"] >= 3
        after = load.get("rss_after_mib")
        cpu, system = load.get("load_cpu_s"), load.get("load_sys_s")
        lines.append(
            f"| {vendor} | {size:,} | {load['fake_s']:.1f} | {load['load_s']:.2f}"
            f"{spread(load.get('load_runs'))}{' (miss)' if slow else ''} | "
            f"{'-' if cpu is None else f'{cpu:.2f}'}{spread(load.get('load_cpu_runs'))} | "
            f"{'-' if system is None else f'{system:.2f}'}{spread(load.get('load_sys_runs'))} | "
            f"{'-' if after is None else f'{after:.0f}'} "
            f"| {load['rss_delta_mib']:.0f} | {kib:.2f}"
            f"{' (miss)' if size >= 100_000 and kib > 1.5 else ''} |"
        )
    lines += [
        "",
        f"Up to {RELOAD_UP_TO:,} records a load is timed {LOADS} times and the median "
        "shown, its spread in brackets: the first load into the default namespace (its RSS "
        "is the one measured), the others after the server's runs, each into a namespace of "
        "its own that is dropped after it. Each starts once the machine is quiet (at most "
        f"{QUIET_SHARE:.0%} of its CPU busy over {QUIET_WINDOW_S} s, waited for at most "
        f"{QUIET_WAIT_S:.0f} s); *the worker's CPU*: its user and system seconds over the "
        "load, *of it system*: the kernel's share, mostly page faults (on this virtual "
        "machine a few µs each, varying with the host's memory). "
        "An AntCRM customer counts as one record with its deals, tickets, history and notes; "
        "at 1,000 records the RSS figures are mostly allocator noise. *Settled*: read again "
        f"every {SETTLE_POLL_S} s after the load until it fell by no more than {SETTLE_MIB} "
        f"MiB over {SETTLE_QUIET} reads (at most {SETTLE_S:.0f} s): granian's allocator "
        "returns a large upload's buffers some seconds after the request.",
        "",
        "| records per vendor | start to first answer s (< 0.5) | RSS empty MiB | "
        "RSS loaded MiB | peak RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, info in report["servers"].items():
        lines.append(
            f"| {size:,} | {info['start_s']:.2f}{'' if info['start_s'] < 0.5 else ' (miss)'} | "
            f"{info['rss_empty_mib']:.0f} | "
            f"{info.get('rss_loaded_mib', 0):.0f} | {info.get('rss_peak_mib', 0):.0f} |"
        )
    if any(info.get("servers", 1) > 1 for info in report["servers"].values()):
        lines += [
            "",
            "Where each vendor had its own server, start is the median of the servers, RSS "
            "loaded is one empty server plus what each vendor added, and peak RSS is the "
            "largest server's.",
        ]
    if wm:
        lines += [
            "",
            f"WireMock: start to first answer of its stub {wm['start_s']:.2f} s (a JVM); RSS "
            f"{wm['rss_warm_mib']:.0f} MiB after the warm-up, "
            f"{wm.get('rss_end_mib', 0):.0f} MiB at the end.",
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
        + "Its requests per second (Werkzeug's threaded server; 1,000 records per vendor, "
        "the same wrk settings, one run): "
        + ", ".join(
            f"{name} {found['rps']:,.0f} (p50 {found['p50_ms']:.1f} ms, p99 "
            f"{found['p99_ms']:.1f} ms)"
            for name, found in report.get("inprocess_rps", {}).items()
        )
        + ". "
        f"Namespace reset (`POST /__sim/reset`, test client): {report['reset_ms']:.2f} ms "
        "(target < 2).",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                    # sizes 1,000 / 100,000 / 1,000,000, WireMock alongside",
        "make bench BENCH_ARGS='--sizes 1000,100000 --repeat 1'   # quicker",
        "```",
        "",
        "See `bench/README.md` for what is measured and how.",
        "",
    ]
    return "\n".join(lines)


# -- shared store (Redis), issue 17 --------------------------------------------------------
REDIS_OPS = (
    "botw create_contact",
    "botw search_contacts (email)",
    "crmcom show_contact_information",
    "omoto receive_customer_info",
    "antcrm add-contact (new)",
)
SPREAD_OPS = ("botw create_contact", "botw search_contacts (email)")
MEMORY_ROW = "memory, 1 worker"
REDIS_1 = "Redis, 1 worker"
PAIR_ROW = "Redis, 2 processes × 2 workers"


class RedisServer:
    """Debian's ``redis-server`` on a free loopback port, without persistence (as
    tests/_redis.py starts it), with a client that reads its counters."""

    def __init__(self) -> None:
        import redis  # the shared store's client (a crmsim dependency)

        binary = ensure_debian("redis-server", "redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.TemporaryDirectory(prefix="crmsim-bench-redis-")
        self.log = tempfile.TemporaryFile()
        cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        cmd += ["--appendonly", "no", "--dir", self.dir.name, "--protected-mode", "yes"]
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=wiremock.die_with_parent,  # no redis-server outlives a killed harness
        )
        self.client = redis.Redis.from_url(self.url, socket_timeout=10)
        self.version = ""
        deadline = time.monotonic() + 20
        while True:
            try:
                self.version = str(self.client.info("server")["redis_version"])
                break
            except redis.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def counters(self) -> dict[str, float]:
        """Redis's reads from its clients (one per round trip), commands run (a script's
        own included; INFO and CONFIG left out), seconds inside scripts (a script's
        commands are counted again on their own, so only the scripts' time is summed), and
        CPU seconds (system + user: the commands and the network I/O)."""
        stats = self.client.info("stats")
        cpu = self.client.info("cpu")
        commands = {
            k: v
            for k, v in self.client.info("commandstats").items()
            if k not in ("cmdstat_info", "cmdstat_config")
        }
        return {
            "reads": float(stats["total_reads_processed"]),
            "commands": float(sum(int(v["calls"]) for v in commands.values())),
            "script_s": sum(
                int(v["usec"])
                for k, v in commands.items()
                if k in ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_fcall")
            )
            / 1e6,
            "cpu_s": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
        }

    def stop(self) -> None:
        self.client.close()
        wiremock.stop_group(self.proc, 10)
        self.log.close()
        self.dir.cleanup()


def spread_op(op: Op, namespaces: int) -> Op:
    """``op`` with its requests alternated over namespaces n0, n1, ... (each loaded with
    the same state), so no two requests in a row wait for the same namespace's lease."""
    reqs = op.requests * namespaces if len(op.requests) < namespaces else op.requests
    return Op(
        f"{op.name}, {namespaces} namespaces",
        op.vendor,
        op.method,
        op.headers,
        [(m, f"/__ns/n{i % namespaces}{p}", b) for i, (m, p, b) in enumerate(reqs)],
        op.check,
    )


def wrk_split(
    binary: str, bases: list[str], requests: Path, args: Any, duration: float
) -> dict[str, float]:
    """One wrk on one server; on several, one wrk per server at once (connections and
    threads divided), req/s and requests summed, p50 and p99 the worst of them."""
    if len(bases) == 1:
        return wrk(binary, bases[0], requests, duration, args.connections, args.wrk_threads)
    connections = max(1, args.connections // len(bases))
    threads = max(1, args.wrk_threads // len(bases))
    env = {**os.environ, "BENCH_REQUESTS": str(requests)}
    procs = [
        subprocess.Popen(
            wrk_command(binary, base + "/", duration, connections, threads),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for base in bases
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=duration + 60)
        results.append(wrk_result(proc.returncode, out, err))
    return {
        "rps": sum(r["rps"] for r in results),
        "requests": sum(r["requests"] for r in results),
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
    }


@dataclass
class Entry:
    """One row of the Redis section: an operation on a setup (its servers)."""

    op: str  # the row's operation name
    setup: str
    requests: Path
    bases: list[str]
    redis: bool


def run_redis(binary: str, report: dict[str, Any], args: Any) -> None:
    """The shared store's rows (issue 17): the memory engine, Redis with 1, 2 and 4
    workers, and two processes on one Redis, in the same rounds, at each Redis size."""
    section: dict[str, Any] = {
        "sizes": args.redis_sizes_list,
        "rows": {},
        "loads": {},
        "load_before": os.getloadavg(),
        "started": datetime.datetime.now(datetime.UTC),
        "namespaces": args.redis_namespaces,
    }
    report["redis"] = section
    store = RedisServer()
    section["version"] = store.version
    try:
        with tempfile.TemporaryDirectory(prefix="crmsim-bench-") as tmp:
            for i, size in enumerate(args.redis_sizes_list):
                store.client.flushall()
                spread = args.redis_namespaces if i == 0 else 0  # the first size only
                redis_size(binary, store, size, spread, Path(tmp), section, args)
    finally:
        store.stop()
    section["load_after"] = os.getloadavg()


def redis_size(
    binary: str,
    store: RedisServer,
    size: int,
    spread: int,
    workdir: Path,
    section: dict[str, Any],
    args: Any,
) -> None:
    print(f"== shared store (Redis): {size:,} records per vendor", flush=True)
    servers: list[Server] = []
    files: list[Path] = []
    try:
        servers.append(Server(args.threads))
        setups: list[tuple[str, list[Server]]] = [(MEMORY_ROW, [servers[0]])]
        for workers in (1, 2, 4):
            servers.append(Server(args.threads, store.url, workers))
            setups.append((f"Redis, {workers} worker{'s' if workers > 1 else ''}", [servers[-1]]))
        for _ in range(2):
            servers.append(Server(args.threads, store.url, 2))
        setups.append((PAIR_ROW, servers[-2:]))
        memory, shared = servers[0], servers[1]
        # Every Redis setup serves the same world: the state is loaded once, through one.
        for vendor in VENDORS:
            part, _ = fake_part(vendor, size, workdir)
            for engine, server in (("memory", memory), ("Redis", shared)):
                t = time.perf_counter()
                put_state(server.base, vendor, part, size)
                section["loads"][(engine, vendor, size)] = time.perf_counter() - t
            print(f"   loaded {vendor} into memory and Redis", flush=True)
        if spread:
            part, _ = fake_part("botw", size, workdir)
            for k in range(spread):
                put_state(f"{shared.base}/__ns/n{k}", "botw", part, size)
            print(f"   loaded botw into {spread} namespaces", flush=True)
        tokens = {MEMORY_ROW: crmcom_token(memory.base), "Redis": crmcom_token(shared.base)}
        ops = {o.name: o for o in operations(memory.base, size)}
        entries: list[Entry] = []
        if args.wm is not None:
            wm_file = prepare(wiremock_op(), args.wm.base, "")
            files.append(wm_file)
            entries.append(Entry(WIREMOCK, "", wm_file, [args.wm.base], False))
        for name in REDIS_OPS:
            variants = [(ops[name], setups)]
            if spread and name in SPREAD_OPS:
                variants.append((spread_op(ops[name], spread), setups[1:]))
            for op, chosen in variants:
                for label, group in chosen:
                    token = tokens[MEMORY_ROW if label == MEMORY_ROW else "Redis"]
                    # one request checked from Python on each server of the setup
                    for server in group[1:]:
                        prepare(op, server.base, token).unlink()
                    requests = prepare(op, group[0].base, token)
                    files.append(requests)
                    bases = [s.base for s in group]
                    entries.append(Entry(op.name, label, requests, bases, label != MEMORY_ROW))
        if args.warmup > 0:
            for entry in entries:
                if entry.op != WIREMOCK:
                    wrk_split(binary, entry.bases, entry.requests, args, args.warmup)
        for round_ in range(args.repeat):
            for entry in entries if round_ % 2 == 0 else entries[::-1]:
                if entry.redis:
                    store.client.config_resetstat()
                    before = store.counters()
                run = wrk_split(binary, entry.bases, entry.requests, args, args.duration)
                if entry.redis:
                    after = store.counters()
                    for key in ("reads", "commands", "script_s", "cpu_s"):
                        run[key] = (after[key] - before[key]) / max(1, run["requests"])
                section["rows"].setdefault((size, entry.op, entry.setup), []).append(run)
                extra = (
                    f", {run['reads']:.1f} round trips, {run['cpu_s'] * 1e6:.0f} µs Redis CPU"
                    if entry.redis
                    else ""
                )
                print(
                    f"   [{round_ + 1}/{args.repeat}] {entry.op} / {entry.setup or '-'}: "
                    f"{run['rps']:,.0f} req/s, p50 {run['p50_ms']:.1f} ms, "
                    f"p99 {run['p99_ms']:.1f} ms{extra}",
                    flush=True,
                )
    finally:
        for f in files:
            f.unlink(missing_ok=True)
        for server in servers:
            server.stop()


def render_redis(section: dict[str, Any], args: Any, title: str | None = None) -> str:
    rows = section["rows"]
    spread = section["namespaces"]
    load = ", ".join(f"{x:.1f}" for x in section["load_before"])
    load_end = ", ".join(f"{x:.1f}" for x in section.get("load_after", ()))
    lines = [title, ""] if title else []
    lines += [
        "## Shared store (Redis)",
        "",
        f"Measured {section['started']:%Y-%m-%d %H:%M} UTC by `bench/run.py` on {machine()}; "
        f"load average {load} at the start, {load_end} at the end. Redis "
        f"{section['version']} (Debian's `redis-server`, no persistence, loopback). Each "
        f"figure is the median of {args.repeat} round(s) of {args.duration:g} s wrk runs "
        f"({args.wrk_threads} wrk threads, {args.connections} connections)"
        + (f" after a {args.warmup:g} s warm-up run of each row" if args.warmup else "")
        + "; the rows alternate within each round (forwards, then backwards), so every "
        "ratio is of figures from the same minutes.",
        "",
        f"Setups, all up at once: *{MEMORY_ROW}* is `crmsim serve` as in the table above "
        "(the memory store), measured again here beside the Redis rows; *Redis, N workers* "
        "is `crmsim serve --store redis://… --workers N` (granian, N worker processes, "
        f"{args.threads or 'the default'} app threads each); *{PAIR_ROW}*: two such "
        "processes on the same Redis, loaded at once by two wrk processes (one each, half "
        "the connections and threads each): req/s summed, p50 and p99 the worse of the two. "
        "Every Redis setup serves the same world (one Redis; the state was loaded once, "
        "through one of them). *round trips*: Redis's reads from its clients "
        "(`INFO stats` `total_reads_processed`, one per command, script call or pipeline "
        "sent) ÷ requests; *commands*: `INFO commandstats` calls (a script's own commands "
        "included) ÷ requests; *Redis CPU*: `used_cpu_sys` + `used_cpu_user` ÷ requests "
        "(its commands and its network I/O), *of it in scripts*: the time inside Lua "
        "scripts (`INFO commandstats` `usec` of `EVALSHA`) ÷ requests; all reset with "
        "`CONFIG RESETSTAT` and read before and after each run. "
        "*vs memory*: ÷ the memory row's req/s, *vs 1 worker*: ÷ the Redis 1-worker row's, "
        "*vs WireMock*: ÷ WireMock's static stub's (measured in the same rounds).",
        "",
        "A namespace's requests run one at a time across every process and worker (its "
        "lease, docs/scale-out.md): on one namespace more workers add throughput only "
        "where a request spends time outside the lease (HTTP, parsing, the answer), and "
        "writes serialize. "
        + (
            f"The rows marked *{spread} namespaces* send the same requests alternately to "
            f"namespaces n0 … n{spread - 1} (`/__ns/nK/…`, each loaded with the same BOTW "
            "state), which do not wait for each other: that is how throughput scales with "
            "workers and processes when the load is spread over independent worlds (one "
            "per test, per tenant)."
            if spread
            else ""
        ),
        "",
    ]
    for size in section["sizes"]:
        names = list(dict.fromkeys(op for (s, op, _) in rows if s == size and op != WIREMOCK))
        if not names:
            continue

        def rps_of(op: str, setup: str, size: int = size) -> float | None:
            got = rows.get((size, op, setup))
            return median(got, "rps") if got else None

        base_op = {n: n.split(", ")[0] for n in names}  # a spread row's plain operation
        wm = rps_of(WIREMOCK, "")
        lines += [
            f"### {size:,} records per vendor",
            "",
            "| operation | setup | req/s | vs memory | vs 1 worker | vs WireMock | p50 ms | "
            "p99 ms | round trips per request | commands per request | Redis CPU µs per "
            "request | of it in scripts µs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        if wm is not None:
            got = rows[(size, WIREMOCK, "")]
            lines.append(
                f"| {WIREMOCK} | | {wm:,.0f} | | | 1.00 | {median(got, 'p50_ms'):.1f} | "
                f"{median(got, 'p99_ms'):.1f} | | | | |"
            )
        for name in names:
            memory = rps_of(base_op[name], MEMORY_ROW)
            one = rps_of(name, REDIS_1)
            for (s, op, setup), got in rows.items():
                if s != size or op != name:
                    continue
                value = median(got, "rps")
                redis_cells = (
                    f"{median(got, 'reads'):.1f} | {median(got, 'commands'):.1f} | "
                    f"{median(got, 'cpu_s') * 1e6:.0f} | {median(got, 'script_s') * 1e6:.0f}"
                    if "reads" in got[0]
                    else "- | - | - | -"
                )
                lines.append(
                    f"| {name} | {setup} | {value:,.0f} | {fmt(ratio(value, memory))} | "
                    f"{fmt(ratio(value, one)) if setup != MEMORY_ROW else ''} | "
                    f"{fmt(ratio(value, wm))} | {median(got, 'p50_ms'):.1f} | "
                    f"{median(got, 'p99_ms'):.1f} | {redis_cells} |"
                )
        lines.append("")
        loads = [
            (v, section["loads"].get(("memory", v, size)), section["loads"].get(("Redis", v, size)))
            for v in VENDORS
        ]
        lines += [
            f"`PUT /__sim/state/<vendor>` of {size:,} records: "
            + ", ".join(
                f"{v} {m:.2f} s (memory) / {r:.2f} s (Redis)" for v, m, r in loads if m and r
            )
            + ".",
            "",
        ]
    return "\n".join(lines)


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
