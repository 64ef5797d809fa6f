"""In-process structures of the memory engine: indexes, counters, documents, capped logs.

Sorted runs are plain lists while short (most keys name one or a few documents) and
``sortedcontainers.SortedList`` once long, so an insert or a removal costs O(log n) however
many documents share a key, and a short run costs no more memory than a list.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import operator
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any

from sortedcontainers import SortedList

from simulator.store.interface import Entry, KeyFunc, OrderFunc, copy_json

LONG = 256  # a run longer than this becomes a SortedList
_MISSING = object()
Run = Any  # a sorted list, or a SortedList once long (sortedcontainers is untyped)


def _add(run: Run, item: Any) -> Run:
    """``run`` with ``item`` inserted in order (the same object, or its SortedList)."""
    if type(run) is list:
        if not run or run[-1] < item:
            run.append(item)  # ids and most order keys arrive ascending
        else:
            bisect.insort(run, item)
        return SortedList(run) if len(run) > LONG else run
    run.add(item)
    return run


PRESORT = 1024  # entries from which a group's entries are sorted by their lead first


def _lead(entry: Any) -> Any:
    return entry[0][0]


def _sorted_once(items: list[Any]) -> list[Any]:
    """``items`` sorted, each once (a document may yield a key or an entry twice; mostly
    none does: then no set is built).

    Entries whose order key is a tuple (CRM.COM's pending requests: ``((instant,
    number), id)``) compare slowly, tuple within tuple: 50,000 of them took 0.11 s to
    sort. Sorted first by their order's lead alone (an int: 0.015 s), then in full, which
    finds them nearly in order and makes about one comparison per entry: the same result
    whatever the lead is (a lead that does not compare leaves the full sort to do it all)."""
    if len(items) >= PRESORT and type(items[0]) is tuple and type(items[0][0]) is tuple:
        with contextlib.suppress(TypeError, IndexError):
            items.sort(key=_lead)
    items.sort()
    if any(map(operator.eq, items, itertools.islice(items, 1, None))):
        return sorted(set(items))
    return items


def _as_run(run: Any) -> Run:
    """An ordered index's run of a group: a lone entry (a tuple) as a list of one."""
    return [run] if type(run) is tuple else run


def _run(items: list[Any]) -> Run:
    """A run of these items, sorted: the list itself, or a SortedList of them once long."""
    return SortedList(items) if len(items) > LONG else items


def _discard(run: Run, item: Any) -> None:
    if type(run) is list:
        at = bisect.bisect_left(run, item)
        if at < len(run) and run[at] == item:
            del run[at]
    else:
        run.discard(item)


def _bisect(run: Run, item: Any) -> int:
    return bisect.bisect_left(run, item) if type(run) is list else int(run.bisect_left(item))


