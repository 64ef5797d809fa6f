"""The default engine: TinyDB in memory, through TinyDB's public API (and, for a state
load's inserts, our own storage's dict).

A document is stored packed (``simulator.store.compact``: marshal bytes of its values, its
keys kept once per shape), ``BUCKET`` consecutive ids to a TinyDB document: the TinyDB
document of bucket ``b`` is ``{slot: bytes, ...}`` (``slot = id % BUCKET``; int keys,
which no JSON object has) under TinyDB id ``b + 1``. A document that does not pack is held
as the dict it is. A read unpacks a fresh copy. So a stored BOTW contact costs its 140
bytes and a twelfth of a dict's slots, where as a dict with a TinyDB document of its own it
cost about 1.2 KiB (docs/serving.md).

TinyDB's write path (``Table.insert``/``update``/``remove``) rebuilds the TinyDB table's
whole dict on every write. So each logical table is sharded into TinyDB tables of ``SHARD``
buckets (``contacts/0``, ``contacts/1``, ...): a write costs a rebuild of one shard's few
TinyDB documents, whatever the table's size. Ids are ours, indexes are our own structures
(``simulator.store.memory``), and ``MemoryStorage`` hands TinyDB its live dict, so no
whole-database copy or serialisation happens either.

Inserts into one bucket are handed to TinyDB together (one write) when the next insert
falls in another bucket, or before anything else touches TinyDB (an update, a removal, an
iteration): a TinyDB write costs about 9 µs however few documents it carries, and loads
and creations insert ascending ids. Reads see the held documents.

Within ``interface.deferring`` (a state load) a table keeps the documents it is given as
dicts, fills its indexes in bulk, each before its first read and the rest when the block
ends (``settle``), then packs the documents, and writes buckets into the storage's dict
itself (``flush``). What a large load made is moved into memory of its own once its
parsed document is gone (``Table.compact``): half of its RSS was otherwise that
document's memory, held by what the load kept.

This module is the only one that imports tinydb.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from sortedcontainers import SortedList
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document
from tinydb.table import Table as TinyTable

from simulator.store.compact import Shapes, Unpackable
from simulator.store.interface import (
    ADOPTING,
    DEFERRED,
    Entry,
    Fill,
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

# Ids per TinyDB document, and TinyDB documents per TinyDB table. A write rebuilds one
# TinyDB table's dict (``SHARD`` entries) and changes one document; each TinyDB document
# costs a dict (about 640 bytes at 16 slots: 40 per stored document) and each TinyDB table
# a Table object. bench/store.py; figures in docs/serving.md.
BUCKET = 16
SHARD = 16
Held = Any  # a document as TinyDB holds it: its packed bytes, or the dict itself
_DONE: tuple[int, dict[str, Any]] = (0, {})  # a packed document's place in a load's list
# Documents of one bulk load from which the table is compacted once the load's document is
# gone (``Table.compact``: about 3.5 µs per document; below this, what it frees is small).
COMPACT_AT = 10_000


def _written(parts: list[dict[Any, Any]]) -> tuple[bytes, bool, list[list[Hashable]]]:
    """Indexes' dicts as bytes: ``marshal``'s when it can write them (it is faster than
    pickle, and writes an object shared among them once, ints included: a document's id
    in each index), else pickle's (a datetime: CRM.COM orders provisioning requests by
    one). A run that is a ``SortedList`` is written as its list (the dicts are let go
    after: changed in place): the keys of those runs come along, per dict."""
    runs = []
    for part in parts:
        keys = [key for key, run in part.items() if type(run) is SortedList]
        for key in keys:
            part[key] = list(part[key])
        runs.append(keys)
    try:
        return marshal.dumps(parts), True, runs
    except ValueError:
        return pickle.dumps(parts, pickle.HIGHEST_PROTOCOL), False, runs


def _read(data: bytes, marshalled: bool, runs: list[list[Hashable]]) -> list[dict[Any, Any]]:
    """What ``_written`` wrote, its runs ``SortedList``s again."""
    parts: list[dict[Any, Any]] = marshal.loads(data) if marshalled else pickle.loads(data)
    for part, keys in zip(parts, runs, strict=True):
        for key in keys:
            part[key] = SortedList(part[key])
    return parts


def _dropping(slots: list[int]) -> Callable[[MutableMapping[int, Held]], None]:
    """A TinyDB update that removes these slots from a bucket's document."""

    def drop(doc: MutableMapping[int, Held]) -> None:
        for slot in slots:
            del doc[slot]

    return drop


