"""What a store offers, in terms of ids and keys only: tables of JSON documents with hash
and ordered indexes, counters, capped logs and small documents.

An engine implements these protocols (``simulator.store.tiny``: TinyDB in memory; issue 17
adds Redis). Everything crosses the interface by value: a read hands out a copy, and the
only way to change what is stored is a write call (``insert``, ``update``, ``remove``,
``put``, ``append``), so an engine may keep its data in another process.

Keys and order keys are JSON-like values: ``str``, ``int``, ``None``, ``datetime`` (order
keys) and tuples of them, so an engine can encode them into its own key names and sort
keys. The key functions of indexes belong to whoever declares the table (each vendor
backend); the store knows no vendor's fields.

Whole-table calls (``Table.index_contents``, ``Table.load``, ``Table.last_id``, the
counters' and documents' ``items``) serve copies between engines (``Store.copy_to``: a
state loaded into the memory engine, then copied into a fresh Redis store) and are never
on a request's path; ``Table.get_many`` is (a list page read at once).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

KeyFunc = Callable[[Mapping[str, Any]], Iterable[Hashable | None]]
OrderFunc = Callable[[Mapping[str, Any]], Iterable[tuple[Hashable, Any]]]
# A stored document as readers see it: the fields a backend may leave out of what it
# stores, filled in (``Engine.table``'s ``fill``)
Fill = Callable[[dict[str, Any]], dict[str, Any]]
Entry = tuple[Any, int]  # (order key, document id), as an ordered index lists them
# What a table's indexes hold (``Table.index_contents``): per hash index, each key with its
# ids ascending; per ordered index, each group with its entries ascending.
HashContents = Mapping[str, Iterable[tuple[Hashable, Sequence[int]]]]
OrderedContents = Mapping[str, Iterable[tuple[Hashable, Sequence[Entry]]]]


class Record(dict[str, Any]):
    """A copy of one stored document, with its id. Changing it changes nothing stored
    (both engines hand out new objects all the way down: the memory engine unpacks its
    packed bytes, Redis's its text); write through ``Table.update``, as every backend does.
    """

    __slots__ = ("doc_id",)

    def __init__(self, doc: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(doc)
        self.doc_id = doc_id


# True while a state load hands the store documents nobody else holds (freshly parsed from
# a request): an engine may keep them as they are instead of copying (``adopting``)
ADOPTING: contextvars.ContextVar[bool] = contextvars.ContextVar("adopting", default=False)


@contextlib.contextmanager
def adopting() -> Iterator[None]:
    """Within: ``insert`` may keep the documents it is given (and what they nest) as they
    are. For a state load of a document parsed for it and dropped after: a load of
    100,000 AntCRM records spent a quarter of its time copying them. The caller promises
    nobody changes them afterwards."""
    token = ADOPTING.set(True)
    try:
        yield
    finally:
        ADOPTING.reset(token)


# Within ``deferring``: what to run at its end (each table's deferred index work), or None
DEFERRED: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "deferred", default=None
)


@contextlib.contextmanager
def deferring() -> Iterator[None]:
    """Within: an engine may put off filling a table's indexes on ``insert`` and fill them
    in bulk (collected, then sorted once: no insort per document), before anything reads
    the index or writes otherwise, and at the latest when the block ends without an error.
    For a state load into tables nobody else can see yet; every read inside still sees
    every index whole. An engine that defers registers its catch-up with ``DEFERRED``."""
    pending: list[Callable[[], None]] = []
    token = DEFERRED.set(pending)
    try:
        yield
        for settle in pending:
            settle()
    finally:
        DEFERRED.reset(token)
        pending.clear()  # the tables' callbacks: no cycle outlives the block


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists copied, everything else shared).

    Without recursion: a stored request body may nest as deep as the parser allows."""
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    todo: list[tuple[Any, Any]] = [(value, root)]
    while todo:
        source, target = todo.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in pairs:
            if isinstance(item, dict | list):
                item_copy: Any = {} if isinstance(item, dict) else []
                todo.append((item, item_copy))
                item = item_copy
            if isinstance(target, dict):
                target[key] = item
            else:
                target.append(item)
    return root


class Table(Protocol):
    """JSON documents with integer ids, and the indexes declared with the table.

    Ids are positive and never reused: an allocated id is one above the highest ever used.
    A hash index maps each key its function yields for a document to that document; an
    ordered index keeps, per group, ``(order key, id)`` entries ascending. Every write
    keeps every index in step; no read or write costs more as the table grows.
    """

    name: str

    def insert(self, doc: Mapping[str, Any], doc_id: int | None = None) -> int:
        """Store a copy of ``doc`` under ``doc_id`` (``ValueError`` if taken), or under a
        newly allocated id. Returns the id."""
        ...

    def allocate_id(self) -> int:
        """A fresh id (for documents whose id is also one of their fields)."""
        ...

    def get(self, doc_id: int) -> Record | None: ...

    def get_many(self, doc_ids: Iterable[int]) -> list[Record | None]:
        """The documents with these ids, in the order given, ``None`` for a missing one
        (a page of a listing read at once: one round trip on Redis)."""
        ...

    def contains(self, doc_id: int) -> bool: ...

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> bool:
        """Set ``fields`` (copied) on the document; False when there is no such document."""
        ...

    def remove(self, doc_ids: Iterable[int]) -> list[int]:
        """Remove these documents; returns the ids that existed."""
        ...

    def truncate(self) -> None:
        """Remove every document and restart the ids at 1."""
        ...

    def lookup(self, index: str, key: Hashable) -> list[Record]:
        """Documents whose hash index ``index`` has ``key``, oldest (lowest id) first."""
        ...

    def lookup_ids(self, index: str, key: Hashable) -> list[int]:
        """The ids of ``lookup``, ascending."""
        ...

    def ordered(
        self,
        index: str,
        group: Hashable,
        lo: Any = None,
        hi: Any = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries of one group ascending, with ``lo <= order key < hi`` when given; at
        most ``limit`` of them (the first ones)."""
        ...

    def ordered_slice(self, index: str, group: Hashable, start: int, stop: int) -> list[Entry]:
        """Entries ``start`` to ``stop`` (positions, ascending) of one group."""
        ...

    def ordered_count(self, index: str, group: Hashable, lo: Any = None, hi: Any = None) -> int:
        """How many entries ``ordered`` would list (without reading them)."""
        ...

    def __iter__(self) -> Iterator[Record]:
        """Every document, in id order (dumps and snapshots)."""
        ...

    def __len__(self) -> int: ...

    # -- whole tables (copies between engines, ``Store.copy_to``; not on a request's path) --
    def last_id(self) -> int:
        """The highest id ever used, 0 for none: the id allocator's high-water mark."""
        ...

    def index_contents(self) -> tuple[HashContents, OrderedContents]:
        """What every index holds, read lazily (a copy hands it to ``load``)."""
        ...

    def load(
        self,
        records: Iterable[Record],
        last_id: int = 0,
        contents: tuple[HashContents, OrderedContents] | None = None,
    ) -> int:
        """Fill an empty table: each record (copied) under its ``doc_id``, with its index
        entries, and the id allocator raised to ``last_id`` (and past every loaded id).
        ``contents``: the index entries of these records as ``index_contents`` lists them
        (a copy passes its source's, so that no key function runs again); without it, or
        when it lacks one of this table's indexes, the key functions make them. Nothing is
        checked: the caller promises the table held nothing, the ids are distinct and the
        contents are the records'. Batched (Redis: pipelined, no round trip per record).
        Returns how many records it stored."""
        ...


class Counters(Protocol):
    """Named integer counters, starting at 0 (ids that are data: codes, numbers)."""

    def next(self, name: Hashable) -> int:
        """Add one and return the new value."""
        ...

    def get(self, name: Hashable) -> int: ...

    def raise_to(self, name: Hashable, value: int) -> None:
        """Make the counter at least ``value`` (loading records with their own ids)."""
        ...

    def items(self) -> list[tuple[Hashable, int]]:
        """Every counter above 0 with its value, in no promised order (copies; not on a
        request's path)."""
        ...

    def raise_all(self, values: Iterable[tuple[Hashable, int]]) -> None:
        """``raise_to`` for each pair, at once (one round trip on Redis)."""
        ...


class Documents(Protocol):
    """Small named JSON documents (a vendor's configuration), read and written whole."""

    def get(self, name: str, default: Any = None) -> Any:
        """A copy of the document, or ``default``."""
        ...

    def put(self, name: str, value: Any) -> None:
        """Store a copy of ``value``."""
        ...

    def items(self) -> list[tuple[str, Any]]:
        """Every document, with a copy of its value, by name (copies; not on a request's
        path)."""
        ...


class CappedLog(Protocol):
    """Entries with ids 1, 2, 3, ... keeping the newest ``limit`` and, with ``max_bytes``,
    the newest that fit in that many bytes (the newest one always).

    An entry is a dict; ``append`` adds its ``id`` (and ``_bytes`` when ``size`` is given).
    """

    @property
    def limit(self) -> int: ...

    @property
    def max_bytes(self) -> int | None: ...

    @property
    def bytes(self) -> int:
        """The sizes of the kept entries, added up."""
        ...

    def set_limit(self, limit: int, max_bytes: int | None = None) -> None:
        """New bounds (``max_bytes`` None keeps the current one); evicts at once."""
        ...

    def append(self, entry: Mapping[str, Any], size: int = 0) -> dict[str, Any]:
        """Add an entry with the next id, evict what no longer fits; returns the entry."""
        ...

    def get(self, entry_id: int) -> dict[str, Any] | None: ...

    def amend(
        self,
        entry_id: int,
        fields: Mapping[str, Any],
        size: int | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """Set ``fields`` on a kept entry (a result that arrives after the entry was written:
        ``serve --shadow``'s drift). ``size``: the bytes the entry counts from now on
        (evicting what no longer fits, as ``append`` does); None keeps its size.
        ``expect``: change it only if it holds these values (an id is used again after
        ``restart``). False when the entry is not kept or not as expected. The dict
        ``append`` returned may be a copy: this is the way to change an entry."""
        ...

    def window(self, after: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
        """Kept entries with ``after < id < before``, oldest first."""
        ...

    def clear(self) -> None:
        """Drop every entry; ids go on."""
        ...

    def restart(self) -> None:
        """Drop every entry; ids start again at 1."""
        ...

    def __len__(self) -> int: ...


class Engine(Protocol):
    """Makes the parts of one store (one vendor in one namespace)."""

    def table(
        self,
        name: str,
        indexes: Mapping[str, KeyFunc],
        ordered: Mapping[str, OrderFunc],
        fill: Fill | None = None,
    ) -> Table:
        """The table ``name``. With ``fill``, every document read from it (``get``,
        ``get_many``, lookups, iteration, and the document ``update`` merges into) is
        ``fill`` of the stored one: a backend may store documents without the fields
        ``fill`` restores (a state load's sparse records: fewer bytes, a faster load).
        Key functions see stored documents as they were inserted, so they must give a
        document's keys alike with or without those fields."""
        ...

    def counters(self) -> Counters: ...

    def documents(self) -> Documents: ...

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> CappedLog: ...
