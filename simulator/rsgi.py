"""crmsim's WSGI app served by granian through its RSGI interface.

granian's own WSGI interface hides the client's port, so a fault rule's ``drop`` could not
find the connection to reset. Through RSGI the scope names the client (``ip:port``): the
bridge reads the body on granian's event loop (a slow upload holds neither a thread nor a
lock), then runs the WSGI app and answers with its bytes.

Where the app runs (docs/serving.md, "Where the time goes"):

* **inline**, on the event loop's own thread, when nothing can make the request wait: a
  vendor request to a namespace that exists and has no fault rule and no latency setting,
  or ``/__sim/health``. No thread handoff: about twice the requests per second.
* **in a small thread pool** otherwise: a delay (``time.sleep``) or a long control request
  (a state load, an export) there holds one of its threads, never the loop.

The check is two unlocked reads made before dispatch; the pipeline checks again where it
would block (``pipeline.INLINE``): a rule or a latency added meanwhile, or the namespace's
lock held by another thread, raises ``pipeline.Reschedule`` before anything was done, and
the bridge runs the request again in the pool. So no delay is ever slept, and no lock ever
waited for, on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import io
import logging
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from granian.rsgi import ProtocolClosed  # type: ignore[attr-defined]

from simulator.pipeline import BODY, CONTROL_PREFIX, INLINE, Reschedule
from simulator.transport import BRIDGED, ENVIRON_KEY, Transport
from simulator.world import DEFAULT, NAME, Namespaces

log = logging.getLogger("crmsim.serve")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[str, str]], bytes]
_LINGER_ZERO = struct.pack("ii", 1, 0)


class _Sockaddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_char * 14)]


_libc: Any = None


def _disconnect(fd: int) -> bool:
    """Reset the TCP connection of ``fd`` without closing the descriptor (the server owns it):
    zero linger, then ``connect(AF_UNSPEC)``, which Linux answers with ``tcp_disconnect``:
    an RST to the peer. The server's next read of the socket fails and it closes it."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    sock = socket.socket(fileno=fd)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    finally:
        sock.detach()
    addr = _Sockaddr(socket.AF_UNSPEC)
    return bool(_libc.connect(fd, ctypes.byref(addr), ctypes.sizeof(addr)) == 0)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def find_connection(peer: tuple[str, int], local_port: int) -> int | None:
    """The descriptor of this process's TCP socket connected to ``peer`` on ``local_port``."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for name in fds:
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=fd)
        except OSError:
            continue
        try:
            if sock.type != socket.SOCK_STREAM:
                continue
            there = sock.getpeername()
            here = sock.getsockname()
        except OSError:
            continue
        finally:
            sock.detach()
        if not (isinstance(there, tuple) and isinstance(here, tuple)):
            continue  # a Unix socket
        if (there[0].removeprefix("::ffff:"), there[1]) == peer and here[1] == local_port:
            return fd
    return None


def reset_client(environ: dict[str, Any]) -> bool:
    """Reset the connection that carried this request (RSGI-served: REMOTE_PORT is set)."""
    try:
        peer = (environ["REMOTE_ADDR"].removeprefix("::ffff:"), int(environ["REMOTE_PORT"]))
        port = int(environ["SERVER_PORT"])
    except (KeyError, ValueError):
        return False
    fd = find_connection(peer, port)
    if fd is None:
        return False
    with contextlib.suppress(OSError):
        return _disconnect(fd)
    return False


def _split(address: str, default_port: int) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, default_port
    host = host.strip("[]")
    try:
        return host, int(port)
    except ValueError:
        return address, default_port


NAMES = 256  # header names whose environ keys are kept (clients send the same few)
STREAMED = 1 << 20  # bytes of Content-Length from which a body is read chunk by chunk


def _environ_name(header: str) -> str:
    """A header's WSGI environ key: ``HTTP_X_TRACE_ID``; ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH`` have no prefix (PEP 3333)."""
    name = header.upper().replace("-", "_")
    return name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name


def quiet(namespaces: Namespaces) -> Callable[[str], bool]:
    """For a request's ``PATH_INFO``: may it run on the event loop? ``/__sim/health`` (no lock,
    no delay), or a vendor request to an existing namespace with no fault rule and no
    latency setting (a namespace not made yet goes to the pool: its first request makes
    it), not shared (a shared world's lock is a lease, a round trip to Redis:
    simulator/shared.py). Every other control request goes to the pool: a state load or an
    export is long."""
    if type(namespaces) is not Namespaces:  # shared: every lookup, health too, asks Redis
        return lambda _path: False
    find = namespaces.find

    def inline(path: str) -> bool:
        name = DEFAULT
        if path.startswith("/__ns/"):
            name, _, rest = path[6:].partition("/")
            if not NAME.match(name):
                return False
            path = "/" + rest
        if path.startswith(CONTROL_PREFIX):
            return path == "/__sim/health"
        world = find(name)
        return (
            world is not None
            and not world.shared
            and not world.faults.rules
            and not world.settings["latency"]
        )

    return inline


