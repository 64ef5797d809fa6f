"""How long other clients wait while slow or idle connections are open (docs/serving.md).

    .venv/bin/python bench/slow_clients.py [--server granian] [--slow 256] [--requests 100]

Starts `crmsim serve --server NAME` on a free loopback port, opens ``--slow`` connections
(a third idle, a third sending headers and a third sending a BOTW create's body, one byte
per connection every 50 ms), then times ``--requests`` `GET /__sim/health` and as many
BOTW creates in another namespace, each on a new connection, one at a time. Each request
gives up after ``--timeout`` seconds (counted as that long). Prints p50, p99 and max in ms.
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
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float) -> int:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="granian")
    parser.add_argument("--slow", type=int, default=256)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--server", args.server, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    socks: list[socket.socket] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                call("GET", base + "/__sim/health", None, {}, 1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        key = {"Content-Type": "application/json"}
        state = json.dumps({"api_keys": {"KEY": ["1"]}}).encode()
        for ns in ("fast", "slow"):
            call("PUT", f"{base}/__ns/{ns}/__sim/state/botw", state, key, 10)
        head = (
            b"POST /__ns/slow/crm/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        )
        pending: list[list[object]] = []
        for i in range(args.slow):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(sock)
            if i % 3 == 1:
                pending.append([sock, b"GET /__sim/health HTTP/1.1\r\nX-Slow: " + b"a" * 9999])
            elif i % 3 == 2:
                sock.sendall(head)
                pending.append([sock, b"e" * 100000])

        def trickle() -> None:
            while not stop.wait(0.05):
                for item in pending:
                    sock, rest = item
                    assert isinstance(sock, socket.socket) and isinstance(rest, bytes)
                    if rest:
                        try:
                            sock.send(rest[:1])
                        except OSError:
                            pass
                        item[1] = rest[1:]

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        took: dict[str, list[float]] = {"health": [], "botw create": []}
        form = {"Authorization": "Bearer KEY", "Content-Type": "application/x-www-form-urlencoded"}
        for i in range(args.requests):
            for name, method, path, body, headers in (
                ("health", "GET", "/__sim/health", None, {}),
                ("botw create", "POST", "/__ns/fast/crm/1", f"email=f{i}%40x.co".encode(), form),
            ):
                started = time.monotonic()
                try:
                    call(method, base + path, body, headers, args.timeout)
                except OSError:
                    pass  # a timeout: counted as the whole wait
                took[name].append(time.monotonic() - started)
        stop.set()
        thread.join()
        for name, values in took.items():
            values.sort()
            p99 = values[min(len(values) - 1, round(len(values) * 0.99))]
            print(
                f"{args.server}, {args.slow} slow connections, {name}: p50 "
                f"{statistics.median(values) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max "
                f"{values[-1] * 1000:.1f} ms ({len(values)} requests)"
            )
    finally:
        stop.set()
        for sock in socks:
            sock.close()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    main()
