"""The request journal and the outbox of one namespace: bounded, ordered, in memory."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from simulator.clock import Clock, iso
from simulator.http import BadBody, parse_json, parse_urlencoded

JOURNAL_BODY_LIMIT = 64 * 1024


class Raw:
    """A request or response as it went over the wire, decoded only when someone reads it.

    Journaling happens on every vendor request; reading the journal is rare. So an entry
    keeps the raw headers, query and body, and ``render`` turns them into JSON-ready values
    once. Request headers are kept as the WSGI environ's ``HTTP_*`` items.
    """

    __slots__ = ("headers", "data", "mimetype", "query", "environ_headers")

    def __init__(
        self,
        headers: list[tuple[str, str]],
        data: bytes,
        mimetype: str | None,
        query: str | None = None,
        environ_headers: bool = False,
    ) -> None:
        self.headers = headers
        self.data = data
        self.mimetype = mimetype
        self.query = query
        self.environ_headers = environ_headers

    def header_map(self) -> dict[str, str]:
        if not self.environ_headers:
            return dict(self.headers)
        return {
            (k[5:] if k.startswith("HTTP_") else k).replace("_", "-").title(): v
            for k, v in self.headers
        }

    def body(self) -> Any:
        """Parsed JSON for JSON, a field map for url-encoded forms, else text (64 KiB)."""
        data, mimetype = self.data, self.mimetype
        if not data:
            return None
        try:
            if mimetype and mimetype.endswith("json"):
                return parse_json(data)
            if mimetype == "application/x-www-form-urlencoded":
                return parse_urlencoded(data)
        except BadBody:
            pass
        text = data[:JOURNAL_BODY_LIMIT].decode("utf-8", errors="replace")
        return text + ("…" if len(data) > JOURNAL_BODY_LIMIT else "")


def _query_map(query: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in found:
            previous = found[name]
            found[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[name] = value
    return found


def render(entry: dict[str, Any]) -> dict[str, Any]:
    """Decode an entry's raw parts in place (once) and return it."""
    if isinstance(entry.get("at"), datetime):
        entry["at"] = iso(entry["at"])
    for part in ("request", "response"):
        raw = entry[part].pop("raw", None) if part in entry else None
        if raw is not None:
            if raw.query is not None:
                entry[part]["query"] = _query_map(raw.query)
            entry[part]["headers"] = raw.header_map()
            entry[part]["body"] = raw.body()
    return entry


class Log:
    """An append-only log of entries with increasing integer ids, keeping the newest ``limit``."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._ids = itertools.count(1)

    @property
    def limit(self) -> int:
        return self._entries.maxlen or 0

    def set_limit(self, limit: int) -> None:
        self._entries = deque(self._entries, maxlen=limit)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"id": next(self._ids), **entry}
        self._entries.append(entry)
        return entry

    def clear(self) -> None:
        self._entries.clear()

    def restart(self) -> None:
        self._entries.clear()
        self._ids = itertools.count(1)

    def get(self, entry_id: int) -> dict[str, Any] | None:
        # Ids increase by one, so the entry's position follows from the oldest kept id.
        if not self._entries:
            return None
        at = entry_id - self._entries[0]["id"]
        if 0 <= at < len(self._entries) and self._entries[at]["id"] == entry_id:
            return render(self._entries[at])
        return None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([render(e) for e in self._entries])

    def __len__(self) -> int:
        return len(self._entries)

    def query(
        self, keep: Callable[[dict[str, Any]], bool], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries ``keep`` accepts, oldest first; ``limit`` keeps the newest that many."""
        found = [e for e in self._entries if keep(e)]
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        return [render(e) for e in found]


class Outbox(Log):
    """Side effects that would have left the vendor: invites, emails, SMS."""

    def __init__(self, limit: int, clock: Clock) -> None:
        super().__init__(limit)
        self._clock = clock

    def send(self, vendor: str, kind: str, **fields: Any) -> dict[str, Any]:
        """Record one side effect now; returns the entry."""
        return self.append({"at": iso(self._clock.now()), "vendor": vendor, "kind": kind, **fields})
