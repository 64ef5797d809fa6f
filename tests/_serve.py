"""One way for tests to run a real ``crmsim serve``: a free loopback port, a wait for
``/__sim/health`` with a deadline, and a stop that never leaves a process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping

import requests
from helpers import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    *args: str,
    env: Mapping[str, str] | None = None,
    ready_within: float = 30.0,
    ca: str | os.PathLike[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``crmsim serve --port P ARGS``; yields (base URL, process). With ``ca`` (the server
    serves HTTPS, ``--certfile``/``--keyfile`` in ARGS) the base URL is ``https://`` and the
    health check verifies the server's certificate against that CA.

    The server runs in a process group of its own, so that stopping it stops its worker
    too: SIGTERM, then SIGKILL if it has not gone within ten seconds.
    """
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    base = f"{'https' if ca else 'http'}://127.0.0.1:{port}"
    verify: bool | str = os.fspath(ca) if ca else True

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-4000:]

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"crmsim serve exited at start ({proc.returncode}): {output()}")
        try:
            return requests.get(base + "/__sim/health", timeout=1, verify=verify).status_code == 200
        except requests.RequestException:  # refused, or a read timeout while it boots
            return False

    try:  # whatever fails from here on (a timeout, an interrupt), the finally stops it
        try:
            wait_until(healthy, timeout=ready_within, what="crmsim serve answering /__sim/health")
        except AssertionError as e:
            raise RuntimeError(f"{e}: {output()}") from None
        proc.output = output  # type: ignore[attr-defined]
        yield base, proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the server, or a worker left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        log.close()
