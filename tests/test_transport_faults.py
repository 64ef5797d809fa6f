"""The fault kinds that live on the wire, through a served crmsim under each server:
``truncate`` (Content-Length says more than is sent, then the connection closes),
``dribble`` (the body in pieces with pauses) and ``malformed`` (JSON that does not parse,
under its JSON Content-Type), observed with raw sockets, requests and httpx.

granian runs with one app thread: a dribble is sent from its event loop, so other requests
are served while it goes on."""

import json
import socket
import time

import httpx
import pytest
import requests
from _serve import serving

KEY = {"Authorization": "Bearer KEY"}
CREATED = {"status": "success", "message": "New contact successfully updated."}
WHOLE = json.dumps(CREATED).encode()
HALF = WHOLE[: len(WHOLE) // 2]


@pytest.fixture(scope="module", params=[("granian", "1"), ("gunicorn", "2")], ids=lambda p: p[0])
def server(request):
    name, threads = request.param
    with serving("--server", name, "--threads", threads) as (base, _proc):
        r = requests.put(base + "/__sim/state/botw", json={"api_keys": {"KEY": ["1"]}}, timeout=10)
        assert r.status_code == 200, r.text
        yield name, base


def fault(base, **rule):
    r = requests.post(
        base + "/__sim/faults", json={"vendor": "botw", "times": 1, **rule}, timeout=10
    )
    assert r.status_code == 201, r.text


def port_of(base):
    return int(base.rsplit(":", 1)[1])


class Exchange:
    """One BOTW create on a raw socket: every piece received with its arrival time (seconds
    after the request went out) and how the connection ended."""

    def __init__(self, base, email, until_bytes=None, deadline=15.0):
        body = f"email={email}".encode()
        self.pieces = []
        self.ended = "open"
        with socket.create_connection(("127.0.0.1", port_of(base)), timeout=deadline) as sock:
            sock.sendall(
                b"POST /crm/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            self.sent = time.monotonic()
            while until_bytes is None or len(self.body) < until_bytes:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    self.ended = "reset"
                    break
                if not data:
                    self.ended = "eof"
                    break
                self.pieces.append((time.monotonic() - self.sent, data))

    @property
    def raw(self):
        return b"".join(data for _, data in self.pieces)

    @property
    def head(self):
        return self.raw.partition(b"\r\n\r\n")[0].decode().lower()

    @property
    def body(self):
        return self.raw.partition(b"\r\n\r\n")[2]

    def body_times(self):
        """Arrival time of each piece that carried body bytes."""
        seen, times = 0, []
        for at, data in self.pieces:
            seen += len(data)
            if seen > len(self.raw.partition(b"\r\n\r\n")[0]) + 4:
                times.append(at)
        return times


def test_truncate_announces_the_whole_body_sends_half_and_closes(server):
    _name, base = server
    fault(base, truncate=True)
    got = Exchange(base, "t1%40example.com")
    assert got.head.startswith("http/1.1 201"), (got.raw, got.ended)
    assert f"content-length: {len(WHOLE)}" in got.head
    assert (got.body, got.ended) == (HALF, "eof")


def test_clients_see_a_truncated_body_as_their_own_errors(server):
    _name, base = server
    fault(base, truncate=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.post(base + "/crm/1", data={"email": "t2@example.com"}, headers=KEY, timeout=10)
    fault(base, truncate=True)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(base + "/crm/1", data={"email": "t3@example.com"}, headers=KEY, timeout=10)
    # and the server serves on
    r = requests.post(base + "/crm/1", data={"email": "t4@example.com"}, headers=KEY, timeout=10)
    assert r.json() == CREATED


def test_dribble_sends_the_body_in_pieces_over_the_total_time(server):
    _name, base = server
    fault(base, dribble={"chunks": 3, "total_ms": 600})
    got = Exchange(base, "d1%40example.com", until_bytes=len(WHOLE))
    assert got.head.startswith("http/1.1 201") and got.body == WHOLE
    times = got.body_times()
    assert times[-1] >= 0.6  # the last byte: no sooner than total_ms after the headers
    assert times[-1] - times[0] >= 0.3  # the pieces came apart, not at once at the end
    assert got.pieces[0][0] < times[-1] - 0.3  # the headers went out first, at once


def test_malformed_is_json_that_does_not_parse_under_a_json_content_type(server):
    _name, base = server
    fault(base, malformed=True)
    r = requests.post(base + "/crm/1", data={"email": "m1@example.com"}, headers=KEY, timeout=10)
    assert (r.status_code, r.headers["Content-Type"], r.content) == (201, "application/json", HALF)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()


def test_under_granian_a_dribble_holds_no_thread(server):
    name, base = server
    if name != "granian":
        pytest.skip("under gunicorn each pause holds one of the app's threads (documented)")
    fault(base, dribble={"chunks": 2, "total_ms": 3000})
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=15) as sock:
        body = b"email=slow%40example.com"
        sock.sendall(
            b"POST /crm/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer KEY\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        started = time.monotonic()
        assert sock.recv(65536).startswith(b"HTTP/1.1 201")  # the headers: dribbling now
        # the one app thread is free: other requests are answered at once
        health = requests.get(base + "/__sim/health", timeout=10)
        r = requests.post(base + "/crm/1", data={"email": "q@example.com"}, headers=KEY, timeout=10)
        served_by = time.monotonic() - started
        assert (health.status_code, r.status_code) == (200, 201)
        assert served_by < 1.5, served_by  # the dribble's first piece leaves at 1.5 s
        rest = b""
        while len(rest) < len(WHOLE):
            data = sock.recv(65536)
            assert data, "the connection closed before the dribble ended"
            rest += data
        assert rest == WHOLE and time.monotonic() - started >= 3.0
