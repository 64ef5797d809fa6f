"""The default engine: TinyDB in memory, through TinyDB's public API (and, for a state
load's inserts, our own storage's dict).

TinyDB's write path (``Table.insert``/``update``/``remove``) rebuilds the table's whole
dict on every write. So each logical table is sharded into TinyDB tables of ``BUCKET``
consecutive ids (``contacts/0``, ``contacts/1``, ...): a write costs a rebuild of one
bucket, whatever the table's size. Ids are ours (inserted as ``Document(doc, doc_id)``),
indexes are our own structures (``simulator.store.memory``), and ``MemoryStorage`` hands
TinyDB its live dict, so no whole-database copy or serialisation happens either.

Inserts into one bucket are handed to TinyDB together (``insert_multiple``) when the next
insert falls in another bucket, or before anything else touches TinyDB (an update, a
removal, an iteration): a TinyDB write costs about 9 µs however few documents it carries,
and loads and creations insert ascending ids. Reads see the held documents.

Within ``interface.deferring`` (a state load) a table fills its indexes in bulk, each
before its first read and the rest when the block ends (``settle``), and writes a bucket's
documents into the storage's dict itself (``flush``).

This module is the only one that imports tinydb.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document
from tinydb.table import Table as TinyTable

from simulator.store.interface import (
    ADOPTING,
    DEFERRED,
    Entry,
    HashContents,
    KeyFunc,
    OrderedContents,
    OrderFunc,
    Record,
    copy_json,
)
from simulator.store.memory import (
    HashIndex,
    MemoryCounters,
    MemoryDocuments,
    MemoryLog,
    OrderedIndex,
)

# Ids per TinyDB table. A write rebuilds one such table: flat up to 16 ids, then growing
# (+5-10 µs per write at 64, +25-40 µs at 128); each table costs a Table object (+29 bytes
# per record at 16 against 64). bench/store.py; figures in docs/serving.md.
BUCKET = 16
RawDoc = dict[str, Any]


class MemoryStorage(Storage):
    """TinyDB storage that keeps the database as one live dict, without copies: ``read``
    hands it out and ``write`` keeps what it is given (TinyDB writes back what it read)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, dict[str, RawDoc]] = {}

    def read(self) -> dict[str, dict[str, RawDoc]]:
        return self.data

    def write(self, data: dict[str, dict[str, RawDoc]]) -> None:
        self.data = data


