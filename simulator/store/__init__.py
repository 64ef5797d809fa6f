"""The store: what a vendor backend keeps in one namespace, behind an interface of our own.

``Store`` hands out the parts (tables with hash and ordered indexes, counters, small
documents, capped logs) made by an engine: by default ``simulator.store.tiny`` (TinyDB in
this process). The protocols in ``simulator.store.interface`` are what an engine
implements and what backends may rely on; nothing outside this package imports tinydb.
Callers hold the namespace lock (``World.lock``) around every read-modify-write.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping

from simulator.store.interface import (
    CappedLog,
    Counters,
    Documents,
    Engine,
    Entry,
    Fill,
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
    "Fill",
    "KeyFunc",
    "OrderFunc",
    "Record",
    "Store",
    "Table",
    "copy_json",
    "gc_paused",
]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a bulk load or copy, on again after
    (unless it was off before). Such a load allocates millions of objects that live on,
    and each full collection on the way walks every object of the process: a third of
    the CPU of an AntCRM ``load_state`` of 100,000 records, two thirds of a copy's reads
    (docs/scale-out.md, "Measured"). Process-wide while it lasts: other threads run
    without collections too (reference counting still frees what they drop)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Store:
    """One vendor's store in one namespace: its tables, counters and documents."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = TinyEngine() if engine is None else engine
        self._counters: Counters | None = None
        self._documents: Documents | None = None
        # name -> (table, its indexes' key functions, its fill), as first declared
        self._tables: dict[
            str, tuple[Table, Mapping[str, KeyFunc], Mapping[str, OrderFunc], Fill | None]
        ] = {}

    def table(
        self,
        name: str,
        indexes: Mapping[str, KeyFunc] | None = None,
        ordered: Mapping[str, OrderFunc] | None = None,
        fill: Fill | None = None,
    ) -> Table:
        """The table ``name``, declared with the key functions of its indexes and its
        ``fill`` (``Engine.table``; a second declaration of a name gets the first table)."""
        found = self._tables.get(name)
        if found is None:
            indexes, ordered = indexes or {}, ordered or {}
            table = self.engine.table(name, indexes, ordered, fill)
            found = self._tables[name] = (table, indexes, ordered, fill)
        return found[0]

    def copy_to(self, target: Store) -> None:
        """Copy what this store holds into ``target``, a store that holds nothing yet (a
        fresh store name; any engine): every table declared here, each declared in
        ``target`` with this store's key functions unless ``target`` already declared it
        (a backend built over ``target`` declares the same), with its documents under their
        ids and its id allocator's high-water mark (the next id continues after this
        store's); every counter; every document. Logs are not copied (a vendor store keeps
        none: the journal and outbox are the world's).

        Table by table (``Table.load``, given the source's index contents, so no key
        function runs again; on Redis pipelined: bulk ``HSET``s and ``ZADD``s, no round
        trip per record), counters in one call, a call per document. Nobody may
        write to either store meanwhile. ``ValueError`` when a target table holds
        documents (nothing is copied then)."""
        pairs = [
            (table, target.table(name, indexes, ordered, fill))
            for name, (table, indexes, ordered, fill) in self._tables.items()
        ]
        taken = [dest.name for _, dest in pairs if len(dest)]
        if taken:
            raise ValueError(f"the target store's tables hold documents: {', '.join(taken)}")
        with gc_paused():
            for source, dest in pairs:
                dest.load(source, source.last_id(), source.index_contents())
        target.counters.raise_all(self.counters.items())
        for name, value in self.documents.items():
            target.documents.put(name, value)

    def compact(self) -> list[Callable[[], int]]:
        """The first step of ``Table.compact`` for each table that a large load filled (an
        engine whose tables have none keeps its memory its own way): the functions that
        finish them."""
        steps = []
        for table, *_ in self._tables.values():
            compact = getattr(table, "compact", None)
            step = compact() if compact is not None else None
            if step is not None:
                steps.append(step)
        return steps

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
