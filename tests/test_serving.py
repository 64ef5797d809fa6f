"""`crmsim serve`: slow and idle clients stall nobody, fault kinds on each server, the last
snapshot on SIGTERM and SIGINT, bad settings and a busy port refused in one line."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from _serve import free_port, serving
from click.testing import CliRunner
from helpers import wait_until

from simulator.cli import main
from simulator.config import BadSetting, Config

KEY = {"Authorization": "Bearer KEY"}
BOTW = {"api_keys": {"KEY": ["1"]}}
DEADLINE = 2.0  # the target is 50 ms (docs/serving.md); gunicorn's gthread took 15-25 s


def timed(method, url, **kwargs):
    started = time.monotonic()
    r = requests.request(method, url, timeout=30, **kwargs)
    return r, time.monotonic() - started


class Trickle:
    """``count`` connections: a third idle, a third sending headers and a third sending a
    body, one byte at a time, each round of bytes ``pace`` seconds apart."""

    def __init__(self, port, count, pace=0.05):
        self.socks = []
        self.stop = threading.Event()
        self.sent = threading.Event()  # a first byte went out on every trickling connection
        self.pace = pace
        body_head = (
            b"POST /__ns/slow/crm/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer KEY\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        )
        self.pending = []
        try:
            for i in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                self.socks.append(sock)
                if i % 3 == 1:
                    self.pending.append(
                        [sock, b"GET /__sim/health HTTP/1.1\r\nX-Slow: " + b"a" * 9999]
                    )
                elif i % 3 == 2:
                    sock.sendall(body_head)
                    self.pending.append([sock, b"e" * 100000])
            self.thread = threading.Thread(target=self.run, daemon=True)
            self.thread.start()
        except BaseException:
            self.close()
            raise

    def run(self):
        while not self.stop.wait(self.pace):
            for item in self.pending:
                sock, rest = item
                if rest:
                    with contextlib.suppress(OSError):
                        sock.send(rest[:1])
                    item[1] = rest[1:]
            self.sent.set()

    def close(self):
        self.stop.set()
        if getattr(self, "thread", None) is not None:
            self.thread.join(timeout=10)
        for sock in self.socks:
            sock.close()


@pytest.mark.parametrize("count", [256])
def test_slow_and_idle_connections_stall_no_other_client(count):
    with serving() as (base, _proc):
        port = int(base.rsplit(":", 1)[1])
        requests.put(base + "/__ns/fast/__sim/state/botw", json=BOTW, timeout=10)
        requests.put(base + "/__ns/slow/__sim/state/botw", json=BOTW, timeout=10)
        trickle = Trickle(port, count)
        try:
            assert trickle.sent.wait(timeout=10)  # all of them are open before the clock starts
            took = []
            for i in range(10):
                r, t = timed("GET", base + "/__sim/health")
                assert r.status_code == 200
                took.append(t)
                r, t = timed(
                    "POST",
                    base + "/__ns/fast/crm/1",
                    data={"email": f"f{i}@example.com"},
                    headers=KEY,
                )
                assert r.status_code == 201
                took.append(t)
        finally:
            trickle.close()
        print(f"{count} slow connections: slowest answer {max(took) * 1000:.1f} ms")
        assert max(took) < DEADLINE, took


def test_more_silent_connections_than_granians_default_slots_lock_nobody_out():
    """Granian's default ``backpressure`` (1,024 connections a worker serves at once) let
    1,024 connections that sent nothing lock every other client out; crmsim serve raises it
    (``serve.connection_slots``) and the limit of open files with it."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 1_400
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"this machine allows {hard} open files, fewer than the test's {need}")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        with serving() as (base, _proc):
            port = int(base.rsplit(":", 1)[1])
            socks = []
            try:
                for _ in range(1_100):
                    socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                for _ in range(3):
                    r, took = timed("GET", base + "/__sim/health")
                    assert r.status_code == 200
                    assert took < DEADLINE, took
            finally:
                for sock in socks:
                    sock.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _cut(port, request):
    """Send ``request`` and close before the body it announces is all there."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)


def test_a_body_cut_short_is_not_processed_and_a_chunked_one_over_the_limit_is_413():
    with serving() as (base, proc):
        port = int(base.rsplit(":", 1)[1])
        requests.put(base + "/__sim/state/botw", json=BOTW, timeout=10)
        head = (
            b"POST /crm/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer KEY\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
        )
        # announced 100 bytes, and 1 MiB (read in chunks by the bridge): both cut short
        _cut(port, head + b"Content-Length: 100\r\n\r\nemail=small%40example.com")
        big = b"email=big%40example.com&x=" + b"a" * 300_000
        _cut(port, head + b"Content-Length: 1048576\r\n\r\n" + big)
        # a request after them on a new connection is served, and they left nothing behind
        r = requests.post(base + "/crm/1", data={"email": "after@example.com"}, headers=KEY)
        assert r.status_code == 201
        entries = requests.get(base + "/__sim/journal", timeout=10).json()["entries"]
        assert [e["request"]["body"] for e in entries] == [{"email": "after@example.com"}]
        emails = [c["email"] for c in requests.get(base + "/__sim/state/botw").json()["contacts"]]
        assert emails == ["after@example.com"]
        # chunked, over the 1 MiB limit: the vendor's 413, as with a Content-Length over it
        over = b"email=x%40example.com&first_name=" + b"a" * (1 << 20)
        r = requests.post(base + "/crm/1", data=iter([over]), headers=KEY)
        assert r.request.headers.get("Transfer-Encoding") == "chunked"
        assert (r.status_code, r.json()) == (
            413,
            {"status": "error", "message": "Request body too large."},
        )
        # a client that left before its body was all there is no error of the server's
        assert "Traceback" not in proc.output()


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_a_slow_upload_does_not_hold_its_namespace(server):
    with serving("--server", server) as (base, _proc):
        port = int(base.rsplit(":", 1)[1])
        requests.put(base + "/__ns/up/__sim/state/botw", json=BOTW, timeout=10)
        body = b"email=slow%40example.com"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /__ns/up/crm/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:5]
            )
            r, took = timed("GET", base + "/__ns/up/__sim/state")
            assert r.status_code == 200 and took < DEADLINE, took
            r, took = timed(
                "POST", base + "/__ns/up/crm/1", data={"email": "quick@example.com"}, headers=KEY
            )
            assert r.status_code == 201 and took < DEADLINE, took
            sock.sendall(body[5:])  # the upload completes and is served as usual
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 201"), answer
        emails = {
            c["email"] for c in requests.get(base + "/__ns/up/__sim/state/botw").json()["contacts"]
        }
        assert emails == {"slow@example.com", "quick@example.com"}


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_every_fault_kind_works_on_each_server(server):
    with serving("--server", server) as (base, _proc):
        ns = base + "/__ns/faults"
        requests.put(ns + "/__sim/state/botw", json=BOTW, timeout=10)

        def fault(**rule):
            r = requests.post(ns + "/__sim/faults", json={"vendor": "botw", "times": 1, **rule})
            assert r.status_code == 201, r.text

        def create(email):
            return requests.post(ns + "/crm/1", data={"email": email}, headers=KEY, timeout=10)

        fault(status=503)
        assert create("a@example.com").status_code == 503
        fault(rate_limit={"retry_after": 7})
        r = create("a@example.com")
        assert (r.status_code, r.headers["Retry-After"]) == (429, "7")
        fault(delay_ms=300)
        r, took = timed("POST", ns + "/crm/1", data={"email": "b@example.com"}, headers=KEY)
        assert r.status_code == 201 and took >= 0.3
        fault(drop=True)
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), 10) as sock:
            body = b"email=c%40example.com"
            sock.sendall(
                b"POST /__ns/faults/crm/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            with pytest.raises(ConnectionResetError):
                sock.recv(4096)  # a reset, not an answer nor a clean close
        assert create("c@example.com").status_code == 201  # the server serves on
        entries = requests.get(ns + "/__sim/journal").json()["entries"]
        assert [e["response"]["status"] for e in entries][-3:] == [201, None, 201]


@pytest.mark.parametrize(
    "server, how",
    [
        (server, how)
        for server in ("granian", "gunicorn")
        for how in ("SIGTERM", "SIGINT", "Ctrl-C")
    ],
)
def test_the_last_snapshot_is_written_at_shutdown(tmp_path, server, how):
    path = tmp_path / "data.json"
    with serving("--server", server, "--data", str(path), "--snapshot-interval", "1.0") as (
        base,
        proc,
    ):
        requests.put(base + "/__sim/state/botw", json=BOTW, timeout=10).raise_for_status()
        for i in range(5):
            r = requests.post(base + "/crm/1", data={"email": f"s{i}@example.com"}, headers=KEY)
            assert r.status_code == 201
        if how == "Ctrl-C":  # the terminal signals the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(getattr(signal, how))
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            pytest.fail(f"{server} did not stop on {how}: {proc.output()}")
        assert code == 0
    doc = json.loads(path.read_text())
    emails = {c["email"] for c in doc["namespaces"]["default"]["state"]["botw"]["contacts"]}
    assert emails == {f"s{i}@example.com" for i in range(5)}


def _children(pid):
    """The processes whose parent is ``pid`` (Linux: /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def _ignores_sigint(pid):
    with open(f"/proc/{pid}/status") as f:
        mask = next(line for line in f if line.startswith("SigIgn:")).split()[1]
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_granian_workers_leave_ctrl_c_to_the_main_process(request, tmp_path, workers):
    """A terminal's Ctrl-C reaches granian's workers too. A worker that acted on it raced the
    main process's own stop: exit 1 ("Unexpected exit from worker-1") when it exited first,
    or stuck for good in granian's signal handler when the main process's SIGTERM landed
    on its SIGINT. The workers ignore SIGINT; the main process stops them (SIGTERM)."""
    if workers == 1:
        args = ("--data", str(tmp_path / "data.json"))
    else:
        args = ("--store", request.getfixturevalue("redis_url"), "--workers", "2")
    with serving("--server", "granian", *args) as (base, proc):

        def started():  # a second worker may still be starting as the first one answers
            found = _children(proc.pid)
            if len(found) == workers and all(_ignores_sigint(pid) for pid in found):
                return found
            return None

        found = wait_until(started, what=f"{workers} granian worker(s) ignoring SIGINT")
        assert not _ignores_sigint(proc.pid)  # the main process acts on it
        requests.put(base + "/__sim/state/botw", json=BOTW, timeout=10).raise_for_status()
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"granian did not stop on Ctrl-C: {proc.output()}")
        assert code == 0, proc.output()
        assert "Unexpected exit" not in proc.output()
    assert not any(os.path.exists(f"/proc/{pid}") for pid in found)
    if workers == 1:  # the last snapshot (test_the_last_snapshot_is_written_at_shutdown)
        doc = json.loads((tmp_path / "data.json").read_text())
        assert doc["namespaces"]["default"]["state"]["botw"]["api_keys"] == BOTW["api_keys"]


