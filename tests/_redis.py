"""A real ``redis-server`` for tests (issue 17): Debian's, on a free loopback port, without
persistence, waited for with a deadline (PING), stopped in a finally."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator

import redis
from _serve import free_port
from helpers import answers, wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@contextlib.contextmanager
def redis_server(ready_within: float = 20.0, port: int | None = None) -> Iterator[str]:
    """``redis-server`` on a free port (or ``port``); yields its URL
    (``redis://127.0.0.1:PORT/0``)."""
    if not os.path.exists(REDIS_SERVER):
        raise RuntimeError(
            "redis-server is not installed: apt-get install redis-server (.ci/run does)"
        )
    port = free_port() if port is None else port
    workdir = tempfile.TemporaryDirectory(prefix="crmsim-redis-")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir.name,
            "--protected-mode",
            "yes",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def ready() -> bool:
        if proc.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"redis-server exited at start ({proc.returncode}): {output}")
        return bool(answers(client.ping, redis.ConnectionError, redis.TimeoutError)())

    try:
        wait_until(ready, timeout=ready_within, what="redis-server answering PING")
        yield url
    finally:
        client.close()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        workdir.cleanup()
