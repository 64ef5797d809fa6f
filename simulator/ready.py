"""Waiting for a crmsim to serve: ``crmsim wait``, and ``crmsim serve``'s "ready" line.

A crmsim serves once ``GET /__sim/health`` answers 200 (it needs no control token). Over
HTTPS the certificate is not checked: the question is only whether the server answers.
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the crmsim at base URL ``url`` answers its health check with 200 now."""
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(
            url.rstrip("/") + "/__sim/health", timeout=timeout, context=context
        ) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):  # refused, reset, timed out, an HTTP error, a bad URL
        return False


def wait_until_serving(url: str, timeout: float, interval: float = 0.1) -> float | None:
    """Seconds it took the crmsim at ``url`` to answer its health check, polling every
    ``interval`` seconds; None when it did not answer within ``timeout`` seconds."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if answers(url, timeout=max(0.1, min(1.0, deadline - time.monotonic()))):
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