class HashIndex:
    """Key -> ids of the documents with that key, ascending: an int for one id, else a run.

    ``add``/``discard`` take a document's distinct keys; a None key is not indexed.
    """

    __slots__ = ("keys", "_ids")

    def __init__(self, keys: KeyFunc) -> None:
        self.keys = keys
        self._ids: dict[Hashable, int | Run] = {}

    def add(self, doc_id: int, keys: Iterable[Hashable]) -> None:
        table = self._ids
        for key in keys:
            if key is None:
                continue
            found = table.get(key)
            if found is None:
                table[key] = doc_id
            elif isinstance(found, int):
                if found != doc_id:
                    table[key] = [found, doc_id] if found < doc_id else [doc_id, found]
            else:
                table[key] = _add(found, doc_id)

    def discard(self, doc_id: int, keys: Iterable[Hashable]) -> None:
        table = self._ids
        for key in keys:
            found = table.get(key)
            if found is None:
                continue
            if isinstance(found, int):
                if found == doc_id:
                    del table[key]
                continue
            _discard(found, doc_id)
            if len(found) == 1:
                table[key] = found[0]
            elif not found:
                del table[key]

    def add_many(self, docs: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        """``add`` of each ``(id, document)``'s keys, a key's ids collected first and sorted
        once (a bulk load: no insort, no call per document). The ids are not indexed yet."""
        keys_of, table = self.keys, self._ids
        # key -> an id, or a list of ids (the keys in ``shared``); an empty index is filled
        # in place, most of its keys done when collected
        fresh: dict[Hashable, Any] = {} if table else table
        held, shared = fresh.get, []
        for doc_id, doc in docs:
            for key in keys_of(doc):
                if key is not None:
                    got = held(key)
                    if got is None:
                        fresh[key] = doc_id
                        continue
                    if got is doc_id:
                        continue
                    if type(got) is list:
                        got.append(doc_id)
                    else:
                        fresh[key] = [got, doc_id]
                        shared.append(key)
        if fresh is table:
            for key in shared:
                ids = _sorted_once(table[key])
                table[key] = ids[0] if len(ids) == 1 else _run(ids)
            return
        for key, got in fresh.items():
            found = table.get(key)
            if found is None and type(got) is not list:
                table[key] = got
                continue
            ids = got if type(got) is list else [got]
            if found is not None:
                ids += [found] if isinstance(found, int) else found
            ids = _sorted_once(ids)
            table[key] = ids[0] if len(ids) == 1 else _run(ids)

    def ids(self, key: Hashable) -> list[int]:
        """Ids with this key, ascending (kept so: no sort per lookup)."""
        found = self._ids.get(key)
        if found is None:
            return []
        return [found] if isinstance(found, int) else list(found)

    def items(self) -> Iterator[tuple[Hashable, list[int]]]:
        """Every key with its ids, ascending."""
        for key, found in self._ids.items():
            yield key, [found] if isinstance(found, int) else list(found)

    def clear(self) -> None:
        self._ids.clear()


class OrderedIndex:
    """Group -> ``(order key, id)`` entries ascending: the entry itself while it is the
    group's only one (most groups: a list of one would cost 64 bytes more), else a run."""

    __slots__ = ("entries", "_groups")

    def __init__(self, entries: OrderFunc) -> None:
        self.entries = entries
        self._groups: dict[Hashable, Run] = {}

    def entries_of(self, doc_id: int, doc: Mapping[str, Any]) -> dict[tuple[Hashable, Any], None]:
        return dict.fromkeys((group, (order, doc_id)) for group, order in self.entries(doc))

    def add(self, found: Iterable[tuple[Hashable, Entry]]) -> None:
        groups = self._groups
        for group, entry in found:
            run = groups.get(group)
            if run is None:
                groups[group] = entry
            elif type(run) is tuple:
                groups[group] = [run, entry] if run < entry else [entry, run]
            else:
                groups[group] = _add(run, entry)

    def add_many(self, docs: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        """``add`` of each ``(id, document)``'s entries, a group's collected first and sorted
        once (a bulk load: no insort, no call per document). The ids are not indexed yet."""
        entries_of, groups = self.entries, self._groups
        # group -> an entry, or a list of entries (the groups in ``shared``); an empty index
        # is filled in place, most of its groups done when collected
        fresh: dict[Hashable, Any] = {} if groups else groups
        held, shared = fresh.get, []
        for doc_id, doc in docs:
            entry: Entry = (None, None)  # type: ignore[assignment]
            for group, order in entries_of(doc):
                if order != entry[0] or entry[1] is not doc_id or type(order) is not type(entry[0]):
                    # a document's entries of one order key are one tuple (an AntCRM
                    # customer's five keys: 224 bytes less per customer)
                    entry = (order, doc_id)
                got = held(group)
                if got is None:
                    fresh[group] = entry
                    continue
                if type(got) is list:
                    got.append(entry)
                else:
                    fresh[group] = [got, entry]
                    shared.append(group)
        if fresh is groups:
            for group in shared:
                groups[group] = _run(_sorted_once(groups[group]))
            return
        for group, got in fresh.items():
            run = groups.get(group)
            if run is None and type(got) is not list:
                groups[group] = got
                continue
            entries = got if type(got) is list else [got]
            if run is not None:
                entries += _as_run(run)
            groups[group] = _run(_sorted_once(entries))

    def discard(self, found: Iterable[tuple[Hashable, Entry]]) -> None:
        groups = self._groups
        for group, entry in found:
            run = groups.get(group)
            if run is None:
                continue
            if type(run) is tuple:
                if run == entry:
                    del groups[group]
                continue
            _discard(run, entry)
            if not run:
                del groups[group]
            elif len(run) == 1:
                groups[group] = run[0]

    def _bounds(self, run: Run, lo: Any, hi: Any) -> tuple[int, int]:
        start = 0 if lo is None else _bisect(run, (lo,))
        stop = len(run) if hi is None else _bisect(run, (hi,))
        return start, max(start, stop)

    def range(self, group: Hashable, lo: Any, hi: Any, limit: int | None) -> list[Entry]:
        run = self._groups.get(group)
        if run is None:
            return []
        run = _as_run(run)
        start, stop = self._bounds(run, lo, hi)
        if limit is not None:
            stop = min(stop, start + max(0, limit))
        return list(run[start:stop])

    def slice(self, group: Hashable, start: int, stop: int) -> list[Entry]:
        run = self._groups.get(group)
        return [] if run is None else list(_as_run(run)[max(0, start) : max(0, stop)])

    def count(self, group: Hashable, lo: Any, hi: Any) -> int:
        run = self._groups.get(group)
        if run is None:
            return 0
        start, stop = self._bounds(_as_run(run), lo, hi)
        return stop - start

    def items(self) -> Iterator[tuple[Hashable, list[Entry]]]:
        """Every group with its entries, ascending."""
        for group, run in self._groups.items():
            yield group, list(_as_run(run))

    def clear(self) -> None:
        self._groups.clear()


class MemoryCounters:
    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[Hashable, int] = {}

    def next(self, name: Hashable) -> int:
        value = self._values[name] = self._values.get(name, 0) + 1
        return value

    def get(self, name: Hashable) -> int:
        return self._values.get(name, 0)

    def raise_to(self, name: Hashable, value: int) -> None:
        if value > self._values.get(name, 0):
            self._values[name] = value

    def items(self) -> list[tuple[Hashable, int]]:
        return list(self._values.items())

    def raise_all(self, values: Iterable[tuple[Hashable, int]]) -> None:
        for name, value in values:
            self.raise_to(name, value)


class MemoryDocuments:
    __slots__ = ("_docs",)

    def __init__(self) -> None:
        self._docs: dict[str, Any] = {}

    def get(self, name: str, default: Any = None) -> Any:
        return copy_json(self._docs[name]) if name in self._docs else default

    def put(self, name: str, value: Any) -> None:
        self._docs[name] = copy_json(value)

    def items(self) -> list[tuple[str, Any]]:
        return [(name, copy_json(self._docs[name])) for name in sorted(self._docs)]


class MemoryLog:
    """A capped log in a deque, built on first append (an unused log costs almost nothing).

    Entries are kept as given (the journal's hold raw bytes, decoded when read), and
    ``append`` returns the stored dict itself: treat it as read-only, change it with
    ``amend``.
    """

    def __init__(self, limit: int, max_bytes: int | None = None) -> None:
        self._entries: deque[dict[str, Any]] | None = None
        self._limit = limit
        self._max_bytes = max_bytes
        self._bytes = 0
        self._ids = itertools.count(1)

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def max_bytes(self) -> int | None:
        return self._max_bytes

    @property
    def bytes(self) -> int:
        return self._bytes

    def set_limit(self, limit: int, max_bytes: int | None = None) -> None:
        self._limit = limit
        if max_bytes is not None:
            self._max_bytes = max_bytes
        self._evict()

    def append(self, entry: Mapping[str, Any], size: int = 0) -> dict[str, Any]:
        stored = {"id": next(self._ids), **entry}
        entries = self._entries
        if entries is None:
            entries = self._entries = deque()
        if size:
            stored["_bytes"] = size
            self._bytes += size
        entries.append(stored)
        if len(entries) > self._limit or (
            self._max_bytes is not None and self._bytes > self._max_bytes
        ):
            self._evict()
        return stored

    def _evict(self) -> None:
        entries = self._entries
        if not entries:
            return
        while len(entries) > self._limit or (
            self._max_bytes is not None and self._bytes > self._max_bytes and len(entries) > 1
        ):
            self._bytes -= entries.popleft().get("_bytes", 0)

    def get(self, entry_id: int) -> dict[str, Any] | None:
        # Ids increase by one, so the entry's position follows from the oldest kept id.
        entries = self._entries
        if not entries:
            return None
        at = entry_id - entries[0]["id"]
        if 0 <= at < len(entries) and entries[at]["id"] == entry_id:
            return entries[at]
        return None

    def amend(
        self,
        entry_id: int,
        fields: Mapping[str, Any],
        size: int | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """A new dict replaces the entry (a reader that holds the old one, rendering it
        outside the lock, sees it whole and unchanged)."""
        if "id" in fields or "_bytes" in fields:
            raise ValueError("an entry's id and size are not fields to amend")
        entries, stored = self._entries, self.get(entry_id)
        if entries is None or stored is None:
            return False
        if expect and any(stored.get(k, _MISSING) != v for k, v in expect.items()):
            return False
        new = {**stored, **fields}
        if size is not None:
            self._bytes += size - stored.get("_bytes", 0)
            if size:
                new["_bytes"] = size
            else:
                new.pop("_bytes", None)
        entries[entry_id - entries[0]["id"]] = new
        if size is not None:
            self._evict()
        return True

    def window(self, after: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
        entries = self._entries
        if not entries:
            return []
        first = entries[0]["id"]
        lo = 0 if after is None else max(0, after + 1 - first)
        hi = len(entries) if before is None else max(0, min(len(entries), before - first))
        return list(itertools.islice(entries, lo, hi)) if lo < hi else []

    def clear(self) -> None:
        self._entries = None
        self._bytes = 0

    def restart(self) -> None:
        self.clear()
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._entries or ())
