"""The store: TinyDB tables whose writes touch one document and whose lookups use indexes.

TinyDB's own ``Table`` reads the whole database from its storage, rebuilds the table and
writes it back on every insert, update or remove, and scans every document on every search.
That makes each request cost more as a table grows. crmsim keeps TinyDB as its store and
uses two of its extension points instead:

* ``LiveMemoryStorage`` keeps every table as a live ``dict`` keyed by document id, so a
  table can reach its own documents without a whole-database read/write round trip (the
  whole-database ``read()``/``write()`` still work, for snapshots);
* ``IndexedTable`` (the database's ``table_class``) applies each write to that dict in
  place and keeps hash indexes (``lookup``) and ordered indexes (``ordered``) up to date, so
  that a write or a lookup costs the same with ten documents or a million.

The store knows no vendor's fields: each vendor backend declares its tables and the key
functions of their indexes. Callers hold the namespace lock (``World.lock``) around every
read-modify-write, so requests on many threads never lose or double a write.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

Doc = dict[str, Any]
KeyFunc = Callable[[Mapping[str, Any]], Iterable[Hashable]]
OrderFunc = Callable[[Mapping[str, Any]], Iterable[tuple[Hashable, Any]]]


class LiveMemoryStorage(Storage):
    """Memory storage holding each table as a live ``{doc_id: document}`` dict."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[int, Doc]] = {}

    def live(self, name: str) -> dict[int, Doc]:
        """The live dict of one table (created empty on first use)."""
        return self.tables.setdefault(name, {})

    def read(self) -> dict[str, dict[str, Doc]] | None:
        if not self.tables:
            return None
        return {name: {str(k): v for k, v in t.items()} for name, t in self.tables.items()}

    def write(self, data: dict[str, dict[str, Doc]]) -> None:
        for name in list(self.tables):
            if name not in data:
                self.tables[name].clear()
        for name, table in data.items():
            live = self.live(name)
            live.clear()
            live.update({int(k): v for k, v in table.items()})