# -- settings and the port, checked before serving ----------------------------------------
@pytest.fixture
def no_serving(monkeypatch):
    """``crmsim serve`` in-process; reaching the server is a failure."""

    def refuse(_config):
        raise AssertionError("the server was started")

    monkeypatch.setattr("simulator.serve.serve", refuse)


@pytest.mark.parametrize(
    "variable, value, says",
    [
        ("CRMSIM_PORT", "abc", "CRMSIM_PORT='abc': not an integer"),
        ("CRMSIM_PORT", "70000", "not a port"),
        ("CRMSIM_STRICT_CONTRACT", "maybe", "CRMSIM_STRICT_CONTRACT='maybe': not a boolean"),
        ("CRMSIM_THREADS", "0", "CRMSIM_THREADS='0': must be at least 1"),
        ("CRMSIM_SERVER", "uwsgi", "not a server (one of granian, gunicorn)"),
        ("CRMSIM_VENDORS", "botw,zoho", "unknown vendors: zoho"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(no_serving, variable, value, says):
    result = CliRunner().invoke(main, ["serve"], env={variable: value})
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and says in result.output
    assert result.output.startswith("crmsim: bad setting") and "Traceback" not in result.output
    with pytest.raises(BadSetting):
        Config.from_env({variable: value})


@pytest.mark.parametrize("value, meaning", [("yes", True), ("off", False), ("", False)])
def test_boolean_settings_take_the_usual_words(value, meaning):
    assert Config.from_env({"CRMSIM_STRICT_CONTRACT": value}).strict_contract is meaning


def test_a_busy_port_is_said_before_the_banner(no_serving):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert "serving on" not in result.output
    assert result.output.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in result.output
    assert "--port" in result.output and "CRMSIM_PORT" in result.output


def test_a_busy_port_is_refused_by_the_command_itself():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "simulator", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert proc.stderr.startswith("crmsim: cannot listen on") and "CRMSIM_PORT" in proc.stderr


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_a_snapshot_refused_while_loading_exits_4_on_each_server(tmp_path, server):
    path = tmp_path / "data.json"
    bad = {"botw": {"contacts": [{"contact_id": 0, "listing_id": "1"}]}}
    doc = {"format": "crmsim-snapshot", "version": 1, "namespaces": {"default": {"state": bad}}}
    path.write_text(json.dumps(doc, separators=(",", ":")))  # begins as snapshots do
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--server", server]
        + ["--port", str(free_port()), "--data", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 4, proc.stderr
    assert "/botw/contacts/0/contact_id" in proc.stderr
    assert json.loads(path.read_text()) == doc


def test_reset_client_resets_the_connection_and_leaves_the_descriptor_to_its_owner():
    from simulator.rsgi import reset_client

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            served, _ = listener.accept()
            with served, socket.create_connection(("127.0.0.1", port), timeout=5) as other:
                bystander, _ = listener.accept()
                with bystander:
                    host, client_port = client.getsockname()
                    environ = {
                        "REMOTE_ADDR": host,
                        "REMOTE_PORT": str(client_port),
                        "SERVER_PORT": str(port),
                    }
                    assert reset_client(environ) is True
                    with pytest.raises(ConnectionResetError):
                        client.recv(10)
                    assert served.fileno() >= 0  # still open: its owner closes it
                    bystander.sendall(b"ok")  # the other connection is untouched
                    assert other.recv(10) == b"ok"
    assert (
        reset_client({"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "1", "SERVER_PORT": "2"}) is False
    )
