"""Shared fixtures: a fresh app per test, helpers for the control plane, a served instance."""

import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests
from hypothesis import HealthCheck, settings

from simulator import create_app

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def app():
    """A fresh app; every vendor answer it gives is checked against its response schema."""
    app = create_app({"seed": 7, "validate_responses": True})
    yield app
    problems = app.extensions["crmsim"].response_problems
    assert problems == [], f"answers outside their response schemas: {problems}"


@pytest.fixture
def client(app):
    return app.test_client()


class Sim:
    """Control-plane helpers over a test client (or a namespace prefix of it)."""

    def __init__(self, client, prefix=""):
        self.client = client
        self.prefix = prefix

    def url(self, path):
        return self.prefix + path

    def put_state(self, doc, vendor=None):
        path = "/__sim/state" + (f"/{vendor}" if vendor else "")
        r = self.client.put(self.url(path), json=doc)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def state(self, vendor=None):
        path = "/__sim/state" + (f"/{vendor}" if vendor else "")
        return self.client.get(self.url(path)).get_json()

    def journal(self, **filters):
        return self.client.get(self.url("/__sim/journal"), query_string=filters).get_json()[
            "entries"
        ]

    def outbox(self, **filters):
        return self.client.get(self.url("/__sim/outbox"), query_string=filters).get_json()[
            "entries"
        ]

    def freeze(self, now):
        r = self.client.put(self.url("/__sim/clock"), json={"now": now})
        assert r.status_code == 200, r.get_json()

    def advance(self, seconds):
        r = self.client.post(self.url("/__sim/clock/advance"), json={"seconds": seconds})
        assert r.status_code == 200, r.get_json()


@pytest.fixture
def sim(client):
    return Sim(client)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served():
    """A real ``crmsim serve`` (the default server, granian: one worker, threads) on a free port."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--threads", "16"],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/__sim/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # refused, or a read timeout while it boots
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    else:
        proc.kill()
        proc.wait()
        log.seek(0)
        message = log.read().decode()
        log.close()
        raise RuntimeError(f"crmsim serve did not start: {message}")
    if proc.poll() is not None:
        log.seek(0)
        message = log.read().decode()
        log.close()
        raise RuntimeError(f"crmsim serve exited at start: {message}")
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
