"""pytest plugin (entry point ``pytest11``): crmsim in-process, one namespace per test.

Fixtures:

* ``crmsim_server`` (session): the simulator served on a free loopback port from a thread
  of the test process; its base URL.
* ``crmsim`` (per test): a ``Crmsim`` with a fresh namespace: ``url(vendor)`` is the base
  URL to give the client under test, and the control-plane helpers (``load_state``,
  ``state``, ``journal``, ``outbox``, ``freeze``, ``advance``, ``add_fault``...) act on that
  namespace only, so tests may run in parallel (pytest-xdist) without seeing each other.

Marker ``@pytest.mark.crmsim_vendor("botw")``: when ``CRMSIM_REAL_BOTW_URL`` is set,
``crmsim.url("botw")`` is that real sandbox instead and ``crmsim.real`` is True (control
helpers then skip the test, since a real vendor has no control plane).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from simulator.client import Client
from simulator.config import real_vendor_url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "crmsim_vendor(name): run against the real vendor when CRMSIM_REAL_<NAME>_URL is set",
    )


class _Server:
    def __init__(self) -> None:
        from simulator.app import create_app

        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, create_app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Crmsim(Client):
    """The control-plane client of one test's namespace, plus vendor URLs."""

    def __init__(self, server: str, namespace: str, real: dict[str, str]) -> None:
        super().__init__(server, namespace)
        self.real_urls = real

    @property
    def real(self) -> bool:
        return bool(self.real_urls)

    def url(self, vendor: str) -> str:
        """The base URL of ``vendor`` for the code under test."""
        return self.real_urls.get(vendor) or self.vendor_url(vendor)

    def _call(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        if self.real:
            pytest.skip("the real vendor has no crmsim control plane")
        return super()._call(method, path, json, params)

    def load_state(self, doc: dict[str, Any], vendor: str | None = None) -> dict[str, Any]:
        return self.put_state(doc, vendor)


@pytest.fixture(scope="session")
def crmsim_server() -> Iterator[str]:
    """Base URL of an in-process crmsim shared by the session."""
    server = _Server()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def crmsim(request: pytest.FixtureRequest, crmsim_server: str) -> Iterator[Crmsim]:
    """A fresh namespace of the session's crmsim, dropped after the test."""
    real: dict[str, str] = {}
    for marker in request.node.iter_markers("crmsim_vendor"):
        for vendor in marker.args:
            url = real_vendor_url(str(vendor))
            if url:
                real[vendor] = url.rstrip("/")
    sim = Crmsim(crmsim_server, f"t-{uuid.uuid4().hex[:12]}", real)
    yield sim
    if not sim.real:
        sim.drop()