class HashIndex:
    """Maps each key a document yields to the ids of the documents that yield it."""

    def __init__(self, keys: KeyFunc) -> None:
        self._keys = keys
        self._by_key: dict[Hashable, dict[int, None]] = {}
        self._by_doc: dict[int, tuple[Hashable, ...]] = {}

    def add(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        keys = tuple(dict.fromkeys(k for k in self._keys(doc) if k is not None))
        self._by_doc[doc_id] = keys
        for key in keys:
            self._by_key.setdefault(key, {})[doc_id] = None

    def discard(self, doc_id: int) -> None:
        for key in self._by_doc.pop(doc_id, ()):
            ids = self._by_key.get(key)
            if ids is not None:
                ids.pop(doc_id, None)
                if not ids:
                    del self._by_key[key]

    def ids(self, key: Hashable) -> list[int]:
        """Ids of the documents with this key, oldest (lowest id) first."""
        return sorted(self._by_key.get(key, ()))

    def clear(self) -> None:
        self._by_key.clear()
        self._by_doc.clear()


class OrderedIndex:
    """Per group, the documents' ids kept sorted by an order key (``bisect``, no scans)."""

    def __init__(self, entries: OrderFunc) -> None:
        self._entries = entries
        self._groups: dict[Hashable, list[tuple[Any, int]]] = {}
        self._by_doc: dict[int, tuple[tuple[Hashable, Any], ...]] = {}

    def add(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        entries = tuple(self._entries(doc))
        self._by_doc[doc_id] = entries
        for group, order in entries:
            bisect.insort(self._groups.setdefault(group, []), (order, doc_id))

    def discard(self, doc_id: int) -> None:
        for group, order in self._by_doc.pop(doc_id, ()):
            items = self._groups[group]
            at = bisect.bisect_left(items, (order, doc_id))
            if at < len(items) and items[at] == (order, doc_id):
                del items[at]
            if not items:
                del self._groups[group]

    def items(self, group: Hashable) -> list[tuple[Any, int]]:
        """``(order key, doc id)`` pairs of one group, ascending. Do not modify."""
        return self._groups.get(group, [])

    def clear(self) -> None:
        self._groups.clear()
        self._by_doc.clear()


class IndexedTable(Table):
    """A TinyDB table that writes in place and answers lookups from its indexes."""

    def __init__(
        self,
        storage: LiveMemoryStorage,
        name: str,
        indexes: Mapping[str, KeyFunc] | None = None,
        ordered: Mapping[str, OrderFunc] | None = None,
    ) -> None:
        self._live = storage.live(name)
        self._max_id = max(self._live, default=0)
        self._hash = {n: HashIndex(f) for n, f in (indexes or {}).items()}
        self._ordered = {n: OrderedIndex(f) for n, f in (ordered or {}).items()}
        super().__init__(storage, name, cache_size=0)
        for doc_id, doc in self._live.items():
            self._index(doc_id, doc)

    # -- TinyDB extension points -------------------------------------------------------
    def _read_table(self) -> dict[int, Doc]:  # type: ignore[override]
        return self._live

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        updater(self._live)  # type: ignore[arg-type]

    def _get_next_id(self) -> int:
        self._max_id += 1
        return self._max_id

    def allocate_id(self) -> int:
        """A fresh document id (one above the highest ever used), for ids that are data too."""
        return self._get_next_id()

    # -- writes keep the indexes in step -----------------------------------------------
    def _all_indexes(self) -> list[HashIndex | OrderedIndex]:
        return [*self._hash.values(), *self._ordered.values()]

    def _index(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        self._max_id = max(self._max_id, doc_id)
        for index in self._all_indexes():
            index.add(doc_id, doc)

    def _unindex(self, doc_id: int) -> None:
        for index in self._all_indexes():
            index.discard(doc_id)

    def insert(self, document: Mapping[str, Any]) -> int:
        doc_id: int = super().insert(document)
        self._index(doc_id, self._live[doc_id])
        return doc_id

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        return [self.insert(doc) for doc in documents]

    def update(  # type: ignore[override]
        self,
        fields: Mapping[str, Any] | Callable[[Mapping[str, Any]], None],
        cond: Any = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        updated: list[int] = super().update(fields, cond=cond, doc_ids=doc_ids)
        for doc_id in updated:
            self._unindex(doc_id)
            self._index(doc_id, self._live[doc_id])
        return updated

    def remove(self, cond: Any = None, doc_ids: Iterable[int] | None = None) -> list[int]:
        removed: list[int] = super().remove(cond=cond, doc_ids=doc_ids)
        for doc_id in removed:
            self._unindex(doc_id)
        return removed

    def truncate(self) -> None:
        self._live.clear()
        self._max_id = 0
        for index in self._all_indexes():
            index.clear()

    # -- reads --------------------------------------------------------------------------
    def get(  # type: ignore[override]
        self, cond: Any = None, doc_id: int | None = None, doc_ids: Any = None
    ) -> Document | list[Document] | None:
        # as TinyDB: an id wins over ids, ids over a condition. TinyDB's own id paths look
        # the ids up as strings (its storage's keys), which this table's live dict is not.
        if doc_id is not None:
            return self.doc(doc_id)
        if doc_ids is not None:
            wanted = set(doc_ids)
            return [Document(doc, i) for i, doc in self._live.items() if i in wanted]
        return super().get(cond=cond)

    def doc(self, doc_id: int) -> Document | None:
        """The document with this id, or None (typed shortcut for ``get(doc_id=...)``)."""
        doc = self._live.get(doc_id)
        return None if doc is None else Document(doc, doc_id)

    def contains(self, cond: Any = None, doc_id: int | None = None) -> bool:
        if doc_id is not None:
            return doc_id in self._live
        return bool(super().contains(cond=cond))

    def lookup(self, index: str, key: Hashable) -> list[Document]:
        """Documents whose index key equals ``key``, oldest (lowest id) first."""
        return [Document(self._live[i], i) for i in self._hash[index].ids(key)]

    def lookup_ids(self, index: str, key: Hashable) -> list[int]:
        return self._hash[index].ids(key)

    def ordered(self, index: str, group: Hashable) -> list[tuple[Any, int]]:
        """``(order key, doc id)`` pairs of one group of an ordered index, ascending."""
        return self._ordered[index].items(group)

    def __iter__(self) -> Iterator[Document]:
        for doc_id in sorted(self._live):
            yield Document(self._live[doc_id], doc_id)

    def __len__(self) -> int:
        return len(self._live)


class _Database(TinyDB):
    table_class = IndexedTable  # type: ignore[assignment]


class Store:
    """One TinyDB database: the tables of one vendor in one namespace."""

    def __init__(self) -> None:
        self.db = _Database(storage=LiveMemoryStorage)

    def table(
        self,
        name: str,
        indexes: Mapping[str, KeyFunc] | None = None,
        ordered: Mapping[str, OrderFunc] | None = None,
    ) -> IndexedTable:
        """The table ``name``, declared with the key functions of its indexes."""
        return cast(IndexedTable, self.db.table(name, indexes=indexes, ordered=ordered))
