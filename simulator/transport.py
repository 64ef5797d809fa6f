"""How a fault rule's answer reaches the client: a malformed body, a body cut short, a slow
dribble (``malformed``, ``truncate``, ``dribble`` in schemas/sim/fault.json).

``malformed`` changes the answer itself (``malform``), so every server and the Flask test
client see the same bytes. ``truncate`` and ``dribble`` are about the wire, so the server
layer carries them out, from the ``Transport`` the pipeline leaves in the WSGI environ:

* under granian, ``simulator/rsgi.py`` streams the body from its event loop
  (``Transport.send_rsgi``): pauses are ``asyncio.sleep``, no thread is held;
* under gunicorn (or werkzeug's server), ``NamespaceMiddleware`` wraps the WSGI iterable
  (``Transport.wsgi``): each pause holds one of the app's threads;
* in-process (the Flask test client) the same iterable is read by the test client: a
  dribble takes its time and arrives whole, a truncated body arrives as its first half
  under a Content-Length that announces the whole (no connection exists to close).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response

ENVIRON_KEY = "crmsim.transport"
# set by the RSGI bridge: it writes the body itself, the WSGI layer leaves it alone
BRIDGED = "crmsim.bridged"


def malform(body: bytes) -> bytes:
    """The first half of ``body`` (at least one byte); an empty body becomes ``{``. Cut short,
    a JSON object or array never parses (its closing bracket is gone)."""
    if len(body) < 2:
        return b"{"
    return body[: len(body) // 2]


@dataclass(frozen=True)
class Transport:
    """Send the body in ``chunks`` pieces, each after ``pause`` seconds; with ``truncate``
    only the first half of it, then close the connection."""

    truncate: bool = False
    chunks: int = 1
    pause: float = 0.0

    @classmethod
    def of(cls, truncate: bool, dribble: Mapping[str, int] | None) -> Transport | None:
        if not truncate and dribble is None:
            return None
        if dribble is None:
            return cls(truncate=truncate)
        chunks = dribble["chunks"]
        return cls(truncate, chunks, dribble["total_ms"] / 1000 / chunks)

    def pieces(self, body: bytes) -> list[bytes]:
        """What goes on the wire, piece by piece (a piece may be empty: its pause still
        counts, so the last byte always leaves ``total_ms`` after the headers)."""
        sent = body[: len(body) // 2] if self.truncate else body
        n = self.chunks
        return [sent[i * len(sent) // n : (i + 1) * len(sent) // n] for i in range(n)]

    # -- WSGI: gunicorn, werkzeug, the Flask test client --------------------------------------
    def wsgi(self, environ: dict[str, Any], result: Iterable[bytes]) -> Iterator[bytes]:
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        yield b""  # gunicorn and werkzeug send the headers with the first write: now
        for piece in self.pieces(body):
            if self.pause:
                time.sleep(self.pause)
            yield piece
        if self.truncate:  # the rest never comes: end the connection (FIN after the data)
            sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)

    # -- RSGI: granian ------------------------------------------------------------------------
    async def send_rsgi(
        self, proto: Any, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        import asyncio  # granian's loop runs it: already imported (not at the app's start)

        stream = proto.response_stream(status, headers)
        for piece in self.pieces(body):
            if self.pause:
                await asyncio.sleep(self.pause)
            if piece:
                await stream.send_bytes(piece)


def prepare(response: Response, environ: dict[str, Any], transport: Transport | None) -> None:
    """Leave ``transport`` for the server layer; a truncated empty body announces one byte."""
    if transport is None:
        return
    environ[ENVIRON_KEY] = transport
    if transport.truncate and not response.get_data():
        response.headers["Content-Length"] = "1"
