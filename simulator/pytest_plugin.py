"""pytest plugin (entry point ``pytest11``): crmsim in-process, one namespace per test.

Fixtures:

* ``crmsim_server`` (session): the simulator served on a free loopback port from a thread
  of the test process; its base URL.
* ``crmsim`` (per test): a ``Crmsim`` with a fresh namespace: ``url(vendor)`` is the base
  URL to give the client under test, and the control-plane helpers (``load_state``,
  ``state``, ``journal``, ``outbox``, ``freeze``, ``advance``, ``add_fault``...) act on that
  namespace only, so tests may run in parallel (pytest-xdist) without seeing each other.
  ``crmsim.intercept()`` sends calls to the vendors' real hosts into that namespace
  (simulator/intercept.py).
* ``crmsim_intercept`` (per test): ``crmsim`` with the vendors' real hosts intercepted for
  the whole test.

Marker ``@pytest.mark.crmsim_vendor("botw")``: when ``CRMSIM_REAL_BOTW_URL`` is set,
``crmsim.url("botw")`` is that real sandbox instead and ``crmsim.real`` is True (control
helpers then skip the test, since a real vendor has no control plane).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from simulator.client import Client
from simulator.config import real_vendor_url

if TYPE_CHECKING:
    from flask import Flask

    from simulator.intercept import Intercept

# the app behind each in-process server's URL, for ``Crmsim.intercept``
APPS = pytest.StashKey[dict[str, "Flask"]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "crmsim_vendor(name): run against the real vendor when CRMSIM_REAL_<NAME>_URL is set",
    )


log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's request handler without its request log: werkzeug writes one coloured
    line per request to stderr, which pytest shows in every failing test's captured output.
    Each request is a plain DEBUG record of ``simulator.pytest_plugin`` instead (the
    journal, ``crmsim.journal()``, says more)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = getattr(code, "value", code)
        log.debug('%s "%s" %s %s', self.address_string(), self.requestline, status, size)


class _Server:
    def __init__(self) -> None:
        import gc

        was = gc.isenabled()
        gc.disable()  # no collector passes over the app's imports and build (they live on)
        try:
            from simulator.app import create_app

            self.app = create_app()
        finally:
            if was:
                gc.enable()
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Crmsim(Client):
    """The control-plane client of one test's namespace, plus vendor URLs."""

    def __init__(
        self, server: str, namespace: str, real: dict[str, str], app: Flask | None = None
    ) -> None:
        super().__init__(server, namespace)
        self.real_urls = real
        self.app = app

    @property
    def real(self) -> bool:
        """Whether this test runs against a real vendor (``crmsim_vendor`` marker and
        ``CRMSIM_REAL_<VENDOR>_URL``): control-plane helpers then skip the test."""
        return bool(self.real_urls)

    def url(self, vendor: str) -> str:
        """The base URL of ``vendor`` for the code under test."""
        return self.real_urls.get(vendor) or self.vendor_url(vendor)

    def _call(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        if self.real:
            pytest.skip("the real vendor has no crmsim control plane")
        return super()._call(method, path, json, params)

    def load_state(self, doc: dict[str, Any], vendor: str | None = None) -> dict[str, Any]:
        """``put_state``: load a state document (or one vendor's part) into the namespace."""
        return self.put_state(doc, vendor)

    def intercept(self, **options: Any) -> Intercept:
        """Calls to the vendors' real hosts, served in-process in this test's namespace
        (``hosts``, ``paths``, ``others`` as for ``simulator.intercept.intercept``). A
        vendor run against its real sandbox (``crmsim_vendor``) is left alone."""
        from simulator.intercept import Intercept

        if self.app is None:
            raise RuntimeError(
                f"crmsim.intercept() needs the plugin's in-process crmsim; crmsim_server is "
                f"{self.server}, served elsewhere (use simulator.intercept.intercept())"
            )
        hosts = dict(options.pop("hosts", None) or {})
        for vendor in self.real_urls:
            hosts[vendor] = None
        return Intercept(
            self.app,
            namespace=self.namespace,
            hosts=hosts,
            control_urls=[self.server],
            client=self,
            **options,
        )


@pytest.fixture(scope="session")
def crmsim_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of an in-process crmsim shared by the session."""
    server = _Server()
    apps = request.config.stash.setdefault(APPS, {})
    apps[server.url] = server.app
    try:
        yield server.url
    finally:
        apps.pop(server.url, None)
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
    app = request.config.stash.get(APPS, {}).get(crmsim_server)
    sim = Crmsim(crmsim_server, f"t-{uuid.uuid4().hex[:12]}", real, app)
    yield sim
    if not sim.real:
        sim.drop()


@pytest.fixture
def crmsim_intercept(crmsim: Crmsim) -> Iterator[Crmsim]:
    """``crmsim``, with calls to the vendors' real hosts (``https://api.botw.org/crm/...``)
    made with requests or httpx served in its namespace for the whole test."""
    with crmsim.intercept():
        yield crmsim