class Bridge:
    """An RSGI application that serves a WSGI app: ``__rsgi__`` per request, ``__rsgi_init__``
    when the worker starts, after granian set its signal handlers (``on_start``), and
    ``__rsgi_del__`` when the worker stops (``on_stop``: the last snapshot)."""

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        max_body: Callable[[str], int],
        on_stop: Callable[[], None] | None = None,
        inline: Callable[[str], bool] | None = None,
        on_start: Callable[[asyncio.AbstractEventLoop], None] | None = None,
        lane: Callable[[dict[str, Any]], Answer | None] | None = None,
    ) -> None:
        self.app = app
        self.lane = lane  # answers a quiet vendor request past Flask (simulator/lane.py)
        self.inline = inline  # which requests run on the loop's thread (``quiet``)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="crmsim")
        self.max_body = max_body
        self.on_stop = on_stop
        self.on_start = on_start
        self.servers: dict[str, dict[str, str]] = {}
        self.names: dict[str, str] = {}  # header name -> environ key, for the names seen
        self.base: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            BRIDGED: True,  # a fault rule's truncate or dribble: __rsgi__ sends the body
        }

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        if self.on_start is not None:
            self.on_start(loop)

    def __rsgi_del__(self, _loop: asyncio.AbstractEventLoop) -> None:
        self.pool.shutdown(wait=True)
        if self.on_stop is not None:
            self.on_stop()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        environ = self.environ(scope)
        try:
            body = await self.read_body(environ, scope, proto)
        except ProtocolClosed:  # the client went away before its body was all there
            return
        if body is None:
            return  # the same, seen by its length: nothing is done for a request cut short
        environ["wsgi.input"] = io.BytesIO(body)
        environ[BODY] = body
        status, headers, data = await self.run(environ, body)
        transport: Transport | None = environ.get(ENVIRON_KEY)
        if status and transport is not None:  # sent from the event loop: no thread waits
            await transport.send_rsgi(proto, status, headers, data)
        elif status:
            proto.response_bytes(status, headers, data)
        else:  # reset by a fault rule: nothing can be written any more
            proto.response_empty(503, [])

    async def read_body(self, environ: dict[str, Any], scope: Any, proto: Any) -> bytes | None:
        """The request's body as the app may read it; None when the client closed before
        sending all that its ``Content-Length`` announced (a server calls no app for a
        request cut short)."""
        length = environ.get("CONTENT_LENGTH") or ""
        announced = int(length) if length.isascii() and length.isdigit() else None
        limit = self.max_body(environ["PATH_INFO"])
        if announced is not None and announced > limit:
            return b""  # the app answers 413 (or the vendor's own) without reading it
        if announced is not None and announced >= STREAMED:
            # a large body (a state load) taken chunk by chunk: read whole by granian, it
            # sat in its allocator (jemalloc) for about 10 s after the request, a body's
            # size of RSS (docs/serving.md, "Memory per record")
            body = b"".join([chunk async for chunk in proto])
            return body if len(body) == announced else None
        if announced is not None:
            body = await proto()  # granian reads Content-Length bytes, no more
            return body if len(body) == announced else None
        if "HTTP_TRANSFER_ENCODING" not in environ and scope.http_version != "2":
            return b""
        chunks: list[bytes] = []  # a body of unknown length: read up to the limit
        size = 0
        async for chunk in proto:
            size += len(chunk)
            chunks.append(chunk)
            if size > limit:
                # over the limit, the rest left unread: answered as a Content-Length over it
                # is (413, the vendor's own), which Werkzeug would not see beside a chunked
                # Transfer-Encoding (a request of either framing is journaled with the
                # length read so far)
                environ["CONTENT_LENGTH"] = str(size)
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                return b""
        environ["CONTENT_LENGTH"] = str(size)
        return b"".join(chunks)

    async def run(self, environ: dict[str, Any], body: bytes) -> Answer:
        """The app's answer: on the loop's thread when the request is quiet, else (or when
        the pipeline finds it must wait after all) in the pool."""
        if self.inline is not None and self.inline(environ["PATH_INFO"]):
            environ[INLINE] = True
            if self.lane is not None:
                answer = self.lane(environ)  # changes nothing when it answers None
                if answer is not None:
                    return answer
            fresh = environ.copy()  # the app rewrites PATH_INFO (namespaces) and reads input
            del fresh[INLINE]  # run again in the pool, where it may wait
            try:
                return self.call(environ)
            except Reschedule:  # raised before anything was done
                environ = fresh
                environ["wsgi.input"] = io.BytesIO(body)
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.call, environ)

    def environ(self, scope: Any) -> dict[str, Any]:
        server = self.servers.get(scope.server)
        if server is None:  # the listening address: the same one or two every time
            host, port = _split(scope.server, 80)
            server = self.servers[scope.server] = {"SERVER_NAME": host, "SERVER_PORT": str(port)}
        client_host, client_port = _split(scope.client, 0)
        environ = {
            **self.base,
            **server,
            "REQUEST_METHOD": scope.method,
            "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": str(client_port),
            "wsgi.url_scheme": scope.scheme,
        }
        names = self.names
        for key, value in scope.headers.items():
            name = names.get(key)
            if name is None:
                name = _environ_name(key)
                if len(names) < NAMES:
                    names[key] = name
            if name in environ and name[0] == "H":  # HTTP_*: repeated headers join
                environ[name] += "," + value
            else:
                environ[name] = value
        if "HTTP_HOST" not in environ and scope.authority:  # HTTP/2: the :authority
            environ["HTTP_HOST"] = scope.authority
        return environ

    def call(self, environ: dict[str, Any]) -> Answer:
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            answer[:] = [int(status.split(" ", 1)[0]), headers]
            return None

        try:
            result = self.app(environ, start_response)
        except BrokenPipeError:  # a fault rule's drop: the connection is reset
            return 0, [], b""
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer[0], answer[1], data
