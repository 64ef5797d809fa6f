"""The helpers that start a real ``crmsim serve`` never leave it running when its start
fails: a read timeout while it boots (not only a refused connection) ends in a stop."""

import os
import signal
import subprocess

import _serve
import pytest
import requests
import test_persistence
from _serve import serving
from helpers import wait_until
from test_persistence import Served


@pytest.fixture
def started(monkeypatch):
    """Every process the helpers start, and health checks that always time out."""
    procs = []
    real = subprocess.Popen

    def popen(*args, **kwargs):
        procs.append(real(*args, **kwargs))
        return procs[-1]

    def timing_out(*args, **kwargs):
        raise requests.ReadTimeout("read timed out (simulated)")

    monkeypatch.setattr(subprocess, "Popen", popen)
    for module in (_serve, test_persistence):
        monkeypatch.setattr(module.requests, "get", timing_out)
    yield procs
    for proc in procs:  # had a helper failed to stop it, do not leak it from here either
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def gone(proc):
    assert proc.poll() is not None, "the server still runs"

    def group_gone():  # nor anything of its process group (a worker), once init reaps it
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        return False

    return wait_until(group_gone, timeout=10, what="the server's process group going")


def test_serving_stops_the_server_when_its_health_check_times_out(started):
    with pytest.raises(RuntimeError, match="did not happen within 2"):
        with serving(ready_within=2):
            pytest.fail("serving() yielded a server that never answered")
    [proc] = started
    assert gone(proc)


def test_served_with_data_stops_the_server_when_its_health_check_times_out(started, tmp_path):
    with pytest.raises(AssertionError, match="did not happen within 2"):
        Served(tmp_path / "data.json", ready_within=2)
    [proc] = started
    assert gone(proc)
