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
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from simulator.store import interface
from simulator.store.codec import decode_entry, decode_key, dumps, encode_key, loads
from simulator.store.interface import Entry, KeyFunc, OrderFunc, Record

RETRIES = 1000  # compare-and-set attempts of one update or removal before giving up
CHUNK = 1000  # ids per HMGET of an iteration or a long lookup
LOAD = 1000  # records per pipeline of Table.load

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

# KEYS: docs, id counter, hash index keys..., ordered index keys...
# ARGV: JSON, the given id or "", how many hash keys, the ordered members' prefixes...
_INSERT = (
    _ENCID
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
for i = 1, nh do redis.call("ZADD", KEYS[2 + i], id, sid) end
local tail = encid(id)
for i = nh + 1, #KEYS - 2 do
  redis.call("ZADD", KEYS[2 + i], 0, ARGV[3 + i - nh] .. tail)
end
return id
"""
)

# KEYS: docs, sorted sets...
# ARGV: n, n x (id, the JSON read, the new JSON or "" to delete), per sorted set
# (score or "" to remove, member)
_CAS = """
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
local base = 2 + 3 * n
for j = 2, #KEYS do
  local at = base + 2 * (j - 2)
  if ARGV[at] == "" then
    redis.call("ZREM", KEYS[j], ARGV[at + 1])
  else
    redis.call("ZADD", KEYS[j], ARGV[at], ARGV[at + 1])
  end
end
return 1
"""

# KEYS: a hash index key, docs. Returns {ids, documents}.
_LOOKUP = """
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
local docs = {}
for i = 1, #ids, 1000 do
  local part = redis.call("HMGET", KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
  for _, d in ipairs(part) do docs[#docs + 1] = d end
end
return {ids, docs}
"""

# KEYS: a hash. ARGV: field, value, field, value, ...: each field raised to its value.
_RAISE = """
for i = 1, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > tonumber(redis.call("HGET", KEYS[1], ARGV[i]) or "0") then
    redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
"""

# KEYS: docs, sorted sets... ARGV: n, n values of HSET (id, JSON, ...), then per sorted set
# m and m values of ZADD (score, member, ...). Stored in slices: unpack has a stack limit.
_LOAD = """
local function call(command, key, from, to)
  for i = from, to, 2000 do
    redis.call(command, key, unpack(ARGV, i, math.min(to, i + 1999)))
  end
end
local n = tonumber(ARGV[1])
call("HSET", KEYS[1], 2, 1 + n)
local at = 2 + n
for k = 2, #KEYS do
  local m = tonumber(ARGV[at])
  if m == 2 then
    redis.call("ZADD", KEYS[k], ARGV[at + 1], ARGV[at + 2])
  else
    call("ZADD", KEYS[k], at + 1, at + m)
  end
  at = at + 1 + m
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
    ) -> None:
        self.name = name
        self._r = engine.client
        self._s = engine.scripts
        base = engine.prefix + b"t:" + _name(name) + b":"
        self._base = base
        self._docs = base + b"d"
        self._ids = base + b"id"
        self._hash = {n: (base + b"h:" + _name(n) + b":", f) for n, f in indexes.items()}
        self._ordered = {n: (base + b"o:" + _name(n) + b":", f) for n, f in ordered.items()}

    # -- index entries of one document ---------------------------------------------------
    def _hash_keys(self, doc: Mapping[str, Any]) -> dict[bytes, None]:
        keys: dict[bytes, None] = {}
        for prefix, func in self._hash.values():
            for key in func(doc):
                if key is not None:
                    keys[prefix + encode_key(key)] = None
        return keys

    def _order_prefixes(self, doc: Mapping[str, Any]) -> dict[tuple[bytes, bytes], None]:
        """(sorted set, member without the id) per ordered index entry of ``doc``."""
        found: dict[tuple[bytes, bytes], None] = {}
        for prefix, func in self._ordered.values():
            for group, order in func(doc):
                found[(prefix + encode_key(group), encode_key(order))] = None
        return found

    def _entries(self, doc_id: int, doc: Mapping[str, Any]) -> set[tuple[bytes, bytes, bytes]]:
        """Every sorted set entry of the document: (key, score, member)."""
        sid = _sid(doc_id)
        found = {(key, sid, sid) for key in self._hash_keys(doc)}
        tail = encode_key(int(doc_id))
        found.update((key, b"0", member + tail) for key, member in self._order_prefixes(doc))
        return found

    # -- writes --------------------------------------------------------------------------
    def allocate_id(self) -> int:
        return int(self._r.incr(self._ids))

    def insert(self, doc: Mapping[str, Any], doc_id: int | None = None) -> int:
        hashes = list(self._hash_keys(doc))
        orders = self._order_prefixes(doc)
        given = b"" if doc_id is None else _sid(doc_id)
        keys = [self._docs, self._ids, *hashes, *(key for key, _ in orders)]
        args = [dumps(doc), given, len(hashes), *(member for _, member in orders)]
        made = int(self._s.insert(keys=keys, args=args))
        if not made:
            raise ValueError(f"Document with ID {doc_id} already exists")
        return made

    def _cas(self, docs: Sequence[tuple[bytes, bytes, bytes]], ops: Iterable[Any]) -> bool:
        keys: list[bytes] = [self._docs]
        args: list[Any] = [len(docs)]
        for sid, read, new in docs:
            args += (sid, read, new)
        for key, score, member in ops:
            keys.append(key)
            args += (score, member)
        return bool(self._s.cas(keys=keys, args=args))

    def update(self, doc_id: int, fields: Mapping[str, Any]) -> bool:
        sid = _sid(doc_id)
        for _ in range(RETRIES):
            raw = self._r.hget(self._docs, sid)
            if raw is None:
                return False
            old = loads(raw)
            new = {**old, **fields}
            before, after = self._entries(doc_id, old), self._entries(doc_id, new)
            ops = [(k, b"", m) for k, _, m in before - after]
            ops += sorted(after - before)
            if self._cas([(sid, raw, dumps(new).encode())], ops):
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
            ops = [
                (key, b"", member)
                for doc_id, _, raw in found
                for key, _, member in sorted(self._entries(doc_id, loads(raw)))
            ]
            if not found or self._cas([(s, raw, b"") for _, s, raw in found], ops):
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
        return None if raw is None else Record(loads(raw), int(doc_id))

    def get_many(self, doc_ids: Iterable[int]) -> list[Record | None]:
        wanted = [int(d) for d in doc_ids]
        if not wanted:
            return []
        raws = self._r.hmget(self._docs, [_sid(d) for d in wanted])
        return [
            None if raw is None else Record(loads(raw), doc_id)
            for doc_id, raw in zip(wanted, raws, strict=True)
        ]

    def contains(self, doc_id: int) -> bool:
        return bool(self._r.hexists(self._docs, _sid(doc_id)))

    def _hash_key(self, index: str, key: Hashable) -> bytes:
        return self._hash[index][0] + encode_key(key)

    def lookup(self, index: str, key: Hashable) -> list[Record]:
        if key is None:
            return []
        ids, raws = self._s.lookup(keys=[self._hash_key(index, key), self._docs])
        return [Record(loads(raw), int(i)) for i, raw in zip(ids, raws, strict=True)]

    def lookup_ids(self, index: str, key: Hashable) -> list[int]:
        if key is None:
            return []
        return [int(i) for i in self._r.zrange(self._hash_key(index, key), 0, -1)]

    def _group(self, index: str, group: Hashable) -> bytes:
        return self._ordered[index][0] + encode_key(group)

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
        start, num = (None, None) if limit is None else (0, limit)
        found = self._r.zrangebylex(self._group(index, group), low, high, start, num)
        return [decode_entry(m) for m in found]

    def ordered_slice(self, index: str, group: Hashable, start: int, stop: int) -> list[Entry]:
        start, stop = max(0, start), max(0, stop)
        if stop <= start:
            return []
        found = self._r.zrange(self._group(index, group), start, stop - 1)
        return [decode_entry(m) for m in found]

    def ordered_count(self, index: str, group: Hashable, lo: Any = None, hi: Any = None) -> int:
        low = b"-" if lo is None else b"[" + encode_key(lo)
        high = b"+" if hi is None else b"(" + encode_key(hi)
        return int(self._r.zlexcount(self._group(index, group), low, high))

    def __iter__(self) -> Iterator[Record]:
        """Every document in id order, read in chunks (dumps: not one snapshot)."""
        ids = sorted(int(i) for i in self._r.hkeys(self._docs))
        for at in range(0, len(ids), CHUNK):
            part = ids[at : at + CHUNK]
            raws = self._r.hmget(self._docs, [_sid(i) for i in part])
            for doc_id, raw in zip(part, raws, strict=True):
                if raw is not None:
                    yield Record(loads(raw), doc_id)

    def __len__(self) -> int:
        return int(self._r.hlen(self._docs))

    # -- whole tables --------------------------------------------------------------------
    def last_id(self) -> int:
        return int(self._r.get(self._ids) or 0)

    def load(self, records: Iterable[Record], last_id: int = 0) -> int:
        """Per ``LOAD`` records one script (one reply): an ``HSET`` of their JSON and a
        ``ZADD`` per index key they name (the members of a key the batch shares in one),
        then the id counter raised. Sent on one connection a batch ahead: Redis runs a
        batch while this process encodes the next. Not one transaction: a failure midway
        leaves the batches sent so far (the target is a fresh store, dropped on failure)."""
        top, count = int(last_id), 0
        pool = self._r.connection_pool
        conn = pool.get_connection()
        sent = False
        try:
            for batch in _batches(records, LOAD):
                keys, args, high = self._load_args(batch)
                if sent:
                    conn.read_response()
                conn.send_command("EVAL", _LOAD, len(keys), *keys, *args)
                sent = True
                top, count = max(top, high), count + len(batch)
            if sent:
                conn.read_response()
        except BaseException:
            conn.disconnect()  # replies may be pending: the connection is not reusable
            raise
        finally:
            pool.release(conn)
        if top:
            self._s.raise_id(keys=[self._ids], args=[top])
        return count

    def _load_args(self, batch: Sequence[Record]) -> tuple[list[bytes], list[Any], int]:
        """The keys and arguments of ``_LOAD`` for one batch, and its highest id."""
        hashes, orders = list(self._hash.values()), list(self._ordered.values())
        fields: list[Any] = []
        sets: dict[bytes, list[Any]] = {}
        top = 0
        for doc in batch:
            doc_id = int(doc.doc_id)
            top = max(top, doc_id)
            sid = b"%d" % doc_id
            fields += (sid, dumps(doc))
            for prefix, func in hashes:
                for key in func(doc):
                    if key is not None:
                        sets.setdefault(prefix + encode_key(key), []).extend((sid, sid))
            if orders:
                tail = encode_key(doc_id)
                for prefix, func in orders:
                    for group, order in func(doc):
                        member = encode_key(order) + tail
                        sets.setdefault(prefix + encode_key(group), []).extend((b"0", member))
        args: list[Any] = [len(fields), *fields]
        for pairs in sets.values():
            args.append(len(pairs))
            args += pairs
        return [self._docs, *sets], args, top


def _batches(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


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
        self, name: str, indexes: Mapping[str, KeyFunc], ordered: Mapping[str, OrderFunc]
    ) -> Table:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = Table(self, name, indexes, ordered)
        return found

    def counters(self) -> Counters:
        return Counters(self)

    def documents(self) -> Documents:
        return Documents(self)

    def log(self, name: str, limit: int, max_bytes: int | None = None) -> Log:
        return Log(self, name, limit, max_bytes)


def _conforms(engine: Engine) -> interface.Engine:
    return engine  # mypy checks the engine against the protocols
