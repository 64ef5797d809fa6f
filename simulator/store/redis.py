"""The Redis engine (issue 17): one store's tables, counters, documents and logs in Redis, so
that several processes share a world. Round trips per call and the key layout:
docs/scale-out.md.

Every key of a store starts ``crmsim:{<world>}:<store>:``: one hash tag per world, so a Redis
Cluster keeps a world on one shard and a script or transaction never spans shards.

- ``t:<table>:d`` hash: id -> the document's JSON (``simulator.store.codec.dumps``);
- ``t:<table>:id`` string: the highest id ever used (INCR allocates);
- ``t:<table>:h:<index>:<key>`` sorted set: the ids with that key, scored by id;
- ``t:<table>:o:<index>:<group>`` sorted set, every score 0: members
  ``encode_key(order key) + encode_key(id)``, so a lex range is an order-key range;
- ``c`` hash: counter name -> value; ``doc`` hash: name -> JSON;
- ``l:<name>`` list of ``<size>:<id>:<JSON>`` entries, oldest first, ids consecutive;
  ``l:<name>:m`` hash: ``seq`` (last id), ``bytes``, ``limit``, ``max``.

Keys and groups are ``codec.encode_key`` bytes. A write that touches several keys is one Lua
script (loaded once, then EVALSHA): all of it happens or none. An update or a removal reads
the documents, then writes them with a script that first checks they are unchanged
(compare and set: a concurrent write makes it read again), so a call's writes are atomic
across processes; whole requests are the world's business (issue 17).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from simulator.store import interface
from simulator.store.codec import decode_entry, decode_key, dumps, encode_entry, encode_key, loads
from simulator.store.interface import (
    Entry,
    Fill,
    HashContents,
    KeyFunc,
    OrderedContents,
    OrderFunc,
    Record,
)

RETRIES = 1000  # compare-and-set attempts of one update or removal before giving up
CHUNK = 1000  # ids per HMGET of an iteration or a long lookup
LOAD = 1000  # records (index keys, entries) per command of Table.load
SEND_BYTES = 1 << 20  # Table.load sends its commands in chunks of about this many bytes
SEND_COMMANDS = 1000  # or of this many commands

# A positive integer id as codec.encode_key writes it (NUMBER, 0x80 + length, bytes, 0x00).
_ENCID = """
local function encid(n)
  local b = ""
  while n > 0 do
    b = string.char(n % 256) .. b
    n = math.floor(n / 256)
  end
  return "\\3" .. string.char(128 + #b) .. b .. "\\0"
end
"""

# An index is a hash: field encode_key(key) (hash index) or encode_key(group) (ordered
# index) holds the member of its only entry (the id; the ordered entry's bytes), or "*" when
# it has two or more: they are then in the sorted set <index hash>:<field>, scored by id
# (hash index) or all 0 (ordered: a lex range is an order-key range). iadd/irem add or
# remove one member, moving the members between the two as a field gains its second one
# or keeps its last one. An ordered member starts with a type tag, never "*".
_INDEX = """
local function iadd(h, f, z, member, ordered)
  local cur = redis.call("HGET", h, f)
  if not cur then
    redis.call("HSET", h, f, member)
  elseif cur == "*" then
    redis.call("ZADD", z, ordered and 0 or member, member)
  elseif cur ~= member then
    if ordered then
      redis.call("ZADD", z, 0, cur, 0, member)
    else
      redis.call("ZADD", z, cur, cur, member, member)
    end
    redis.call("HSET", h, f, "*")
  end
end
local function irem(h, f, z, member)
  local cur = redis.call("HGET", h, f)
  if cur == member then
    redis.call("HDEL", h, f)
  elseif cur == "*" then
    redis.call("ZREM", z, member)
    local left = redis.call("ZRANGE", z, 0, 1)
    if #left == 1 then
      redis.call("DEL", z)
      redis.call("HSET", h, f, left[1])
    elseif #left == 0 then
      redis.call("HDEL", h, f)
    end
  end
end
"""

# KEYS: docs, id counter, per index entry (index hash, its field's sorted set): the hash
# indexes' then the ordered indexes'. ARGV: JSON, the given id or "", how many hash index
# entries, their fields..., per ordered index entry (field, member without the id).
_INSERT = (
    _ENCID
    + _INDEX
    + """
local id
if ARGV[2] ~= "" then
  if redis.call("HEXISTS", KEYS[1], ARGV[2]) == 1 then return 0 end
  id = tonumber(ARGV[2])
  if id > tonumber(redis.call("GET", KEYS[2]) or "0") then
    redis.call("SET", KEYS[2], ARGV[2])
  end
else
  id = redis.call("INCR", KEYS[2])
end
local sid = string.format("%d", id)
redis.call("HSET", KEYS[1], sid, ARGV[1])
local nh = tonumber(ARGV[3])
for i = 1, nh do iadd(KEYS[1 + 2 * i], ARGV[3 + i], KEYS[2 + 2 * i], sid, false) end
local tail = encid(id)
for j = 1, (#KEYS - 2 - 2 * nh) / 2 do
  local k, a = 1 + 2 * nh + 2 * j, 2 + nh + 2 * j
  iadd(KEYS[k], ARGV[a], KEYS[k + 1], ARGV[a + 1] .. tail, true)
end
return id
"""
)

# KEYS: docs, per index change (index hash, its field's sorted set).
# ARGV: n, n x (id, the JSON read, the new JSON or "" to delete), per index change (field,
# member, "-" to remove, "+" to add to a hash index, "o" to add to an ordered one).
_CAS = (
    _INDEX
    + """
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  if redis.call("HGET", KEYS[1], ARGV[2 + 3 * i]) ~= ARGV[3 + 3 * i] then return 0 end
end
for i = 0, n - 1 do
  local new = ARGV[4 + 3 * i]
  if new == "" then
    redis.call("HDEL", KEYS[1], ARGV[2 + 3 * i])
  else
    redis.call("HSET", KEYS[1], ARGV[2 + 3 * i], new)
  end
end
local at = 2 + 3 * n
for k = 2, #KEYS, 2 do
  if ARGV[at + 2] == "-" then
    irem(KEYS[k], ARGV[at], KEYS[k + 1], ARGV[at + 1])
  else
    iadd(KEYS[k], ARGV[at], KEYS[k + 1], ARGV[at + 1], ARGV[at + 2] == "o")
  end
  at = at + 3
end
return 1
"""
)

# KEYS: index hash, the key's sorted set, docs. ARGV: field, "1" to read the documents too.
# Returns {ids, documents}.
_LOOKUP = """
local cur = redis.call("HGET", KEYS[1], ARGV[1])
if not cur then return {{}, {}} end
local ids
if cur == "*" then ids = redis.call("ZRANGE", KEYS[2], 0, -1) else ids = {cur} end
local docs = {}
if ARGV[2] == "1" then
  for i = 1, #ids, 1000 do
    local part = redis.call("HMGET", KEYS[3], unpack(ids, i, math.min(i + 999, #ids)))
    for _, d in ipairs(part) do docs[#docs + 1] = d end
  end
end
return {ids, docs}
"""

# KEYS: ordered index hash, the group's sorted set. ARGV: field, "range" (ZRANGEBYLEX
# bounds, offset, count), "slice" (start, stop) or "count" (ZLEXCOUNT bounds).
# Returns {0} (no entry), {1, member} (the group's only entry: the caller applies the
# bounds) or {2, the sorted set's answer}.
_ORDERED = """
local cur = redis.call("HGET", KEYS[1], ARGV[1])
if not cur then return {0} end
if cur ~= "*" then return {1, cur} end
if ARGV[2] == "range" then
  return {2, redis.call("ZRANGEBYLEX", KEYS[2], ARGV[3], ARGV[4], "LIMIT", ARGV[5], ARGV[6])}
elseif ARGV[2] == "slice" then
  return {2, redis.call("ZRANGE", KEYS[2], ARGV[3], ARGV[4])}
end
return {2, redis.call("ZLEXCOUNT", KEYS[2], ARGV[3], ARGV[4])}
"""

# KEYS: a hash. ARGV: field, value, field, value, ...: each field raised to its value.
_RAISE = """
for i = 1, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > tonumber(redis.call("HGET", KEYS[1], ARGV[i]) or "0") then
    redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
"""

# KEYS: a string. ARGV: a value. The string raised to the value.
_RAISE_ID = """
if tonumber(ARGV[1]) > tonumber(redis.call("GET", KEYS[1]) or "0") then
  redis.call("SET", KEYS[1], ARGV[1])
end
"""

_EVICT = """
local function evict(list, meta)
  local limit = tonumber(redis.call("HGET", meta, "limit") or "0")
  local maxb = redis.call("HGET", meta, "max")
  maxb = maxb and tonumber(maxb)
  local n = redis.call("LLEN", list)
  local bytes = tonumber(redis.call("HGET", meta, "bytes") or "0")
  while n > limit or (maxb and bytes > maxb and n > 1) do
    local head = redis.call("LPOP", list)
    bytes = bytes - tonumber(string.sub(head, 1, string.find(head, ":", 1, true) - 1))
    n = n - 1
  end
  redis.call("HSET", meta, "bytes", bytes)
end
"""

# KEYS: list, meta. ARGV: JSON, size. Returns the new entry's id.
_APPEND = (
    _EVICT
    + """
local id = redis.call("HINCRBY", KEYS[2], "seq", 1)
redis.call("RPUSH", KEYS[1], ARGV[2] .. ":" .. string.format("%d", id) .. ":" .. ARGV[1])
redis.call("HINCRBY", KEYS[2], "bytes", tonumber(ARGV[2]))
evict(KEYS[1], KEYS[2])
return id
"""
)

# KEYS: list, meta. ARGV: limit, max bytes ("" keeps it, "-" drops it).
_LIMIT = (
    _EVICT
    + """
redis.call("HSET", KEYS[2], "limit", ARGV[1])
if ARGV[2] == "-" then redis.call("HDEL", KEYS[2], "max")
elseif ARGV[2] ~= "" then redis.call("HSET", KEYS[2], "max", ARGV[2]) end
evict(KEYS[1], KEYS[2])
"""
)

# KEYS: list, meta. ARGV: after or "", before or "" (ids). Entries with after < id < before.
_WINDOW = """
local n = redis.call("LLEN", KEYS[1])
if n == 0 then return {} end
local first = tonumber(redis.call("HGET", KEYS[2], "seq")) - n + 1
local lo, hi = 0, n
if ARGV[1] ~= "" then lo = math.max(0, tonumber(ARGV[1]) + 1 - first) end
if ARGV[2] ~= "" then hi = math.max(0, math.min(n, tonumber(ARGV[2]) - first)) end
if lo >= hi then return {} end
return redis.call("LRANGE", KEYS[1], lo, hi - 1)
"""

# KEYS: list, meta. ARGV: id, the entry as read, its new JSON, its new size or "" (kept).
# Returns 1 (amended), 0 (it changed since it was read: read again), -1 (not kept).
_AMEND = (
    _EVICT
    + """
local n = redis.call("LLEN", KEYS[1])
local at = tonumber(ARGV[1]) - (tonumber(redis.call("HGET", KEYS[2], "seq") or "0") - n + 1)
if at < 0 or at >= n then return -1 end
local cur = redis.call("LINDEX", KEYS[1], at)
if cur ~= ARGV[2] then return 0 end
local old = tonumber(string.sub(cur, 1, string.find(cur, ":", 1, true) - 1))
local size = old
if ARGV[4] ~= "" then size = tonumber(ARGV[4]) end
redis.call("LSET", KEYS[1], at, string.format("%d", size) .. ":" .. ARGV[1] .. ":" .. ARGV[3])
redis.call("HINCRBY", KEYS[2], "bytes", size - old)
evict(KEYS[1], KEYS[2])
return 1
"""
)

# KEYS: list, meta. ARGV: "0" clears (ids go on), "1" restarts.
_CLEAR = """
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[2], "bytes", 0)
if ARGV[1] == "1" then redis.call("HDEL", KEYS[2], "seq") end
"""


def connect(url: str, timeout: float = 5.0) -> redis.Redis:
    """A client for ``redis://HOST:PORT/DB`` as the engine wants it: bytes replies, and no
    retries. redis-py retries a command whose connection failed or timed out (ten times by
    default); a write whose reply was lost would then land twice (an id allocated twice, a
    counter raised by two). Without retries such a call raises ``redis.ConnectionError`` or
    ``redis.TimeoutError`` and may or may not have happened, whole or not at all."""
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )


def _name(part: str) -> bytes:
    if ":" in part:
        raise ValueError(f"a store name may not hold ':' ({part!r})")
    return part.encode()


def world_tag(world: str) -> bytes:
    """``{<world>}``: the hash tag of every key of a world (braces escaped, never empty)."""
    escaped = world.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") or "%"
    return b"{" + escaped.encode() + b"}"


class _Scripts:
    """The engine's Lua scripts, registered once per client (EVALSHA, loaded when missing)."""

    def __init__(self, client: Any) -> None:
        self.insert = client.register_script(_INSERT)
        self.cas = client.register_script(_CAS)
        self.lookup = client.register_script(_LOOKUP)
        self.ordered = client.register_script(_ORDERED)
        self.raise_to = client.register_script(_RAISE)
        self.raise_id = client.register_script(_RAISE_ID)
        self.append = client.register_script(_APPEND)
        self.limit = client.register_script(_LIMIT)
        self.window = client.register_script(_WINDOW)
        self.clear = client.register_script(_CLEAR)
        self.amend = client.register_script(_AMEND)


def _sid(doc_id: int) -> bytes:
    # int(): a state document's integer may arrive as 3.0 (JSON Schema admits it)
    return b"%d" % int(doc_id)


class Table:
    """One table: documents in a hash, each index entry in a sorted set."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        indexes: Mapping[str, KeyFunc],
        ordered: Mapping[str, OrderFunc],
        fill: Fill | None = None,
    ) -> None:
        self.name = name
        self._fill = fill
        self._r = engine.client
        self._s = engine.scripts
        base = engine.prefix + b"t:" + _name(name) + b":"
        self._base = base
        self._docs = base + b"d"
        self._ids = base + b"id"
        self._hash = {n: (base + b"h:" + _name(n), f) for n, f in indexes.items()}
        self._ordered = {n: (base + b"o:" + _name(n), f) for n, f in ordered.items()}
        self._hash_funcs, self._ordered_funcs = dict(indexes), dict(ordered)

    def _loads(self, raw: bytes) -> dict[str, Any]:
        """A stored document as readers see it (``Engine.table``'s ``fill``)."""
        doc: dict[str, Any] = loads(raw)
        return doc if self._fill is None else self._fill(doc)

    # -- index entries of one document ---------------------------------------------------
    def _hash_fields(self, doc: Mapping[str, Any]) -> dict[tuple[bytes, bytes], None]:
        """(index hash, field) per hash index entry of ``doc``."""
        found: dict[tuple[bytes, bytes], None] = {}
        for key_name, func in self._hash.values():
            for key in func(doc):
                if key is not None:
                    found[(key_name, encode_key(key))] = None
        return found

    def _order_prefixes(self, doc: Mapping[str, Any]) -> dict[tuple[bytes, bytes, bytes], None]:
        """(index hash, field, member without the id) per ordered index entry of ``doc``."""
        found: dict[tuple[bytes, bytes, bytes], None] = {}
        for key_name, func in self._ordered.values():
            for group, order in func(doc):
                found[(key_name, encode_key(group), encode_key(order))] = None
        return found

    def _entries(
        self, doc_id: int, doc: Mapping[str, Any]
    ) -> set[tuple[bytes, bytes, bytes, bytes]]:
        """The document's index entries (index hash, field, member, ``+`` for a hash
        index's, whose member is the id, ``o`` for an ordered index's)."""
        sid, tail = _sid(doc_id), encode_key(int(doc_id))
        found = {(k, f, sid, b"+") for k, f in self._hash_fields(doc)}
        found.update((k, f, m + tail, b"o") for k, f, m in self._order_prefixes(doc))
        return found

    # -- writes --------------------------------------------------------------------------
    def allocate_id(self) -> int:
        return int(self._r.incr(self._ids))

    def insert(self, doc: Mapping[str, Any], doc_id: int | None = None) -> int:
        hashes = list(self._hash_fields(doc))
        orders = list(self._order_prefixes(doc))
        given = b"" if doc_id is None else _sid(doc_id)
        keys = [self._docs, self._ids]
        args = [dumps(doc), given, len(hashes)]
        for key_name, field in hashes:
            keys += (key_name, key_name + b":" + field)
            args.append(field)
        for key_name, field, member in orders:
            keys += (key_name, key_name + b":" + field)
            args += (field, member)
        made = int(self._s.insert(keys=keys, args=args))
        if not made:
            raise ValueError(f"Document with ID {doc_id} already exists")
        return made

    def _cas(
        self,
        docs: Sequence[tuple[bytes, bytes, bytes]],
        changes: Iterable[tuple[bytes, bytes, bytes, bytes]],
    ) -> bool:
        """``_CAS``: the documents (id, JSON read, new JSON), index changes (index hash,
        field, member, ``-`` to remove, ``+``/``o`` to add to a hash/ordered index)."""
        keys: list[bytes] = [self._docs]
        args: list[Any] = [len(docs)]
        for sid, read, new in docs:
            args += (sid, read, new)
        for key_name, field, member, op in changes:
            keys += (key_name, key_name + b":" + field)
            args += (field, member, op)
        return bool(self._s.cas(keys=keys, args=args))

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> bool:
        sid = _sid(doc_id)
        for _ in range(RETRIES):
            raw = self._r.hget(self._docs, sid)
            if raw is None:
                return False
            old = self._loads(raw)
            new = {**old, **fields}
            before, after = self._entries(doc_id, old), self._entries(doc_id, new)
            changes = [(k, f, m, b"-") for k, f, m, _ in sorted(before - after)]
            changes += sorted(after - before)
            if self._cas([(sid, raw, dumps(new).encode())], changes):
                return True
        raise RuntimeError(f"{self.name} {doc_id}: too many concurrent writes")

    def remove(self, doc_ids: Iterable[int]) -> list[int]:
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return []
        sids = [_sid(d) for d in wanted]
        for _ in range(RETRIES):
            raws = self._r.hmget(self._docs, sids)
            found = [(d, s, raw) for d, s, raw in zip(wanted, sids, raws, strict=True) if raw]
            changes = [
                (k, f, m, b"-")
                for doc_id, _, raw in found
                for k, f, m, _ in sorted(self._entries(doc_id, loads(raw)))
            ]
            if not found or self._cas([(s, raw, b"") for _, s, raw in found], changes):
                return [doc_id for doc_id, _, _ in found]
        raise RuntimeError(f"{self.name}: too many concurrent writes")

    def truncate(self) -> None:
        """Every key of the table, found with SCAN (a control-plane call, not a request's),
        dropped in one transaction."""
        pattern = _glob(self._base) + b"*"
        keys = list(self._r.scan_iter(match=pattern, count=1000))
        if keys:
            pipe = self._r.pipeline(transaction=True)
            for at in range(0, len(keys), CHUNK):
                pipe.unlink(*keys[at : at + CHUNK])
            pipe.execute()

    # -- reads ---------------------------------------------------------------------------
    def get(self, doc_id: int) -> Record | None:
        raw = self._r.hget(self._docs, _sid(doc_id))
        return None if raw is None else Record(self._loads(raw), int(doc_id))

    def get_many(self, doc_ids: Iterable[int]) -> list[Record | None]:
        wanted = [int(d) for d in doc_ids]
        if not wanted:
            return []
        raws = self._r.hmget(self._docs, [_sid(d) for d in wanted])
        return [
            None if raw is None else Record(self._loads(raw), doc_id)
            for doc_id, raw in zip(wanted, raws, strict=True)
        ]

    def contains(self, doc_id: int) -> bool:
        return bool(self._r.hexists(self._docs, _sid(doc_id)))

    def _lookup(self, index: str, key: Hashable, docs: bool) -> tuple[list[bytes], list[Any]]:
        key_name, field = self._hash[index][0], encode_key(key)
        keys = [key_name, key_name + b":" + field, self._docs]
        ids, raws = self._s.lookup(keys=keys, args=[field, b"1" if docs else b"0"])
        return ids, raws

    def lookup(self, index: str, key: Hashable) -> list[Record]:
        if key is None:
            return []
        ids, raws = self._lookup(index, key, True)
        return [Record(self._loads(raw), int(i)) for i, raw in zip(ids, raws, strict=True)]

    def lookup_ids(self, index: str, key: Hashable) -> list[int]:
        if key is None:
            return []
        return [int(i) for i in self._lookup(index, key, False)[0]]

    def _read_group(self, index: str, group: Hashable, *args: Any) -> tuple[int, Any]:
        """``_ORDERED`` on one group: (0, None), (1, its only member) or (2, the answer)."""
        key_name, field = self._ordered[index][0], encode_key(group)
        reply = self._s.ordered(keys=[key_name, key_name + b":" + field], args=[field, *args])
        return int(reply[0]), reply[1] if len(reply) > 1 else None

    @staticmethod
    def _within(member: bytes, lo: Any, hi: Any) -> bool:
        """``lo <= order key < hi`` for an entry's bytes (as ``ZRANGEBYLEX [lo (hi``)."""
        return (lo is None or member >= encode_key(lo)) and (hi is None or member < encode_key(hi))

    def ordered(
        self,
        index: str,
        group: Hashable,
        lo: Any = None,
        hi: Any = None,
        limit: int | None = None,
    ) -> list[Entry]:
        if limit is not None and limit <= 0:
            return []
        low = b"-" if lo is None else b"[" + encode_key(lo)
        high = b"+" if hi is None else b"(" + encode_key(hi)
        count = -1 if limit is None else limit
        kind, found = self._read_group(index, group, b"range", low, high, 0, count)
        if kind == 1:
            found = [found] if self._within(found, lo, hi) else []
        return [decode_entry(m) for m in found or ()]

    def ordered_slice(self, index: str, group: Hashable, start: int, stop: int) -> list[Entry]:
        start, stop = max(0, start), max(0, stop)
        if stop <= start:
            return []
        kind, found = self._read_group(index, group, b"slice", start, stop - 1)
        if kind == 1:
            found = [found] if start == 0 else []
        return [decode_entry(m) for m in found or ()]

    def ordered_count(self, index: str, group: Hashable, lo: Any = None, hi: Any = None) -> int:
        low = b"-" if lo is None else b"[" + encode_key(lo)
        high = b"+" if hi is None else b"(" + encode_key(hi)
        kind, found = self._read_group(index, group, b"count", low, high)
        if kind == 1:
            return int(self._within(found, lo, hi))
        return int(found or 0)

    def __iter__(self) -> Iterator[Record]:
        """Every document in id order, read in chunks (dumps: not one snapshot)."""
        ids = sorted(int(i) for i in self._r.hkeys(self._docs))
        for at in range(0, len(ids), CHUNK):
            part = ids[at : at + CHUNK]
            raws = self._r.hmget(self._docs, [_sid(i) for i in part])
            for doc_id, raw in zip(part, raws, strict=True):
                if raw is not None:
                    yield Record(self._loads(raw), doc_id)

    def __len__(self) -> int:
        return int(self._r.hlen(self._docs))

    # -- whole tables --------------------------------------------------------------------
    def last_id(self) -> int:
        return int(self._r.get(self._ids) or 0)

    def index_contents(self) -> tuple[HashContents, OrderedContents]:
        """Made from the documents with the key functions (one read of the table: a
        copy's, not a request's)."""
        return _contents(self, self._hash_funcs, self._ordered_funcs)

    def load(
        self,
        records: Iterable[Record],
        last_id: int = 0,
        contents: tuple[HashContents, OrderedContents] | None = None,
    ) -> int:
        """Plain bulk commands on one connection, sent in chunks a chunk ahead of their
        replies (Redis stores one while this process encodes the next): an ``HSET`` of
        the documents per ``LOAD``; per index an ``HSET`` of ``LOAD`` fields that have one
        member (a key's only id, a group's only entry), and for a field with more, "*"
        and ``ZADD``s of ``LOAD`` members; the id counter raised last. Without
        ``contents`` (or lacking an index) the key functions make them, held in memory
        until the documents are sent. Not one transaction: a failure midway leaves what
        was sent (the target is a fresh store, dropped on failure)."""
        hashes, orders = contents if contents is not None else ({}, {})
        made: list[Record] | None = None
        if set(hashes) != set(self._hash) or set(orders) != set(self._ordered):
            made = []
            records = _kept(records, made)
        top, count = int(last_id), 0
        pool = self._r.connection_pool
        conn = pool.get_connection()
        try:
            send = _Sender(conn)
            for batch in _batches(records, LOAD):
                fields: list[bytes] = []
                for doc in batch:
                    doc_id = int(doc.doc_id)
                    top = max(top, doc_id)
                    fields += (b"%d" % doc_id, dumps(doc).encode())
                send("HSET", self._docs, *fields)
                count += len(batch)
            if made is not None:
                hashes, orders = _contents(made, self._hash_funcs, self._ordered_funcs)
            for name, (key_name, _) in self._hash.items():
                items = ((k, [b"%d" % i for i in ids]) for k, ids in hashes[name])
                self._load_index(send, key_name, items, ordered=False)
            for name, (key_name, _) in self._ordered.items():
                items = ((g, [encode_entry(o, i) for o, i in e]) for g, e in orders[name])
                self._load_index(send, key_name, items, ordered=True)
            send.close()
        except BaseException:
            conn.disconnect()  # replies may be pending: the connection is not reusable
            raise
        finally:
            pool.release(conn)
        if top:
            self._s.raise_id(keys=[self._ids], args=[top])
        return count

    @staticmethod
    def _load_index(
        send: _Sender,
        key_name: bytes,
        found: Iterable[tuple[Hashable, Sequence[bytes]]],
        ordered: bool,
    ) -> None:
        """One index's fields: the only member, or "*" and a sorted set of the members."""
        single: list[bytes] = []
        for key, members in found:
            if (key is None and not ordered) or not members:  # None: no hash key, a group
                continue
            field = encode_key(key)
            if len(members) == 1:
                single += (field, members[0])
            else:
                for part in _batches(members, LOAD):
                    pairs = [x for m in part for x in ((b"0" if ordered else m), m)]
                    send("ZADD", key_name + b":" + field, *pairs)
                single += (field, b"*")
            if len(single) >= 2 * LOAD:
                send("HSET", key_name, *single)
                single = []
        if single:
            send("HSET", key_name, *single)


T = TypeVar("T")


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _kept(records: Iterable[Record], into: list[Record]) -> Iterator[Record]:
    for record in records:
        into.append(record)
        yield record


def _contents(
    records: Iterable[Record],
    hash_funcs: Mapping[str, KeyFunc],
    ordered_funcs: Mapping[str, OrderFunc],
) -> tuple[
    dict[str, list[tuple[Hashable, list[int]]]], dict[str, list[tuple[Hashable, list[Entry]]]]
]:
    """What the indexes hold for ``records``, made with the key functions."""
    hashes: dict[str, dict[Hashable, list[int]]] = {name: {} for name in hash_funcs}
    orders: dict[str, dict[Hashable, list[Entry]]] = {name: {} for name in ordered_funcs}
    for record in records:
        doc_id = int(record.doc_id)
        for name, func in hash_funcs.items():
            found = hashes[name]
            for key in func(record):
                if key is not None:
                    ids = found.setdefault(key, [])
                    if not ids or ids[-1] != doc_id:
                        ids.append(doc_id)
        for name, order_func in ordered_funcs.items():
            groups = orders[name]
            for group, order in dict.fromkeys(order_func(record)):
                groups.setdefault(group, []).append((order, doc_id))
    return (
        {name: [(k, sorted(ids)) for k, ids in found.items()] for name, found in hashes.items()},
        {name: [(g, sorted(e)) for g, e in groups.items()] for name, groups in orders.items()},
    )


class _Sender:
    """Commands sent on one connection in chunks, each chunk sent before the previous
    one's replies are read (an error reply raises when read)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._packed: list[bytes] = []
        self._size = 0
        self._pending = 0

    def __call__(self, *command: Any) -> None:
        packed = hiredis.pack_command(command)
        self._packed.append(packed)
        self._size += len(packed)
        if self._size >= SEND_BYTES or len(self._packed) >= SEND_COMMANDS:
            self._flush()

    def _flush(self) -> None:
        self._read()
        if self._packed:
            self._conn.send_packed_command(self._packed)
            self._pending, self._packed, self._size = len(self._packed), [], 0

    def _read(self) -> None:
        while self._pending:
            self._pending -= 1
            self._conn.read_response()

    def close(self) -> None:
        self._flush()
        self._read()


def _glob(text: bytes) -> bytes:
    """``text`` matched literally by a Redis glob pattern."""
    for special in (b"\\", b"*", b"?", b"[", b"]"):
        text = text.replace(special, b"\\" + special)
    return text


class Counters:
    def __init__(self, engine: Engine) -> None:
        self._r = engine.client
        self._s = engine.scripts
        self._key = engine.prefix + b"c"

    def next(self, name: Hashable) -> int:
        return int(self._r.hincrby(self._key, encode_key(name), 1))

    def get(self, name: Hashable) -> int:
        value = self._r.hget(self._key, encode_key(name))
        return 0 if value is None else int(value)

    def raise_to(self, name: Hashable, value: int) -> None:
        self._s.raise_to(keys=[self._key], args=[encode_key(name), int(value)])

    def items(self) -> list[tuple[Hashable, int]]:
        return [(decode_key(k), int(v)) for k, v in self._r.hgetall(self._key).items()]

    def raise_all(self, values: Iterable[tuple[Hashable, int]]) -> None:
        args = [item for name, value in values for item in (encode_key(name), int(value))]
        if args:
            self._s.raise_to(keys=[self._key], args=args)


class Documents:
    def __init__(self, engine: Engine) -> None:
        self._r = engine.client
        self._key = engine.prefix + b"doc"

    def get(self, name: str, default: Any = None) -> Any:
        raw = self._r.hget(self._key, name.encode())
        return default if raw is None else loads(raw)

    def put(self, name: str, value: Any) -> None:
        self._r.hset(self._key, name.encode(), dumps(value))

    def items(self) -> list[tuple[str, Any]]:
        found = self._r.hgetall(self._key)
        return [(name.decode(), loads(found[name])) for name in sorted(found)]


def _entry(raw: bytes) -> dict[str, Any]:
    _size, entry_id, text = raw.split(b":", 2)
    return {"id": int(entry_id), **loads(text)}


class Log:
    """A capped log in a list; its bounds and byte total in a hash beside it."""

    def __init__(self, engine: Engine, name: str, limit: int, max_bytes: int | None) -> None:
        self._r = engine.client
        self._s = engine.scripts
        self._list = engine.prefix + b"l:" + _name(name)
        self._meta = self._list + b":m"
        self._keys = [self._list, self._meta]
        self._s.limit(keys=self._keys, args=[limit, "-" if max_bytes is None else max_bytes])

    def _field(self, name: bytes) -> int | None:
        value = self._r.hget(self._meta, name)
        return None if value is None else int(value)

    @property
    def limit(self) -> int:
        return self._field(b"limit") or 0

    @property
    def max_bytes(self) -> int | None:
        return self._field(b"max")

    @property
    def bytes(self) -> int:
        return self._field(b"bytes") or 0

    def set_limit(self, limit: int, max_bytes: int | None = None) -> None:
        self._s.limit(keys=self._keys, args=[limit, "" if max_bytes is None else max_bytes])

    def append(self, entry: Mapping[str, Any], size: int = 0) -> dict[str, Any]:
        stored = dict(entry)
        if size:
            stored["_bytes"] = size
        entry_id = int(self._s.append(keys=self._keys, args=[dumps(stored), int(size)]))
        return {"id": entry_id, **stored}

    def get(self, entry_id: int) -> dict[str, Any] | None:
        found = self.window(entry_id - 1, entry_id + 1)
        return found[0] if found else None

    def window(self, after: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
        args = ["" if after is None else int(after), "" if before is None else int(before)]
        return [_entry(raw) for raw in self._s.window(keys=self._keys, args=args)]

    def amend(
        self,
        entry_id: int,
        fields: Mapping[str, Any],
        size: int | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        """Read the entry, merge in Python, then a script writes it back (``LSET``) if it is
        still the one read (compare and set, as ``Table.update``): 2 round trips."""
        if "id" in fields or "_bytes" in fields:
            raise ValueError("an entry's id and size are not fields to amend")
        entry_id = int(entry_id)
        for _ in range(RETRIES):
            found = self._s.window(keys=self._keys, args=[entry_id - 1, entry_id + 1])
            if not found:
                return False
            raw = found[0]
            old = loads(raw.split(b":", 2)[2])
            if expect and any(k not in old or old[k] != v for k, v in expect.items()):
                return False
            new = {**old, **fields}
            if size is not None:
                if size:
                    new["_bytes"] = int(size)
                else:
                    new.pop("_bytes", None)
            args = [entry_id, raw, dumps(new), "" if size is None else int(size)]
            done = int(self._s.amend(keys=self._keys, args=args))
            if done:
                return done > 0
        raise RuntimeError(f"log entry {entry_id}: too many concurrent writes")

    def clear(self) -> None:
        self._s.clear(keys=self._keys, args=["0"])

    def restart(self) -> None:
        self._s.clear(keys=self._keys, args=["1"])

    def __len__(self) -> int:
        return int(self._r.llen(self._list))


class Engine:
    """The parts of one store (``store``: a vendor) of one world (a namespace) in Redis."""

    def __init__(self, client: redis.Redis, world: str, store: str = "store") -> None:
        self.client: Any = client
        self.scripts = _Scripts(client)
        self.prefix = b"crmsim:" + world_tag(world) + b":" + _name(store) + b":"
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
            found = self._tables[name] = Table(self, name, indexes, ordered, fill)
        return found

    def counters(self) -> Counters:
        return Counters(self)

    def documents(self) -> Documents:
        return Documents(self)

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> Log:
        return Log(self, name, limit, max_bytes)


def _conforms(engine: Engine) -> interface.Engine:
    return engine  # mypy checks the engine against the protocols
