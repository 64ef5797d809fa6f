"""The tests' one helper vocabulary, importable from every test directory (``from helpers
import expect``; ``tests/`` is on ``sys.path`` through its conftest.py).

* ``expect(response, status, body=ANY)``: the status, a JSON answer and (when given) its body,
  always in that order; returns the parsed body. Works on a Flask test response and on a
  ``requests`` response.
* ``wait_until(predicate, timeout=..., what=...)``: poll a condition with a deadline instead of
  sleeping a fixed time; returns the predicate's first truthy value.
* ``answers(call, *errors)``: ``call`` as a ``wait_until`` predicate that reads the given
  errors (a refused connection, a read timeout while a server boots) as "not yet".
* ``read_line(stream, timeout=...)``: one line of a process's pipe, or a failure at the deadline
  (``readline()`` alone blocks forever when the process prints nothing).

``tests/browser``'s ``expect(locator)`` is Playwright's auto-waiting assertion, not this one.

Vendor request helpers live beside the vendor's tests (``tests/contract/<vendor>/_support.py``)
and follow one naming rule: a helper named after the HTTP method or ``send`` returns the raw
response and asserts nothing; the same name with ``_ok`` asserts the vendor's success answer and
returns its JSON body.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

T = TypeVar("T")


class _Any:
    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
JSON = "application/json"


def _text(response: Any) -> str:
    if hasattr(response, "get_data"):  # werkzeug
        return str(response.get_data(as_text=True))
    return str(response.text)  # requests


def _json(response: Any) -> Any:
    if hasattr(response, "get_json"):  # werkzeug
        return response.get_json()
    return response.json()  # requests


def _mimetype(response: Any) -> str:
    if hasattr(response, "mimetype"):  # werkzeug
        return str(response.mimetype)
    return str(response.headers.get("Content-Type", "")).split(";")[0].strip()


def expect(response: Any, status: int, body: Any = ANY, mimetype: str | None = JSON) -> Any:
    """Assert ``response`` has ``status``, is ``mimetype`` (JSON unless told; ``None`` skips
    the check) and, when ``body`` is given, carries exactly ``body``; return the parsed body."""
    assert response.status_code == status, (response.status_code, _text(response)[:2000])
    if mimetype is not None:
        assert _mimetype(response) == mimetype, (_mimetype(response), _text(response)[:2000])
    found = _json(response) if mimetype == JSON else _text(response)
    assert found == body, found
    return found


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    interval: float = 0.02,
) -> T:
    """Call ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds
    pass (an AssertionError naming ``what``). Exceptions from ``predicate`` propagate; wrap
    the predicate when a failing call means "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)  # the polling interval, not a wait for the condition


def answers(call: Callable[[], T], *errors: type[BaseException]) -> Callable[[], T | None]:
    """``call`` as a predicate for ``wait_until``: None (not yet) when it raises one of
    ``errors`` (a refused connection or a read timeout while a server boots)."""

    def predicate() -> T | None:
        try:
            return call()
        except errors:
            return None

    return predicate


def read_line(stream: IO[Any], timeout: float = 30.0, what: str = "a line") -> Any:
    """One line from a pipe, failing at the deadline instead of blocking forever."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"{what} was not printed within {timeout} s"
    return stream.readline()


def vendor_backend(slug: str, seed: int = 1) -> Any:
    """A vendor's backend on its own (no app, no namespace): a clock, seeded ids, an outbox."""
    from simulator.clock import Clock, Ids
    from simulator.journal import Outbox
    from simulator.vendors import VENDORS, _base

    clock = Clock()
    return VENDORS[slug].new_backend(_base.Context(clock, Ids(seed), Outbox(100, clock)))


def rsgi_scope(method: str, path: str, headers: Any = None, query: str = "") -> Any:
    """What granian hands an RSGI app's ``__rsgi__`` for an HTTP/1.1 request from
    127.0.0.1:40000 to 127.0.0.1:8080."""
    from types import SimpleNamespace

    return SimpleNamespace(
        proto="http",
        method=method,
        path=path,
        query_string=query,
        server="127.0.0.1:8080",
        client="127.0.0.1:40000",
        http_version="1.1",
        scheme="http",
        headers=dict(headers or {}),
        authority=None,
    )


@contextlib.contextmanager
def held_elsewhere(lock: Any, timeout: float = 10.0) -> Iterator[threading.Event]:
    """``lock`` held by another thread from the start of the block until its end, or until
    the event it yields is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(timeout)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout), "the lock was not taken"
        yield release
    finally:
        release.set()
        holder.join(timeout)
