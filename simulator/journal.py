"""The request journal and the outbox of one namespace: bounded, ordered, in memory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeAlias
from urllib.parse import parse_qsl

from simulator.clock import Clock, iso
from simulator.http import BadBody, parse_json, parse_urlencoded
from simulator.store import CappedLog
from simulator.store.memory import MemoryLog

JOURNAL_BODY_LIMIT = 64 * 1024
RAW_OVERHEAD = 256  # bytes an entry part costs beyond its body, headers and query
ENTRY_OVERHEAD = 512  # bytes an entry costs beyond its two parts


class Raw:
    """A request or response as it went over the wire, decoded only when someone reads it.

    Journaling happens on every vendor request; reading the journal is rare. So an entry
    keeps the raw headers, query and body, and ``render`` turns them into JSON-ready values
    once. Request headers are kept as the WSGI environ's ``HTTP_*`` items.
    """

    __slots__ = ("headers", "data", "mimetype", "query", "environ_headers", "length", "sha256")

    def __init__(
        self,
        headers: list[tuple[str, str]],
        data: bytes,
        mimetype: str | None,
        query: str | None = None,
        environ_headers: bool = False,
        keep: int | None = None,
    ) -> None:
        """``keep``: a body longer than this many bytes is kept truncated to them, with its
        length and SHA-256 (the journal's bound in bytes, docs/control-plane.md)."""
        self.headers = headers
        self.mimetype = mimetype
        self.query = query
        self.environ_headers = environ_headers
        self.length = len(data)
        self.sha256: str | None = None
        if keep is not None and len(data) > keep:
            self.sha256 = hashlib.sha256(data).hexdigest()
            data = data[:keep]
        self.data = data

    def frozen(self) -> list[Any]:
        """This part as JSON-like values, for an engine that stores JSON (Redis):
        ``[headers, body, mimetype, query, environ_headers, length, sha256]``, the body a
        str when it is UTF-8 (nearly always: smaller than the codec's base64), else bytes."""
        data: bytes | str = self.data
        try:
            data = self.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        return [
            self.headers,
            data,
            self.mimetype,
            self.query,
            self.environ_headers,
            self.length,
            self.sha256,
        ]

    @classmethod
    def thawed(cls, frozen: list[Any]) -> Raw:
        """The part ``frozen`` made."""
        headers, data, mimetype, query, environ_headers, length, sha256 = frozen
        raw = cls.__new__(cls)
        raw.headers = [(k, v) for k, v in headers]
        raw.data = data.encode("utf-8") if isinstance(data, str) else data
        raw.mimetype, raw.query, raw.environ_headers = mimetype, query, environ_headers
        raw.length, raw.sha256 = length, sha256
        return raw

    def size(self) -> int:
        """Roughly the bytes this part holds (what the journal's byte bound counts)."""
        return (
            RAW_OVERHEAD
            + len(self.data)
            + len(self.query or "")
            + sum(len(k) + len(v) for k, v in self.headers)
        )

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
        if self.sha256 is not None:  # kept truncated: no longer parseable, shown as text
            return data.decode("utf-8", errors="replace") + "…"
        try:
            if mimetype and mimetype.endswith("json"):
                return parse_json(data)
            if mimetype == "application/x-www-form-urlencoded":
                return parse_urlencoded(data)
        except BadBody:
            pass
        text = data[:JOURNAL_BODY_LIMIT].decode("utf-8", errors="replace")
        return text + ("…" if len(data) > JOURNAL_BODY_LIMIT else "")


class Outcome(NamedTuple):
    """What a vendor did with one item of a request (AntCRM listener items): ``result`` is
    ``created``, ``updated``, ``duplicate``, ``sent`` or ``ignored``; ``id`` the record it
    touched (``PID-4``, deal ``3``); ``detail`` why, in words. Kept as a tuple on the hot path
    and turned into an object when the journal is read."""

    action: str | None
    result: str
    id: str | None = None
    detail: str | None = None


OUTCOME_OVERHEAD = 120  # bytes an Outcome costs beyond its id and detail strings


def outcomes_size(outcomes: list[Outcome] | None) -> int:
    """Roughly the bytes a list of outcomes holds (the journal's byte bound counts them)."""
    if not outcomes:
        return 0
    return sum(OUTCOME_OVERHEAD + len(o.id or "") + len(o.detail or "") for o in outcomes)


def _outcomes(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [
        {"item": i, "actionType": o.action, "result": o.result, "id": o.id, "detail": o.detail}
        for i, o in enumerate(outcomes)
    ]


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
    """A JSON-ready copy of an entry, its raw parts decoded. The stored entry keeps its raw
    bytes: decoded bodies (parsed JSON) are many times larger, and reads are rare."""
    out = {k: v for k, v in entry.items() if k != "_bytes"}
    if isinstance(out.get("at"), datetime):
        out["at"] = iso(out["at"])
    for part in ("request", "response"):
        section = out.get(part)
        if not isinstance(section, dict) or section.get("raw") is None:
            continue
        raw = section["raw"]
        decoded = {k: v for k, v in section.items() if k != "raw"}
        if raw.query is not None:
            decoded["query"] = _query_map(raw.query)
        decoded["headers"] = raw.header_map()
        decoded["body"] = raw.body()
        if raw.sha256 is not None:
            decoded.update(truncated=True, length=raw.length, sha256=raw.sha256)
        out[part] = decoded
    outcomes = out.get("outcomes")
    if outcomes and isinstance(outcomes[0], Outcome):
        out["outcomes"] = _outcomes(outcomes)
    return out


def _freeze(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as an engine that stores JSON keeps it: each part's ``Raw`` as its
    ``frozen`` list, ``at`` as ISO 8601 text (the codec would tag a datetime, and a tag
    makes it encode the entry twice: 17 µs instead of 6). Outcomes need nothing: a
    NamedTuple is written as a JSON array."""
    out = dict(entry)
    at = out.get("at")
    if isinstance(at, datetime):
        out["at"] = at.isoformat()
    for part in ("request", "response"):
        section = out.get(part)
        if isinstance(section, dict) and isinstance(section.get("raw"), Raw):
            out[part] = {**section, "raw": section["raw"].frozen()}
    return out


def _thaw(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry ``_freeze`` made, as the memory engine keeps it (``Raw`` and ``Outcome``
    objects again), so that readers (``render``, request patterns, shadow) see one shape."""
    at = entry.get("at")
    if isinstance(at, str):
        entry["at"] = datetime.fromisoformat(at)
    for part in ("request", "response"):
        section = entry.get(part)
        if isinstance(section, dict) and isinstance(section.get("raw"), list):
            entry[part] = {**section, "raw": Raw.thawed(section["raw"])}
    outcomes = entry.get("outcomes")
    if outcomes and isinstance(outcomes[0], list):
        entry["outcomes"] = [Outcome(*o) for o in outcomes]
    return entry


def _same(entry: dict[str, Any]) -> dict[str, Any]:
    return entry


Storage: TypeAlias = CappedLog | Callable[[int, int | None], CappedLog]


class _Append(Protocol):
    def __call__(self, entry: dict[str, Any], size: int = 0) -> dict[str, Any]: ...


class Log:
    """An append-only log of entries with increasing integer ids, keeping the newest ``limit``
    and, with ``max_bytes``, the newest that fit in that many bytes (the newest one always).

    The entries live in a store's capped log. ``storage``: one (``CappedLog``), or a
    function of ``(limit, max_bytes)`` that makes one, called on first use (a Redis
    engine's ``partial(engine.log, "journal")``); by default the memory engine's, whose
    deque is built on first append, so an unused log costs almost nothing. The memory
    engine keeps an entry as given (``Raw`` parts, ``Outcome`` tuples: nothing is encoded
    on the request's path); any other engine gets it made JSON-like (``_freeze``) and it is
    made whole again when read (``_thaw``). Callers hold the namespace lock around writes.
    """

    def __init__(
        self, limit: int, max_bytes: int | None = None, storage: Storage | None = None
    ) -> None:
        self._limit, self._max_bytes = limit, max_bytes
        self._make: Callable[[int, int | None], CappedLog] | None = None
        self._log: CappedLog | None = None
        self._plain = True  # entries kept as objects: nothing to freeze or thaw
        # ``append`` is on every vendor request's path: an attribute, the memory engine's
        # own method when entries are kept as they are (no call in between)
        self.append: _Append = self._append_first
        if storage is None:
            self._use(MemoryLog(limit, max_bytes))
        elif callable(storage):
            self._make = storage
        else:
            self._use(storage)

    def _use(self, log: CappedLog) -> CappedLog:
        self._log = log
        self._plain = isinstance(log, MemoryLog)
        self.append = log.append if self._plain else self._append_frozen
        return log

    def _storage(self) -> CappedLog:
        log = self._log
        if log is None:
            assert self._make is not None
            log = self._use(self._make(self._limit, self._max_bytes))
        return log

    def _read(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return entries if self._plain else [self._thaw(e) for e in entries]

    _freeze = staticmethod(_freeze)
    _thaw = staticmethod(_thaw)

    @property
    def limit(self) -> int:
        return self._storage().limit

    @property
    def max_bytes(self) -> int | None:
        return self._storage().max_bytes

    @property
    def bytes(self) -> int:
        """The bytes the kept entries count (``size`` as appended)."""
        return self._storage().bytes

    def set_limit(self, limit: int, max_bytes: int | None = None) -> None:
        self._limit = limit
        if max_bytes is not None:
            self._max_bytes = max_bytes
        self._storage().set_limit(limit, max_bytes)

    # append(entry, size=0): store the entry with the next id and return it with its ``id``
    # (the stored dict itself on the memory engine, a copy on others: read-only either way,
    # see ``amend``); ``size``: the bytes it counts against ``max_bytes``
    def _append_first(self, entry: dict[str, Any], size: int = 0) -> dict[str, Any]:
        self._storage()  # binds ``append``
        return self.append(entry, size)

    def _append_frozen(self, entry: dict[str, Any], size: int = 0) -> dict[str, Any]:
        stored = self._storage().append(self._freeze(entry), size)
        out = {"id": stored["id"], **entry}
        if size:
            out["_bytes"] = size
        return out

    def amend(
        self,
        entry_id: int,
        fields: Mapping[str, Any],
        size: int | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """Set JSON-like ``fields`` on a kept entry (``CappedLog.amend``: ``size`` the bytes
        it counts from now on, ``expect`` values it must hold); False when it is gone."""
        log = self._storage()
        if not self._plain:  # compared and stored as the engine keeps them
            fields = self._freeze(dict(fields))
            expect = None if expect is None else self._freeze(dict(expect))
        return log.amend(entry_id, fields, size, expect)

    def clear(self) -> None:
        self._storage().clear()

    def restart(self) -> None:
        self._storage().restart()

    def get(self, entry_id: int) -> dict[str, Any] | None:
        entry = self._storage().get(entry_id)
        if entry is None:
            return None
        return render(entry if self._plain else self._thaw(entry))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([render(e) for e in self._read(self._storage().window())])

    def __len__(self) -> int:
        return len(self._storage())

    def select(
        self,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        limit: int | None = None,
        after: int | None = None,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """The stored entries (not decoded: pass each to ``render``) that ``keep`` accepts,
        oldest first. ``after``/``before``: only ids above/below; ``limit``: at most that many,
        the first ones after ``after`` when it is given, else the newest."""
        window = self._read(self._storage().window(after, before))
        found = window if keep is None else [e for e in window if keep(e)]
        if limit is not None:
            if after is not None:
                found = found[:limit]
            else:
                found = found[max(0, len(found) - limit) :]  # limit <= 0: none
        return found

    def query(
        self, keep: Callable[[dict[str, Any]], bool], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries ``keep`` accepts, decoded, oldest first; ``limit`` keeps the newest that many."""
        return [render(e) for e in self.select(keep, limit)]


class Outbox(Log):
    """Side effects that would have left the vendor: invites, emails, SMS."""

    def __init__(
        self,
        limit: int,
        clock: Clock,
        max_bytes: int | None = None,
        storage: Storage | None = None,
    ) -> None:
        super().__init__(limit, max_bytes, storage)
        self._clock = clock

    # its entries are JSON-like already: stored as they are on every engine
    _freeze = staticmethod(_same)
    _thaw = staticmethod(_same)

    def send(
        self, vendor: str, kind: str, stamp: tuple[str, ...] = (), **fields: Any
    ) -> dict[str, Any]:
        """Record one side effect now; returns the entry. Its size (for ``max_bytes``) is
        its JSON's length: the fields come from request bodies, so they may be large.
        ``stamp`` names fields that take the entry's ``at`` (the same instant, even on a
        running clock), added after the given fields."""
        entry = {"at": iso(self._clock.now()), "vendor": vendor, "kind": kind, **fields}
        for name in stamp:
            entry[name] = entry["at"]
        # the bound this process last set (no round trip to ask the engine)
        size = ENTRY_OVERHEAD + len(json.dumps(entry, default=str)) if self._max_bytes else 0
        return self.append(entry, size)
