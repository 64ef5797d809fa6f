"""Intercept calls to the vendors' real hostnames into an in-process crmsim (issue 18 item 2).

``with intercept():`` (or ``@intercept()`` on a function, or the pytest fixtures
``crmsim_intercept`` and ``crmsim.intercept()``) makes every call that ``requests`` or
``httpx`` (sync and async) sends to a vendor's real host, ``https://api.botw.org/crm/123``
say, go to a crmsim app in the same process, with no server and no change of base URL: the
way moto's ``mock_aws`` serves boto3. It is built on ``responses`` (a callback per method)
for ``requests`` and on ``respx`` (its httpcore mocker, with a side effect) for ``httpx``;
both patch at class level, so threads started inside the block are intercepted too, and
nothing is global across processes (no port, no file: it runs as is under pytest-xdist).

* ``hosts``: vendor -> host regex (matched in full, any case, without the port) over
  ``DEFAULT_HOSTS``; ``None`` for a vendor leaves its host alone.
* ``paths``: vendor -> the base path of its API on the real host (default: the vendor's
  default base path, ``/crm`` for BOTW); a path under it is served by that vendor's route
  in crmsim, wherever the app mounts it (``--mount``). Other paths on a vendor's host reach
  crmsim unchanged (usually its 404 naming the closest routes): a vendor's host never
  reaches the network.
* ``others``: hosts that are no vendor's pass through to the network (``"pass"``, the
  default, as moto does) or fail with the client's own connection error (``"fail"``, as
  plain ``responses`` and ``respx`` do).
* The control plane: ``http://crmsim.localhost`` is the app too (``.client`` is a
  ``simulator.client.Client`` on it, for this intercept's namespace), and ``.app`` is the
  Flask app itself.

A ``drop`` fault rule raises ``requests.ConnectionError`` / ``httpx.ConnectError``, as a
reset connection does; a ``truncate`` rule's short body raises requests'
``ChunkedEncodingError`` / httpx's ``RemoteProtocolError``. One intercept at a time per
process. Details: docs/testing.md ("Intercepting the vendors' real hosts").
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from contextlib import ContextDecorator, ExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
import requests
import responses
import respx
from urllib3 import HTTPHeaderDict
from werkzeug.test import EnvironBuilder

from simulator.client import AsyncClient, Client
from simulator.vendors import VENDORS

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["CONTROL_URL", "DEFAULT_HOSTS", "Intercept", "intercept"]

# The vendors' real hosts. BOTW publishes one API host; Omoto gives each customer a
# subdomain (``https://{domain}.omoto.io/omoto/...``); CRM.COM and AntCRM give each customer
# a server or listener URL of its own, whose hosts are not published: the defaults take any
# subdomain of the vendor's own domain. Give the host your app really uses with ``hosts=``.
DEFAULT_HOSTS: dict[str, str] = {
    "botw": r"api\.botw\.org",
    "omoto": r"[a-z0-9-]+\.omoto\.io",
    "crmcom": r"(?:[a-z0-9-]+\.)+crm\.com",
    "antcrm": r"(?:[a-z0-9-]+\.)+antbuddy\.com",
}
# where the control plane (and the namespaces, verbatim) answer in-process: ``*.localhost``
# is a loopback name, so the control plane's Host check lets it in
CONTROL_URL = "http://crmsim.localhost"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
Others = Literal["pass", "fail"]


# set while respx resolves a request of an async client: the side effect then answers
# with an awaitable (respx awaits it), so the app runs in a worker thread
_ASYNC: ContextVar[bool] = ContextVar("crmsim_intercept_async", default=False)


class _Router(respx.MockRouter):
    """respx's router, telling the side effect whether the client is async."""

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _ASYNC.reset(token)


