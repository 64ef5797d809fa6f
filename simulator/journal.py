"""The request journal and the outbox of one namespace: bounded, ordered, in memory."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from simulator.clock import Clock, iso


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
            return self._entries[at]
        return None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def query(
        self, keep: Callable[[dict[str, Any]], bool], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries ``keep`` accepts, oldest first; ``limit`` keeps the newest that many."""
        found = [e for e in self._entries if keep(e)]
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        return found


class Outbox(Log):
    """Side effects that would have left the vendor: invites, emails, SMS."""

    def __init__(self, limit: int, clock: Clock) -> None:
        super().__init__(limit)
        self._clock = clock

    def send(self, vendor: str, kind: str, **fields: Any) -> dict[str, Any]:
        """Record one side effect now; returns the entry."""
        return self.append({"at": iso(self._clock.now()), "vendor": vendor, "kind": kind, **fields})