class Table:
    """One logical table: its documents in TinyDB buckets, its indexes beside them."""

    def __init__(
        self,
        db: TinyDB,
        name: str,
        indexes: Mapping[str, KeyFunc],
        ordered: Mapping[str, OrderFunc],
    ) -> None:
        self.name = name
        self._db = db
        storage = db.storage
        assert isinstance(storage, MemoryStorage)
        self._storage = storage
        self._hash = {n: HashIndex(f) for n, f in indexes.items()}
        self._ordered = {n: OrderedIndex(f) for n, f in ordered.items()}
        # the indexes ``insert`` fills: all of them, but within ``interface.deferring``
        # (a state load) only those read since it began; ``_lazy`` holds the others, to be
        # filled in bulk with the documents of ``_unindexed`` (the stored dicts themselves:
        # within the block ``flush`` keeps them as they are)
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())
        self._lazy: tuple[list[HashIndex], list[OrderedIndex]] | None = None
        self._indexed = bool(indexes or ordered)
        self._block: list[Callable[[], None]] | None = None  # the block that deferred
        self._unindexed: list[tuple[int, RawDoc]] = []
        self._buckets: dict[int, TinyTable] = {}
        self._max_id = 0
        self._len = 0
        # inserted documents of one bucket, not yet handed to TinyDB
        self._pending: dict[int, RawDoc] = {}

    # -- the documents -------------------------------------------------------------------
    def _raw(self, doc_id: int) -> RawDoc | None:
        held = self._pending.get(doc_id)
        if held is not None:
            return held
        bucket = self._buckets.get(doc_id // BUCKET)
        if bucket is None:
            return None
        # int(): a state document's integer may arrive as 3.0 (JSON Schema admits it)
        return self._storage.data[bucket.name].get(str(int(doc_id)))

    def _bucket(self, doc_id: int) -> TinyTable:
        number = doc_id // BUCKET
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = self._db.table(f"{self.name}/{number}", cache_size=0)
        return bucket

    def flush(self) -> None:
        """Hand the inserted documents held back to TinyDB, in one ``insert_multiple``;
        within a bulk load (``interface.deferring``) straight into our storage's dict, as
        that call would leave it (each document under its id as a string) but without its
        two copies of each document (a sixth of a BOTW state load's time). The documents
        are our own already (``insert`` copied them, or adopted them)."""
        if self._pending:
            held, self._pending = self._pending, {}
            bucket = self._bucket(next(iter(held)))
            if DEFERRED.get() is None:
                bucket.insert_multiple(Document(doc, doc_id) for doc_id, doc in held.items())
            else:
                stored = self._storage.data.setdefault(bucket.name, {})
                stored.update({str(doc_id): doc for doc_id, doc in held.items()})

    # -- indexes -------------------------------------------------------------------------
    def _index(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        for h in self._hashes:
            h.add(doc_id, dict.fromkeys(h.keys(doc)))  # a None key is skipped there
        for o in self._orders:
            o.add(o.entries_of(doc_id, doc))

    def _defer(self, settles: list[Callable[[], None]]) -> None:
        """Put off filling every index on ``insert`` until ``settle`` (or a read of one)."""
        self._lazy = (self._hashes, self._orders)
        self._hashes, self._orders = [], []
        self._unindexed = []
        self._block = settles
        settles.append(self.settle)

    def _catch_up(self, index: HashIndex | OrderedIndex) -> None:
        """Fill ``index`` if it is behind (a read of it within a bulk load); from then on
        ``insert`` keeps it, as it keeps every index outside one."""
        assert self._lazy is not None
        hashes, orders = self._lazy
        if isinstance(index, HashIndex) and index in hashes:
            hashes.remove(index)
            self._hashes.append(index)
        elif isinstance(index, OrderedIndex) and index in orders:
            orders.remove(index)
            self._orders.append(index)
        else:
            return
        index.add_many(self._unindexed)

    def settle(self) -> None:
        """Fill every index that is behind, in bulk (the end of a ``deferring`` block)."""
        if self._lazy is None:
            self._block = None
            return
        hashes, orders = self._lazy
        for index in hashes:
            index.add_many(self._unindexed)
        for ordered in orders:
            ordered.add_many(self._unindexed)
        self._lazy, self._unindexed = None, []
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())

    def _unindex(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        for h in self._hashes:
            h.discard(doc_id, dict.fromkeys(h.keys(doc)))
        for o in self._orders:
            o.discard(o.entries_of(doc_id, doc))

    # -- writes --------------------------------------------------------------------------
    def allocate_id(self) -> int:
        self._max_id += 1
        return self._max_id

    def insert(self, doc: Mapping[str, Any], doc_id: int | None = None) -> int:
        if doc_id is None:
            doc_id = self.allocate_id()  # above every id: never taken
        elif self._raw(doc_id) is not None:
            raise ValueError(f"Document with ID {doc_id} already exists")
        else:
            doc_id = int(doc_id)
        held = self._pending
        if held and next(iter(held)) // BUCKET != doc_id // BUCKET:
            self.flush()
        if self._lazy is None and self._indexed:
            settles = DEFERRED.get()
            if settles is not None and settles is not self._block:  # once per block
                self._defer(settles)
        if ADOPTING.get():  # a state load's own documents (interface.adopting)
            stored = doc if type(doc) is dict else dict(doc)
        else:
            stored = {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in doc.items()}
        self._pending[doc_id] = stored
        if doc_id > self._max_id:
            self._max_id = doc_id
        self._len += 1
        if self._lazy is not None:
            self._unindexed.append((doc_id, stored))
        self._index(doc_id, stored)
        return doc_id

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> bool:
        self.settle()
        if doc_id in self._pending:
            self.flush()
        raw = self._raw(doc_id)
        if raw is None:
            return False
        hashes = [(h, dict.fromkeys(h.keys(raw))) for h in self._hashes]
        orders = [(o, o.entries_of(doc_id, raw)) for o in self._orders]
        self._buckets[doc_id // BUCKET].update(
            {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in fields.items()},
            doc_ids=[doc_id],
        )
        raw = self._raw(doc_id)
        assert raw is not None
        for h, before in hashes:
            after = dict.fromkeys(h.keys(raw))
            if after != before:
                h.discard(doc_id, [k for k in before if k not in after])
                h.add(doc_id, [k for k in after if k not in before])
        for o, was in orders:
            now = o.entries_of(doc_id, raw)
            if now != was:
                o.discard([e for e in was if e not in now])
                o.add([e for e in now if e not in was])
        return True

    def remove(self, doc_ids: Iterable[int]) -> list[int]:
        self.settle()
        self.flush()
        removed: dict[int, list[int]] = {}
        for doc_id in dict.fromkeys(doc_ids):
            raw = self._raw(doc_id)
            if raw is not None:
                self._unindex(doc_id, raw)
                removed.setdefault(doc_id // BUCKET, []).append(doc_id)
        for number, ids in removed.items():
            bucket = self._buckets[number]
            bucket.remove(doc_ids=ids)
            self._len -= len(ids)
            if not len(bucket):
                self._db.drop_table(bucket.name)
                del self._buckets[number]
        return [doc_id for ids in removed.values() for doc_id in ids]

    def truncate(self) -> None:
        self._pending = {}
        self._lazy, self._unindexed = None, []
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())
        for bucket in self._buckets.values():
            self._db.drop_table(bucket.name)
        self._buckets.clear()
        for h in self._hash.values():
            h.clear()
        for o in self._ordered.values():
            o.clear()
        self._max_id = self._len = 0

    # -- reads ---------------------------------------------------------------------------
    def get(self, doc_id: int) -> Record | None:
        raw = self._raw(doc_id)
        return None if raw is None else Record(raw, doc_id)

    def get_many(self, doc_ids: Iterable[int]) -> list[Record | None]:
        found: list[Record | None] = []
        for doc_id in doc_ids:
            raw = self._raw(doc_id)
            found.append(None if raw is None else Record(raw, int(doc_id)))
        return found

    def contains(self, doc_id: int) -> bool:
        return self._raw(doc_id) is not None

    def lookup(self, index: str, key: Hashable) -> list[Record]:
        found = []
        for doc_id in self.lookup_ids(index, key):
            raw = self._raw(doc_id)
            assert raw is not None  # an index names stored documents only
            found.append(Record(raw, doc_id))
        return found

    def lookup_ids(self, index: str, key: Hashable) -> list[int]:
        found = self._hash[index]
        if self._lazy is not None:
            self._catch_up(found)
        return found.ids(key)

    def _sorted(self, index: str) -> OrderedIndex:
        found = self._ordered[index]
        if self._lazy is not None:
            self._catch_up(found)
        return found

    def ordered(
        self,
        index: str,
        group: Hashable,
        lo: Any = None,
        hi: Any = None,
        limit: int | None = None,
    ) -> list[Entry]:
        return self._sorted(index).range(group, lo, hi, limit)

    def ordered_slice(self, index: str, group: Hashable, start: int, stop: int) -> list[Entry]:
        return self._sorted(index).slice(group, start, stop)

    def ordered_count(self, index: str, group: Hashable, lo: Any = None, hi: Any = None) -> int:
        return self._sorted(index).count(group, lo, hi)

    def __iter__(self) -> Iterator[Record]:
        self.flush()
        data = self._storage.data
        for number in sorted(self._buckets):
            raw = data[self._buckets[number].name]
            for doc_id in sorted(map(int, raw)):
                yield Record(raw[str(doc_id)], doc_id)

    def __len__(self) -> int:
        return self._len

    def last_id(self) -> int:
        return self._max_id

    def index_contents(self) -> tuple[HashContents, OrderedContents]:
        self.settle()
        hashes = {name: index.items() for name, index in self._hash.items()}
        return hashes, {name: index.items() for name, index in self._ordered.items()}

    def load(
        self,
        records: Iterable[Record],
        last_id: int = 0,
        contents: tuple[HashContents, OrderedContents] | None = None,
    ) -> int:
        # insert() keeps no more state than a load needs (its id check is one dict read);
        # the key functions run here whatever ``contents`` says (they are this engine's
        # way to fill its indexes, and cheap)
        count = 0
        for record in records:
            self.insert(record, record.doc_id)
            count += 1
        if last_id > self._max_id:
            self._max_id = int(last_id)
        return count


class Engine:
    """The parts of one store, in this process: tables in one TinyDB database."""

    def __init__(self) -> None:
        self._db = TinyDB(storage=MemoryStorage)
        self._tables: dict[str, Table] = {}

    def table(
        self, name: str, indexes: Mapping[str, KeyFunc], ordered: Mapping[str, OrderFunc]
    ) -> Table:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = Table(self._db, name, indexes, ordered)
        return found

    def counters(self) -> MemoryCounters:
        return MemoryCounters()

    def documents(self) -> MemoryDocuments:
        return MemoryDocuments()

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> MemoryLog:
        return MemoryLog(limit, max_bytes)
