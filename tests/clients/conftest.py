"""The served crmsim the client stacks talk to: granian (the default, the shared ``served``
fixture) and gunicorn (``--server gunicorn``), each a real process on a free port."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served_gunicorn():
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--server",
            "gunicorn",
            "--port",
            str(port),
            "--threads",
            "8",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"crmsim serve exited at start: {log.read().decode()}")
            try:
                if requests.get(base + "/__sim/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture(params=["granian", "gunicorn"])
def server(request):
    """The base URL of a served crmsim, once per HTTP server."""
    name = "served" if request.param == "granian" else "served_gunicorn"
    return request.getfixturevalue(name)
