"""The store: what a vendor backend keeps in one namespace, behind an interface of our own.

``Store`` hands out the parts (tables with hash and ordered indexes, counters, small
documents, capped logs) made by an engine: by default ``simulator.store.tiny`` (TinyDB in
this process). The protocols in ``simulator.store.interface`` are what an engine
implements and what backends may rely on; nothing outside this package imports tinydb.
Callers hold the namespace lock (``World.lock``) around every read-modify-write.
"""

from __future__ import annotations

from collections.abc import Mapping

from simulator.store.interface import (
    CappedLog,
    Counters,
    Documents,
    Engine,
    Entry,
    KeyFunc,
    OrderFunc,
    Record,
    Table,
    copy_json,
)
from simulator.store.tiny import Engine as TinyEngine

__all__ = [
    "CappedLog",
    "Counters",
    "Documents",
    "Engine",
    "Entry",
    "KeyFunc",
    "OrderFunc",
    "Record",
    "Store",
    "Table",
    "copy_json",
]


class Store:
    """One vendor's store in one namespace: its tables, counters and documents."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = TinyEngine() if engine is None else engine
        self._counters: Counters | None = None
        self._documents: Documents | None = None

    def table(
        self,
        name: str,
        indexes: Mapping[str, KeyFunc] | None = None,
        ordered: Mapping[str, OrderFunc] | None = None,
    ) -> Table:
        """The table ``name``, declared with the key functions of its indexes (a second
        declaration of a name gets the first table)."""
        return self.engine.table(name, indexes or {}, ordered or {})

    @property
    def counters(self) -> Counters:
        if self._counters is None:
            self._counters = self.engine.counters()
        return self._counters

    @property
    def documents(self) -> Documents:
        if self._documents is None:
            self._documents = self.engine.documents()
        return self._documents

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> CappedLog:
        """A capped log (journal, outbox): the newest ``limit`` entries within ``max_bytes``."""
        return self.engine.log(name, limit, max_bytes)
