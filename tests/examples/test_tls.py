"""The README's HTTPS example: a client that insists on https, against `crmsim serve` over
TLS with a certificate made by `crmsim cert`, verified against its CA."""

import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest
import requests

CRMSIM = [sys.executable, "-m", "simulator"]  # the `crmsim` command
KEY = {"Authorization": "Bearer KEY"}


@pytest.fixture
def https_crmsim(tmp_path):
    """crmsim over HTTPS on a free port: (base URL, path of the CA to trust)."""
    subprocess.run([*CRMSIM, "cert", "--out", str(tmp_path)], check=True, capture_output=True)
    ca = str(tmp_path / "ca.pem")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tls = ["--certfile", str(tmp_path / "cert.pem"), "--keyfile", str(tmp_path / "key.pem")]
    server = subprocess.Popen(
        [*CRMSIM, "serve", "--port", str(port), *tls],
        start_new_session=True,  # a process group: stopping it stops the worker too
    )
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # until it answers, at most 30 s
            try:
                requests.get(base + "/__sim/health", verify=ca, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.1)
        yield base, ca
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def add_lead(base_url, listing, email, ca):  # the consumer's own client: https only
    if not base_url.startswith("https://"):
        raise ValueError("BOTW is called over https")
    r = requests.post(
        f"{base_url}/crm/{listing}", data={"email": email}, headers=KEY, verify=ca, timeout=5
    )
    r.raise_for_status()


def test_an_https_only_client_against_crmsim(https_crmsim):
    base, ca = https_crmsim
    state = {"api_keys": {"KEY": ["123"]}}
    requests.put(base + "/__sim/state/botw", json=state, verify=ca, timeout=5).raise_for_status()
    add_lead(base, "123", "ann@example.com", ca)

    # httpx takes an SSLContext (its verify="ca.pem" is deprecated)
    with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as client:
        found = client.get(base + "/crm/123", params={"email": "ann@example.com"}, headers=KEY)
    assert found.json()["data"]["results"][0]["contact_email"] == "ann@example.com"

    with pytest.raises(requests.exceptions.SSLError):  # without the CA: not trusted
        requests.get(base + "/__sim/health", timeout=5)
