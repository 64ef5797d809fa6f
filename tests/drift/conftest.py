"""Fixtures for the drift tests: a second crmsim process stands in for the real vendor (a
loopback port, started and stopped by ``tests/_serve.py``), and the proxy in this process."""

import threading
import uuid

import pytest
import requests
from _serve import serving

from simulator.proxy import Proxy, Recording, Redactor, make_server

BOTW_STATE = {"api_keys": {"KEY": ["123"]}}


@pytest.fixture(scope="module")
def real_vendor():
    """The "real" BOTW sandbox: a crmsim process whose default namespace holds key KEY."""
    with serving("--threads", "4") as (base, _proc):
        yield base


@pytest.fixture
def real(real_vendor):
    """The "real" sandbox of one test: a fresh namespace of ``real_vendor`` (its base URL
    ends in ``/__ns/<name>``) holding BOTW's key KEY for listing 123, seed 0."""
    base = f"{real_vendor}/__ns/real-{uuid.uuid4().hex[:12]}"
    r = requests.put(base + "/__sim/seed", json={"seed": 0}, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.put(base + "/__sim/state/botw", json=BOTW_STATE, timeout=10)
    assert r.status_code == 200, r.text
    yield base
    requests.delete(base + "/__sim", timeout=10)


@pytest.fixture
def start_proxy(tmp_path):
    """``start_proxy(vendors, redact=...)``: the proxy served on a free loopback port from a
    thread, recording to ``tmp_path/out.yaml``; returns (base URL, Recording)."""
    servers = []

    def start(vendors, redact=None):
        recording = Recording(tmp_path / "out.yaml", Redactor(*([redact] if redact else [])))
        server = make_server(Proxy(vendors, recording), "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}", recording

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
