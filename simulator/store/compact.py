"""Packed documents: how the memory engine keeps a stored document in few bytes.

A JSON document as Python objects costs far more than its text: a dict of 11 short strings
(a BOTW contact) takes about 1 KiB, each string 50 bytes of header beside its characters,
the dict 360 bytes of slots; a CRM.COM contact, laid over its vendor's template, about 3
KiB. Packed, a document is the ``marshal`` bytes (CPython's own format: exact for str, int,
float, bool and None, the latter two kept apart from 0 and 1) of its values: each dict
down to ``SHAPED`` levels (a list counts as one) becomes a tuple of its shape's number
(the tuple of its keys, in order, kept once per table in a ``Shapes`` registry) and its
values, the number written as ``-1 - number`` when no value is a dict or a list (then
unpacking zips keys and values without a look at each); deeper ones stay dicts, keys and
all (marshal writes any nesting). The BOTW contact packs into about 140 bytes, a CRM.COM
contact into about 280 laid over its template (the template's null fields are a byte
each) and 220 as a state load stores it (as sent: ``crmcom.models.full_contact``).
Packing and unpacking take 1 to 4 µs per document (docs/serving.md, "Memory per record").

JSON has no tuples, so a tuple in the packed form is a shaped dict. What cannot be packed
raises ``Unpackable``, and the store keeps that document as it is:

- a tuple within ``SHAPED`` levels (it would read back as a dict), or a value marshal
  cannot write (a datetime, say);
- a document nested deeper than marshal writes (2,000 levels).

A dict of a new shape once a table knows ``SHAPES`` shapes (a client that sends objects of
ever new keys cannot grow the registry without bound) is written as a dict, its values
packed, and unpacks as one.
"""

from __future__ import annotations

import marshal
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SHAPES = 4096  # shapes (key tuples) one table numbers; a dict of another shape stays a dict
SHAPED = 2  # levels of dicts and lists within which dicts are shaped (a CRM.COM email row)
_SCALARS = frozenset({str, int, float, bool, type(None)})


class Unpackable(Exception):
    """The document cannot be packed: keep it as it is."""


class Shapes:
    """One table's registry of dict shapes, and its ``pack``/``unpack``.

    Numbers are handed out once and never reused or dropped (a document packed under a
    shape unpacks as long as it is stored), under a lock: requests run on threads.
    """

    __slots__ = ("_numbers", "_keys", "_lock")

    def __init__(self) -> None:
        self._numbers: dict[tuple[Any, ...], int] = {}
        self._keys: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def _number(self, keys: tuple[Any, ...]) -> int | None:
        with self._lock:
            number = self._numbers.get(keys)
            if number is None and len(self._keys) < SHAPES:
                number = len(self._keys)
                self._keys.append(keys)  # readable before another thread can pack with it
                self._numbers[keys] = number
            return number

    def pack(self, doc: Mapping[str, Any]) -> bytes:
        """The bytes of ``doc``, or ``Unpackable``."""
        try:
            return marshal.dumps(self._dict(doc if type(doc) is dict else dict(doc), 0))
        except ValueError as error:  # a type marshal refuses, or too deep for it
            raise Unpackable(str(error)) from None

    def _dict(self, doc: dict[Any, Any], depth: int) -> Any:
        keys = tuple(doc)
        number = self._numbers.get(keys)
        if number is None:
            number = self._number(keys)
        # below the shaped levels the values as they are: marshal writes them, or refuses
        values: Iterable[Any]
        if depth >= SHAPED:
            values, flat = doc.values(), True
        else:
            values, flat = self._items(doc.values(), depth)
        if number is None:  # the registry is full: the dict as it is, its values packed
            return dict(zip(keys, values, strict=True))
        # a dict with nothing to unpack among its values is marked by its shape's number
        # below zero: ``_open`` zips it without a look at each value (a flat record, most
        # of a page that CRM.COM's get_pending reads)
        return (-1 - number if flat else number, *values)

    def _list(self, items: list[Any], depth: int) -> list[Any]:
        return items if depth >= SHAPED else self._items(items, depth)[0]

    # A plain loop: for a few dozen values, faster than C's map and compress (their
    # iterators cost more than they save), 4.4 µs against 10.5 for an AntCRM customer.
    def _items(self, values: Iterable[Any], depth: int) -> tuple[list[Any], bool]:
        """``values`` (a dict's at ``depth``, or a list's) with their dicts and lists
        packed, and whether there were none (nothing for ``_opened`` to unpack)."""
        out: list[Any] = []
        add, scalars = out.append, _SCALARS
        flat = True
        for value in values:
            kind = type(value)
            if kind in scalars:
                add(value)
            elif kind is dict:
                add(self._dict(value, depth + 1))
                flat = False
            elif kind is list:
                add(self._list(value, depth + 1) if value else value)
                flat = False
            elif kind is tuple:
                raise Unpackable("a tuple is not packed")
            else:
                add(value)  # marshal writes it, or refuses
        return out, flat

    def unpack(self, data: bytes) -> dict[str, Any]:
        """The document ``pack`` was given (equal, in the same key order; new objects)."""
        return self._open(marshal.loads(data), 0)  # type: ignore[no-any-return]

    def _open(self, value: Any, depth: int) -> Any:
        if type(value) is tuple:
            number = value[0]
            if number < 0:  # nothing to unpack among its values (``_dict``)
                return dict(zip(self._keys[-1 - number], value[1:], strict=True))
            keys, values = self._keys[number], value[1:]
        else:  # a dict the registry had no number for
            keys, values = tuple(value), tuple(value.values())
        if depth < SHAPED:
            values = self._opened(values, depth)
        return dict(zip(keys, values, strict=True))

    def _opened(self, items: Sequence[Any], depth: int) -> Any:
        """``items`` (a dict's values at ``depth``, or a list's) with what ``_items``
        packed unpacked."""
        if depth >= SHAPED:
            return items
        out: list[Any] = []
        add, scalars = out.append, _SCALARS
        for item in items:
            kind = type(item)
            if kind in scalars:
                add(item)
            elif kind is tuple or kind is dict:
                add(self._open(item, depth + 1))
            elif kind is list:
                add(self._opened(item, depth + 1))
            else:
                add(item)
        return out