class MemoryStorage(Storage):
    """TinyDB storage that keeps the database as one live dict, without copies: ``read``
    hands it out and ``write`` keeps what it is given (TinyDB writes back what it read)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, dict[str, dict[int, Held]]] = {}

    def read(self) -> dict[str, dict[str, dict[int, Held]]]:
        return self.data

    def write(self, data: dict[str, dict[str, dict[int, Held]]]) -> None:
        self.data = data


class Table:
    """One logical table: its documents in TinyDB, its indexes beside them."""

    def __init__(
        self,
        db: TinyDB,
        name: str,
        indexes: Mapping[str, KeyFunc],
        ordered: Mapping[str, OrderFunc],
        fill: Fill | None = None,
    ) -> None:
        self.name = name
        self._fill = fill
        self._db = db
        storage = db.storage
        assert isinstance(storage, MemoryStorage)
        self._storage = storage
        self._hash = {n: HashIndex(f) for n, f in indexes.items()}
        self._ordered = {n: OrderedIndex(f) for n, f in ordered.items()}
        # the indexes ``insert`` fills: all of them, but within ``interface.deferring``
        # (a state load) only those read since it began; ``_lazy`` holds the others, to be
        # filled in bulk with the documents of ``_unindexed`` (the block's documents by id,
        # held as dicts: they are packed and written only once the indexes are filled)
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())
        self._lazy: tuple[list[HashIndex], list[OrderedIndex]] | None = None
        self._indexed = bool(indexes or ordered)
        self._block: list[Callable[[], None]] | None = None  # the block that deferred
        self._unindexed: dict[int, dict[str, Any]] = {}
        self._shards: dict[int, TinyTable] = {}
        self._max_id = 0
        self._len = 0
        # inserted documents of one bucket, not yet handed to TinyDB
        self._pending: dict[int, Held] = {}
        self._shapes = Shapes()
        self.compact_due = False  # a large bulk load settled since the last ``compact``

    # -- packing -------------------------------------------------------------------------
    def _keep(self, doc: Mapping[str, Any], own: bool) -> Held:
        """What TinyDB holds for ``doc``: its packed bytes, else (it does not pack) the
        dict itself if ``own`` (nobody else holds it), else a deep copy."""
        try:
            return self._shapes.pack(doc)
        except Unpackable:
            return self._keep_whole(doc, own)

    @staticmethod
    def _keep_whole(doc: Mapping[str, Any], own: bool) -> dict[str, Any]:
        if own and type(doc) is dict:
            return doc
        return {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in doc.items()}

    def _open(self, held: Held) -> dict[str, Any]:
        """The document ``held`` is, as new objects (a dict held is copied whole), filled
        (``Engine.table``)."""
        doc: dict[str, Any] = self._shapes.unpack(held) if type(held) is bytes else copy_json(held)
        return doc if self._fill is None else self._fill(doc)

    def _doc(self, doc_id: int) -> dict[str, Any] | None:
        held = self._raw(doc_id)
        return None if held is None else self._open(held)

    # -- the documents -------------------------------------------------------------------
    def _raw(self, doc_id: int) -> Held | None:
        held = self._pending.get(doc_id)
        if held is not None:
            return held
        if self._unindexed:  # within a bulk load
            held = self._unindexed.get(doc_id)
            if held is not None:
                return held
        # int(): a state document's integer may arrive as 3.0 (JSON Schema admits it)
        bucket, slot = divmod(int(doc_id), BUCKET)
        shard = self._shards.get(bucket // SHARD)
        if shard is None:
            return None
        found = self._storage.data[shard.name].get(str(bucket + 1))
        return None if found is None else found.get(slot)

    def _shard(self, bucket: int) -> TinyTable:
        number = bucket // SHARD
        shard = self._shards.get(number)
        if shard is None:
            shard = self._shards[number] = self._db.table(f"{self.name}/{number}", cache_size=0)
        return shard

    def flush(self) -> None:
        """Hand the inserted documents held back to TinyDB: one bucket's, in one write (a
        new TinyDB document, or an update of the bucket's); within a bulk load
        (``interface.deferring``) straight into our storage's dict, as that write would
        leave it but without TinyDB's copies (a sixth of a BOTW state load's time)."""
        if not self._pending:
            return
        held, self._pending = self._pending, {}
        bucket = next(iter(held)) // BUCKET
        shard = self._shard(bucket)
        slots = {doc_id % BUCKET: doc for doc_id, doc in held.items()}
        stored = self._storage.data.setdefault(shard.name, {})
        found = stored.get(str(bucket + 1))
        if DEFERRED.get() is not None:
            if found is None:
                stored[str(bucket + 1)] = slots
            else:
                found.update(slots)
        elif found is None:
            shard.insert(Document(slots, bucket + 1))
        else:
            shard.update(lambda doc: doc.update(slots), doc_ids=[bucket + 1])

    # -- indexes -------------------------------------------------------------------------
    def _index(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        for h in self._hashes:
            h.add(doc_id, dict.fromkeys(h.keys(doc)))  # a None key is skipped there
        for o in self._orders:
            o.add(o.entries_of(doc_id, doc))

    def _defer(self, settles: list[Callable[[], None]]) -> None:
        """Put off filling every index on ``insert`` until ``settle`` (or a read of one)."""
        self.flush()
        self._lazy = (self._hashes, self._orders)
        self._hashes, self._orders = [], []
        self._unindexed = {}
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
        index.add_many(self._unindexed.items())

    def settle(self) -> None:
        """Fill every index that is behind, in bulk (the end of a ``deferring`` block), then
        pack the block's documents and write them (the buckets' TinyDB documents first,
        then each document, its dict let go as it is packed). A block of ``COMPACT_AT``
        documents or more marks the table for ``compact``."""
        if self._lazy is None:
            self._block = None
            return
        hashes, orders = self._lazy
        docs = list(self._unindexed.items())
        self._unindexed = {}
        for index in hashes:
            index.add_many(docs)
        for ordered in orders:
            ordered.add_many(docs)
        self._lazy = None
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())
        if len(docs) >= COMPACT_AT:
            self.compact_due = True
        self._write_kept(docs)

    def compact(self) -> Callable[[], int] | None:
        """After a large bulk load, once nothing holds its parsed document any more: move
        what the table's indexes keep into memory of their own. Two steps: this one
        writes the indexes' dicts and lets them go, the function it returns reads them
        back (and answers the number of documents the table holds); None when nothing is
        due (``compact_due``). A caller with several tables writes them all before it
        reads any back: what is read back is otherwise made among what the others still
        hold.

        Python's allocator hands an arena (1 MiB) back to the system only once every
        object in it is gone. A load's index keys and entries are made among the parsed
        document's objects (or are its strings), so each of them kept an arena of that
        document alive after it was dropped: 100,000 AntCRM customers left 1.77 KiB of RSS
        each, a third of it arenas all but empty (``sys._debugmallocstats``). Written
        (``_written``) and read back, the keys and entries are made together, in arenas
        of their own, and the old ones go with the arenas they held: 1.21 KiB per customer,
        for 0.3 s of a load of 100,000 (docs/serving.md, "Memory per record"). The packed
        documents are left where they are (bytes that grew past Python's small-object
        size while they were written, so in C's heap, which ``malloc_trim`` tidies: moved,
        they saved nothing). Nobody may use the table between the two steps: the caller
        holds the namespace's lock."""
        if not self.compact_due:
            return None
        self.compact_due = False
        hashes, orders = list(self._hash.values()), list(self._ordered.values())
        parts = [h._ids for h in hashes] + [o._groups for o in orders]
        written = _written(parts)
        del parts  # the old dicts go now: their objects (and the arenas they hold) with them
        for h in hashes:
            h._ids = {}
        for o in orders:
            o._groups = {}

        def read_back() -> int:
            parts = _read(*written)
            for h in hashes:
                h._ids = parts.pop(0)
            for o in orders:
                o._groups = parts.pop(0)
            return len(self)

        return read_back

    def _write_kept(self, docs: list[tuple[int, dict[str, Any]]]) -> None:
        """Write a bulk load's documents (ascending ids, mostly) into our storage's dict,
        packed: the buckets' TinyDB documents first (slots held by None), then each
        document's bytes, its dict let go as they are made."""
        data = self._storage.data
        buckets: dict[int, dict[int, Held]] = {}
        for doc_id, _ in docs:
            bucket = doc_id // BUCKET
            if bucket not in buckets:
                stored = data.setdefault(self._shard(bucket).name, {})
                found = stored.get(str(bucket + 1))
                if found is None:
                    found = stored[str(bucket + 1)] = dict.fromkeys(range(BUCKET))
                buckets[bucket] = found
        for n, (doc_id, doc) in enumerate(docs):
            docs[n] = _DONE  # the list's hold on the dict goes first (nothing new made)
            bucket, slot = divmod(doc_id, BUCKET)
            buckets[bucket][slot] = self._keep(doc, own=True)
            del doc
        for found in buckets.values():
            for slot in [slot for slot, held in found.items() if held is None]:
                del found[slot]

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
        own = ADOPTING.get()  # a state load's own documents (interface.adopting)
        if self._lazy is None:
            self._pending[doc_id] = self._keep(doc, own)
            self._index(doc_id, doc)
        else:  # indexed, packed and written at the block's end (``settle``)
            kept = self._unindexed[doc_id] = self._keep_whole(doc, own)
            if self._hashes or self._orders:  # the indexes read within the block
                self._index(doc_id, kept)
        if doc_id > self._max_id:
            self._max_id = doc_id
        self._len += 1
        return doc_id

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> bool:
        self.settle()
        if doc_id in self._pending:
            self.flush()
        raw = self._doc(doc_id)
        if raw is None:
            return False
        hashes = [(h, dict.fromkeys(h.keys(raw))) for h in self._hashes]
        orders = [(o, o.entries_of(doc_id, raw)) for o in self._orders]
        raw.update(fields)
        held = self._keep(raw, own=False)
        bucket, slot = divmod(int(doc_id), BUCKET)

        def replace(doc: MutableMapping[int, Held]) -> None:  # TinyDB's update with a function
            doc[slot] = held

        self._shards[bucket // SHARD].update(replace, doc_ids=[bucket + 1])
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
        removed: dict[int, list[int]] = {}  # bucket -> ids
        for doc_id in dict.fromkeys(doc_ids):
            raw = self._doc(doc_id)
            if raw is not None:
                self._unindex(doc_id, raw)
                removed.setdefault(int(doc_id) // BUCKET, []).append(doc_id)
        data = self._storage.data
        for bucket, ids in removed.items():
            shard = self._shards[bucket // SHARD]
            slots = [int(doc_id) % BUCKET for doc_id in ids]
            if len(data[shard.name][str(bucket + 1)]) == len(slots):
                shard.remove(doc_ids=[bucket + 1])
            else:
                shard.update(_dropping(slots), doc_ids=[bucket + 1])
            self._len -= len(ids)
            if not len(shard):
                self._db.drop_table(shard.name)
                del self._shards[bucket // SHARD]
        return [doc_id for ids in removed.values() for doc_id in ids]

    def truncate(self) -> None:
        self._pending = {}
        self._lazy, self._unindexed = None, {}
        self._hashes, self._orders = list(self._hash.values()), list(self._ordered.values())
        for shard in self._shards.values():
            self._db.drop_table(shard.name)
        self._shards.clear()
        for h in self._hash.values():
            h.clear()
        for o in self._ordered.values():
            o.clear()
        self._max_id = self._len = 0

    # -- reads ---------------------------------------------------------------------------
    def get(self, doc_id: int) -> Record | None:
        raw = self._raw(doc_id)
        return None if raw is None else Record(self._open(raw), doc_id)

    def get_many(self, doc_ids: Iterable[int]) -> list[Record | None]:
        found: list[Record | None] = []
        for doc_id in doc_ids:
            raw = self._raw(doc_id)
            found.append(None if raw is None else Record(self._open(raw), int(doc_id)))
        return found

    def contains(self, doc_id: int) -> bool:
        return self._raw(doc_id) is not None

    def lookup(self, index: str, key: Hashable) -> list[Record]:
        found = []
        for doc_id in self.lookup_ids(index, key):
            raw = self._raw(doc_id)
            assert raw is not None  # an index names stored documents only
            found.append(Record(self._open(raw), doc_id))
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
        self.settle()
        self.flush()
        data = self._storage.data
        for number in sorted(self._shards):
            docs = data[self._shards[number].name]
            for bucket in sorted(map(int, docs)):
                doc, first = docs[str(bucket)], (bucket - 1) * BUCKET
                for slot in sorted(doc):
                    yield Record(self._open(doc[slot]), first + slot)

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
        self,
        name: str,
        indexes: Mapping[str, KeyFunc],
        ordered: Mapping[str, OrderFunc],
        fill: Fill | None = None,
    ) -> Table:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = Table(self._db, name, indexes, ordered, fill)
        return found

    def counters(self) -> MemoryCounters:
        return MemoryCounters()

    def documents(self) -> MemoryDocuments:
        return MemoryDocuments()

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> MemoryLog:
        return MemoryLog(limit, max_bytes)