class Dropped(Exception):
    """A fault rule dropped the connection (the pipeline's ``crmsim.drop``)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def announced(self) -> int | None:
        """The length its Content-Length announces (a ``truncate`` rule sends less)."""
        for name, value in self.headers:
            if name.lower() == "content-length" and value.strip().isdigit():
                return int(value)
        return None


@dataclass(frozen=True)
class _Route:
    host: re.Pattern[str]
    base: str  # the API's base path on the real host ("" for the whole host)
    prefix: str  # where the app serves the vendor


def _base(path: str) -> str:
    return "/" + path.strip("/") if path.strip("/") else ""


def _under(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


class Intercept(ContextDecorator):
    """Sends vendor calls made with requests and httpx into ``app`` (see the module)."""

    # Both libraries patch process-wide, and a second block would split the clients (respx
    # answers from the first router, responses from the last patch): one at a time.
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[Intercept | None] = None

    def __init__(
        self,
        app: Flask | None = None,
        *,
        namespace: str | None = None,
        hosts: Mapping[str, str | None] | None = None,
        paths: Mapping[str, str] | None = None,
        others: Others = "pass",
        config: Mapping[str, Any] | None = None,
        control_urls: Iterable[str] = (),
        client: Client | None = None,
    ) -> None:
        if others not in ("pass", "fail"):
            raise ValueError(f"others must be 'pass' or 'fail', not {others!r}")
        unknown = sorted(set(hosts or {}).union(paths or {}) - set(VENDORS))
        if unknown:
            raise ValueError(
                f"no such vendor: {', '.join(unknown)} (vendors: {', '.join(sorted(VENDORS))})"
            )
        self._given_app = app
        self._config = dict(config or {})
        self._given_namespace = namespace
        self.hosts: dict[str, str | None] = {**DEFAULT_HOSTS, **(hosts or {})}
        self.paths = {slug: _base(v.prefix) for slug, v in VENDORS.items()}
        self.paths.update({slug: _base(path) for slug, path in (paths or {}).items()})
        self.others: Others = others
        self.control_urls = [CONTROL_URL, *(u.rstrip("/") for u in control_urls)]
        self._given_client = client
        self._app: Flask | None = app
        self._namespace: str | None = namespace
        self._client: Client | None = client
        self._stack: ExitStack | None = None

    # -- what a test uses ---------------------------------------------------------------
    @property
    def app(self) -> Flask:
        """The crmsim app the calls go to (built on entry unless one was given)."""
        if self._app is None:
            raise RuntimeError("the intercept has no app before it is entered")
        return self._app

    @property
    def namespace(self) -> str:
        """The namespace vendor calls land in (a fresh one per entry unless given)."""
        if self._namespace is None:
            raise RuntimeError("the intercept has no namespace before it is entered")
        return self._namespace

    @property
    def client(self) -> Client:
        """The control plane of this intercept's namespace (answered in-process, so only
        inside the block): ``load_state``/``put_state``, ``journal``, ``add_fault``..."""
        if self._client is None:
            self._client = Client(CONTROL_URL, self.namespace)
        return self._client

    def async_client(self) -> AsyncClient:
        """The same control plane as ``simulator.client.AsyncClient`` (a new one: close it,
        or use ``async with``), answered in-process inside the block only."""
        return AsyncClient(CONTROL_URL, self.namespace)

    # -- entering and leaving -----------------------------------------------------------
    def __enter__(self) -> Intercept:
        if self._stack is not None:
            raise RuntimeError("this intercept is active already")
        with Intercept._lock:
            if Intercept._active is not None:
                raise RuntimeError(
                    "another crmsim intercept is active in this process; its patches are "
                    "process-wide, so one intercept at a time"
                )
            Intercept._active = self
        try:
            self._start()
        except BaseException:
            Intercept._active = None
            raise
        return self

    def _start(self) -> None:
        if self._given_app is None:
            from simulator.app import create_app

            self._app = create_app(self._config)  # a fresh crmsim per entry, as mock_aws
        if self._given_namespace is None:
            self._namespace = f"i-{uuid.uuid4().hex[:12]}"
            self._client = self._given_client
        self._routes = self._vendor_routes(self.app)
        with ExitStack() as stack:
            stack.enter_context(self._requests_mock())
            stack.enter_context(self._httpx_mock())
            self._stack = stack.pop_all()

    def __exit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        try:
            if stack is not None:
                stack.close()
        finally:
            with Intercept._lock:
                if Intercept._active is self:
                    Intercept._active = None

    def _vendor_routes(self, app: Flask) -> list[_Route]:
        served = {v.slug: v.prefix for v in app.extensions["crmsim"].vendors}
        return [
            _Route(re.compile(host, re.IGNORECASE), self.paths[slug], served[slug])
            for slug, host in self.hosts.items()
            if host is not None and slug in served
        ]

    # -- where a URL goes ---------------------------------------------------------------
    def target(self, url: str) -> str | None:
        """The path (and query) in the app that ``url`` is served at; None: not ours."""
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        root = f"{parts.scheme}://{parts.netloc}".lower()
        if root in self.control_urls:
            return (parts.path or "/") + query
        host = (parts.hostname or "").lower()
        for route in self._routes:
            if route.host.fullmatch(host):
                path = parts.path or "/"
                if _under(path, route.base):
                    path = route.prefix + path[len(route.base) :]
                return f"/__ns/{self.namespace}{path}{query}"
        return None

    def serve(
        self, method: str, url: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> Answer:
        """Answer one request from the app; raises ``Dropped`` when a fault drops it."""
        parts = urlsplit(url)
        path, _, query = target.partition("?")
        sent = [(k, v) for k, v in headers if k.lower() not in ("transfer-encoding", "host")]
        builder = EnvironBuilder(
            path=path,
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=query,
            method=method,
            headers=sent,
            data=body,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            started[:] = [status, headers]
            return written.append

        try:
            result = self.app.wsgi_app(environ, start_response)
        except BrokenPipeError as exc:  # NamespaceMiddleware's drop_connection
            if environ.get("crmsim.drop"):
                raise Dropped(f"crmsim dropped the connection ({method} {url})") from exc
            raise
        try:
            data = b"".join([*written, *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, answer_headers = started
        return Answer(int(status.split(" ", 1)[0]), list(answer_headers), data)

    # -- requests, through responses ----------------------------------------------------
    def _requests_mock(self) -> responses.RequestsMock:
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        ours = re.compile(self._url_pattern(), re.IGNORECASE)
        for method in METHODS:
            mock.add_callback(method, ours, self._requests_answer, content_type=None)
        if self.others == "pass":
            mock.add_passthru(re.compile(r".*"))  # only requests no callback matched
        return mock  # others="fail": responses refuses them with a ConnectionError

    def _url_pattern(self) -> str:
        """A regex of every URL this intercept serves (its vendor hosts, its control URLs)."""
        hosts = "|".join(f"(?:{r.host.pattern})" for r in self._routes)
        controls = "|".join(re.escape(u) for u in self.control_urls)
        vendors = rf"|https?://(?:{hosts})(?::\d+)?" if hosts else ""
        return rf"(?:{controls}{vendors})(?:[/?#]|$)"

    def _requests_answer(
        self, request: requests.PreparedRequest
    ) -> tuple[int, HTTPHeaderDict, bytes]:
        url, method = str(request.url), str(request.method)
        target = self.target(url)
        if target is None:  # the URL pattern matched what target() does not: a bug
            raise requests.ConnectionError(f"crmsim.intercept cannot serve {url}")
        try:
            answer = self.serve(method, url, target, request.headers.items(), _bytes(request.body))
        except Dropped as exc:
            raise requests.ConnectionError(str(exc), request=request) from exc
        return answer.status, HTTPHeaderDict(answer.headers), answer.body

    # -- httpx, through respx -----------------------------------------------------------
    def _httpx_mock(self) -> respx.MockRouter:
        router = _Router(assert_all_called=False, assert_all_mocked=True)
        ours = re.compile(self._url_pattern(), re.IGNORECASE)
        router.route(url__regex=ours).mock(side_effect=self._httpx_answer)
        if self.others == "pass":
            router.route().pass_through()
        else:
            router.route().mock(side_effect=self._httpx_refuse)
        return router

    def _httpx_answer(self, request: httpx.Request) -> Any:
        target = self.target(str(request.url))
        if target is None:
            return None  # not ours: the next route passes it through or refuses it
        if _ASYNC.get():
            return self._httpx_answer_async(request, target)
        return self._httpx_response(request, target)

    async def _httpx_answer_async(self, request: httpx.Request, target: str) -> httpx.Response:
        # the app blocks (a fault's delay sleeps): a worker thread keeps the event loop free
        return await anyio.to_thread.run_sync(self._httpx_response, request, target)

    def _httpx_response(self, request: httpx.Request, target: str) -> httpx.Response:
        url = str(request.url)
        try:
            answer = self.serve(
                request.method, url, target, request.headers.multi_items(), request.content
            )
        except Dropped as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        announced = answer.announced()
        if announced is not None and announced > len(answer.body):  # a ``truncate`` rule
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                f"(received {len(answer.body)} bytes, expected {announced})",
                request=request,
            )
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
        return httpx.Response(answer.status, headers=headers, content=answer.body)

    def _httpx_refuse(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(_refused(request.method, str(request.url)), request=request)


def _refused(method: str | None, url: str | None) -> str:
    return (
        f"crmsim.intercept refused {method} {url}: the host is no vendor's and others='fail' "
        "(give its vendor's host in hosts=, or others='pass')"
    )


def _bytes(body: Any) -> bytes:
    """A prepared request's body as bytes (requests sends str, bytes, files or iterables)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if read is not None:
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with contextlib.suppress(TypeError):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    raise TypeError(f"cannot read a request body of type {type(body).__name__}")


def intercept(
    app: Flask | None = None,
    *,
    namespace: str | None = None,
    hosts: Mapping[str, str | None] | None = None,
    paths: Mapping[str, str] | None = None,
    others: Others = "pass",
    config: Mapping[str, Any] | None = None,
) -> Intercept:
    """Send ``requests`` and ``httpx`` calls to the vendors' real hosts into crmsim.

    A context manager and a decorator. Without ``app``, each entry builds a fresh crmsim
    (``config`` overrides its settings); ``namespace`` defaults to a fresh one per entry.
    """
    return Intercept(
        app, namespace=namespace, hosts=hosts, paths=paths, others=others, config=config
    )
