"""Shared worlds (issue 17): every namespace lives in Redis, so that any number of crmsim
processes, on any machines, that point at one Redis serve the same worlds
(``serve --store redis://HOST:PORT/DB``; docs/scale-out.md).

Each process keeps a ``SharedWorld`` per namespace: Python objects that cache what Redis
holds. Its lock is a *lease*: a thread takes the process's own lock, then the namespace's
lock key in Redis (``SET NX PX`` in a script that also numbers the request and says whether
the world changed since this process last saw it). So requests of one namespace run one
at a time across every process (linearizable: what any process acknowledged, the next
request sees), and a request's answer is sent only after its writes reached Redis.

What lives where, per namespace (every key carries the hash tag ``{namespace}``):

- ``crmsim:{ns}:w`` hash: ``gen`` (a token that changes with every change of the fields
  below), ``seq`` (requests numbered: request n draws its ids and fault draws from stream n
  of the seed, whichever process serves it), ``changes`` (the state's ETag counter),
  ``doc`` (JSON: uid, clock, seed, settings, fault rules with their counters, each vendor's
  store name and whether state was loaded) and ``cfg`` (JSON: each vendor backend's
  configuration, ``VendorBackend.dump_config``);
- ``crmsim:{ns}:lock``: the lease (a random token, expiring after ``LEASE_MS``);
- ``crmsim:{ns}:w:l:journal``, ``...:l:outbox``: the journal and the outbox (capped logs);
- ``crmsim:{ns}:<vendor>.<token>:...``: each vendor's store (simulator/store/redis.py). A
  state load fills a new store under a new name and switches the namespace to it in one
  write, so a load lands whole or not at all; the old store is deleted after the switch.

The namespace list is the set ``crmsim:namespaces`` (``max_namespaces`` applies to it).
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from types import TracebackType
from typing import Any

import redis

from simulator.clock import Clock, Ids, iso, parse_iso
from simulator.config import Config
from simulator.errors import Problem
from simulator.faults import FaultRule, Faults
from simulator.journal import Log, Outbox
from simulator.schemas import Schemas
from simulator.store import Store
from simulator.store import redis as engine
from simulator.store.codec import dumps
from simulator.vendors._base import Context, Vendor, VendorBackend
from simulator.world import (
    Backends,
    Namespaces,
    TooManyNamespaces,
    World,
    default_settings,
    load_backends,
)

log = logging.getLogger("crmsim.shared")

LEASE_MS = 30_000  # a lease a crashed process held frees itself after this long
WAIT_S = 10.0  # a request waits this long for its namespace, then answers 503
REGISTRY = b"crmsim:namespaces"

# KEYS: lock, world hash. ARGV: token, lease ms, the gen this process holds, 1 to number
# the request (vendor requests are numbered, control requests are not).
# {-1}: the world is gone (dropped, or never made); {0, pttl}: held by another;
# {1, seq, gen, changes[, doc, cfg]}: held; doc and cfg only when gen differs.
_ACQUIRE = """
if redis.call("EXISTS", KEYS[2]) == 0 then return {-1} end
if not redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  return {0, redis.call("PTTL", KEYS[1])}
end
local seq
if ARGV[4] == "1" then
  seq = redis.call("HINCRBY", KEYS[2], "seq", 1)
else
  seq = redis.call("HGET", KEYS[2], "seq") or "0"
end
local found = redis.call("HMGET", KEYS[2], "gen", "changes")
local gen = found[1] or ""
local changes = found[2] or "0"
if gen == ARGV[3] then return {1, seq, gen, changes} end
local parts = redis.call("HMGET", KEYS[2], "doc", "cfg")
return {1, seq, gen, changes, parts[1] or "", parts[2] or ""}
"""

# KEYS: lock, world hash, the journal's list and hash, the outbox's list and hash. ARGV:
# token, doc or "", cfg or "", new gen, changes to add, how many journal entries follow,
# then each journal entry of the request (JSON, size), then each outbox entry (JSON, size).
# The entries are appended whatever happens (the request's writes happened); then 1:
# released; 0: the lease was lost (expired and maybe taken): nothing else written.
_RELEASE = (
    "local function append(KEYS, ARGV)\n"
    + engine._APPEND
    + """
end
local j = 7 + 2 * tonumber(ARGV[6])
for i = 7, j - 1, 2 do append({KEYS[3], KEYS[4]}, {ARGV[i], ARGV[i + 1]}) end
for i = j, #ARGV, 2 do append({KEYS[5], KEYS[6]}, {ARGV[i], ARGV[i + 1]}) end
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= "" then redis.call("HSET", KEYS[2], "doc", ARGV[2], "gen", ARGV[4]) end
if ARGV[3] ~= "" then redis.call("HSET", KEYS[2], "cfg", ARGV[3], "gen", ARGV[4]) end
if ARGV[5] ~= "0" then redis.call("HINCRBY", KEYS[2], "changes", ARGV[5]) end
redis.call("DEL", KEYS[1])
return 1
"""
)

# KEYS: lock. ARGV: token, lease ms. Extends a lease this process still holds.
_RENEW = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: registry, world hash. ARGV: name, cap, gen, doc. 1: made or there; 0: over the cap.
_CREATE = """
if redis.call("SISMEMBER", KEYS[1], ARGV[1]) == 0 then
  if redis.call("SCARD", KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
  redis.call("SADD", KEYS[1], ARGV[1])
end
if redis.call("EXISTS", KEYS[2]) == 0 then
  redis.call("HSET", KEYS[2], "gen", ARGV[3], "doc", ARGV[4], "seq", 0, "changes", 0)
end
return 1
"""


class Keeper:
    """Extends the leases this process holds while their requests run (a state load may
    outlast a lease): one thread for the process, every third of a lease, ending when no
    lease is held. A lease taken and given back between two rounds needs nothing."""

    def __init__(self) -> None:
        self._held: dict[tuple[int, bytes], tuple[Callable[..., Any], bytes]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def keep(self, key: tuple[int, bytes], renew: Callable[..., Any], token: bytes) -> None:
        with self._lock:
            self._held[key] = (renew, token)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="crmsim-lease-keeper", daemon=True
                )
                self._thread.start()

    def let_go(self, key: tuple[int, bytes]) -> None:
        with self._lock:
            self._held.pop(key, None)

    def _run(self) -> None:
        seen: dict[tuple[int, bytes], bytes] = {}
        while True:
            time.sleep(LEASE_MS / 3000)
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                due = [(k, r, t) for k, (r, t) in self._held.items() if seen.get(k) == t]
                seen = {k: t for k, (_, t) in self._held.items()}
            for (_, lock), renew, token in due:
                try:
                    renew(keys=[lock], args=[token, LEASE_MS])
                except redis.RedisError:
                    log.warning("could not extend the lease %s", lock.decode(errors="replace"))


KEEPER = Keeper()


class NamespaceBusy(Problem):
    """The namespace stayed held by other requests longer than ``WAIT_S``."""

    def __init__(self, name: str) -> None:
        super().__init__(
            503,
            "Namespace busy",
            f"Namespace '{name}' was held by other requests for {WAIT_S:g} s; try again.",
        )


class StoreUnavailable(Problem):
    """Redis did not answer: nothing of this request may be assumed written."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "Store unavailable", detail)


class Lease:
    """A shared world's lock: this process's reentrant lock, then the namespace's lease in
    Redis (taken by the outermost acquire, given back by the outermost release)."""

    def __init__(self, world: SharedWorld) -> None:
        self._world = world
        self._local = threading.RLock()
        self._depth = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Hold the namespace for a vendor request, numbered: request n of the namespace
        draws its ids and fault draws from stream n of the seed (``Ids.at``)."""
        return self._acquire(blocking, numbered=True)

    def acquire_unnumbered(self) -> bool:
        """Hold the namespace for a control request: it takes no number, so the control
        plane's use (a fault rule added, the journal read) never shifts generated ids."""
        return self._acquire(True, numbered=False)

    def _acquire(self, blocking: bool, numbered: bool) -> bool:
        if not blocking:
            return False  # taking a lease is a round trip: never on an event loop
        self._local.acquire()
        if self._depth == 0:
            try:
                self._world.enter(numbered)
            except BaseException:
                self._local.release()
                raise
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._world.leave()
        finally:
            self._local.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None:
        self.release()


class Batched:
    """A world's log in Redis (the journal, the outbox) whose appends during a vendor
    request wait for the lease's release and travel with it (one round trip for all);
    otherwise Redis's own."""

    def __init__(self, log: engine.Log, world: SharedWorld, name: str) -> None:
        self.log = log
        self._world = world
        self._name = name

    def append(self, entry: Mapping[str, Any], size: int = 0) -> dict[str, Any]:
        if not self._world.batching:
            return self.log.append(entry, size)
        stored = dict(entry)
        if size:
            stored["_bytes"] = size
        self._world.pending[self._name].append((dumps(stored), int(size)))
        return {"id": None, **stored}  # its id is Redis's, given with the release

    @property
    def limit(self) -> int:
        return self.log.limit

    @property
    def max_bytes(self) -> int | None:
        return self.log.max_bytes

    @property
    def bytes(self) -> int:
        return self.log.bytes

    def set_limit(self, limit: int, max_bytes: int | None = None) -> None:
        self.log.set_limit(limit, max_bytes)

    def amend(
        self,
        entry_id: int,
        fields: Mapping[str, Any],
        size: int | None = None,
        expect: Mapping[str, Any] | None = None,
    ) -> bool:
        return self.log.amend(entry_id, fields, size, expect)

    def get(self, entry_id: int) -> dict[str, Any] | None:
        return self.log.get(entry_id)

    def window(self, after: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
        return self.log.window(after, before)

    def clear(self) -> None:
        self.log.clear()

    def restart(self) -> None:
        self.log.restart()

    def __len__(self) -> int:
        return len(self.log)


class SharedBackends(Backends):
    """A shared world's vendor backends: each over its store in Redis, named by the world
    (``stores``), configured from ``configs``. Replacing or deleting one gives the vendor a
    new store; the world writes the change when its lease is given back."""

    def __init__(self, world: SharedWorld) -> None:
        super().__init__(world.vendors, world.ctx)
        self._world = world
        self.stores: dict[str, str] = {}
        self.configs: dict[str, Any] = {}
        self.loaded: dict[str, bool] = {}

    def store_name(self, slug: str) -> str:
        return self.stores.get(slug) or slug

    def __getitem__(self, slug: str) -> VendorBackend:
        found = self._built.get(slug)
        if found is None:
            found = self._vendors[slug].new_backend(self._ctx)
            config = self.configs.get(slug)
            if config is not None:
                found.load_config(config)
            found.loaded = self.loaded.get(slug, False)
            self._built[slug] = found
        return found

    def built(self, slug: str) -> VendorBackend | None:
        # another process may have written this vendor: its store is in Redis either way
        return self[slug]

    def __setitem__(self, slug: str, backend: VendorBackend) -> None:
        # ``backend`` is over the store ``SharedWorld.build_state`` filled and named
        name = store_name(backend.store)
        self._retire(slug)
        self.stores[slug] = name
        self.configs[slug] = backend.dump_config()
        self.loaded[slug] = backend.loaded
        self._built[slug] = backend
        self._world.configs_changed = True

    def __delitem__(self, slug: str) -> None:
        self._retire(slug)
        self.stores[slug] = f"{slug}.{secrets.token_hex(4)}"
        self.configs.pop(slug, None)
        self.loaded.pop(slug, None)
        self._built.pop(slug, None)
        self._world.configs_changed = True

    def clear(self) -> None:
        for slug in list(self._vendors):
            del self[slug]

    def _retire(self, slug: str) -> None:
        self._world.retired.append(self.store_name(slug))

    def rebuild(self, stores: Mapping[str, str], configs: Mapping[str, Any], loaded: Any) -> None:
        """What another process made of this world: drop every cached backend."""
        self.stores = dict(stores)
        self.configs = dict(configs)
        self.loaded = dict(loaded)
        self._built.clear()


class SharedWorld(World):
    """One namespace whose state lives in Redis (see the module's docstring)."""

    shared = True

    def __init__(self, name: str, worlds: SharedNamespaces) -> None:  # noqa: PLR0915
        config = worlds.config
        self.name = name
        self._worlds = worlds
        self._client = worlds.client
        self._config = config
        tag = b"crmsim:" + engine.world_tag(name)
        self._keys = [tag + b":lock", tag + b":w"]
        self.lock = Lease(self)
        self.vendors = worlds.vendors
        self._engines: dict[str, engine.Engine] = {}
        self.settings = default_settings(config)
        self.clock = Clock()
        self.ids = Ids(config.seed)
        self.journal_body_bytes = config.journal_body_bytes
        self.faults = Faults(self.ids.seed)
        self.uid = ""
        self.seq = 0  # vendor requests numbered so far (Redis's count, read with the lease)
        self.seq_base = 0  # ``seq`` at the last reseed or reset: streams restart there
        self.changes_seen = 0  # ``changes`` as Redis had it when the lease was taken
        self.changes_added = 0
        self.configs_changed = False
        self.retired: list[str] = []
        self.dropped = False
        self._gen = ""
        self._doc_text = ""
        self._token = b""
        # leases this process may hold without knowing it (Redis did not answer while one was
        # taken or given back): token -> when; given back at the next wait (_free_stale)
        self._stale: dict[bytes, float] = {}
        # ``failed.exc``: why this thread's last release did not land (None: it did); a
        # vendor request's answer is then the store's 503 (its journal entry was in it)
        self.failed = threading.local()
        log_engine = self._engine("w")
        journal = log_engine.log("journal", config.journal_limit, config.journal_max_bytes)
        outbox = log_engine.log("outbox", config.outbox_limit, config.outbox_max_bytes)
        self._keys += journal._keys + outbox._keys
        # a vendor request's journal entry and outbox entries travel with the lease's
        # release (not under ``serve --shadow``, which needs the entry's id as it is appended)
        self._batch = not config.extra.get("shadow")
        self.batching = False
        self.pending: dict[str, list[tuple[str, int]]] = {"journal": [], "outbox": []}
        self.journal = Log(
            config.journal_limit, config.journal_max_bytes, Batched(journal, self, "journal")
        )
        self.outbox = Outbox(
            config.outbox_limit,
            self.clock,
            config.outbox_max_bytes,
            Batched(outbox, self, "outbox"),
        )
        self.ctx = Context(self.clock, self.ids, self.outbox, stores=self._store_for)
        self.backends: SharedBackends = SharedBackends(self)

    # -- the ETag counter lives in Redis -------------------------------------------------
    @property
    def changes(self) -> int:
        return self.changes_seen + self.changes_added

    @changes.setter
    def changes(self, value: int) -> None:
        self.changes_added = value - self.changes_seen

    # -- stores --------------------------------------------------------------------------
    def _engine(self, store: str) -> engine.Engine:
        found = self._engines.get(store)
        if found is None:
            found = self._engines[store] = engine.Engine(self._client, self.name, store)
        return found

    def _store_for(self, slug: str) -> Store:
        return Store(self._engine(self.backends.store_name(slug)))

    # -- the lease -----------------------------------------------------------------------
    def enter(self, numbered: bool = True) -> None:
        """Take the namespace's lease (waiting up to ``WAIT_S``) and catch up with Redis."""
        token = secrets.token_hex(8).encode()
        deadline = time.monotonic() + WAIT_S
        pause = 0.0005
        args = [token, LEASE_MS, self._gen, int(numbered)]
        while True:
            try:
                found = self._worlds.acquire(keys=self._keys, args=args)
            except redis.RedisError:
                self._stale[token] = time.monotonic()  # the script may have run, or run later
                raise
            state = int(found[0])
            if state == 1:
                break
            if state == -1:  # dropped by someone, or never made here: make it (again)
                self._worlds.register(self.name)
                continue
            if self._stale and self._free_stale():
                continue
            if time.monotonic() >= deadline:
                raise NamespaceBusy(self.name)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        self._token = token
        self._worlds.keep(self._keys[0], token)
        self.dropped = False
        self.batching = numbered and self._batch
        self.pending = {"journal": [], "outbox": []}
        self.seq = int(found[1])
        self.changes_seen, self.changes_added = int(found[3]), 0
        gen = found[2].decode()
        if gen != self._gen:
            self._load(found[4].decode(), found[5].decode())
            self._gen = gen
        if numbered:  # streams count from the last reseed or reset, as one stream restarts
            self.ids.at(self.seq - self.seq_base)
            self.faults.at(self.seq - self.seq_base)
        self.configs_changed = False
        self.retired = []

    def leave(self) -> None:
        """Write what changed (fault counters, settings, clock, stores) and give the lease
        back; then delete the stores a load or a reset replaced."""
        self.batching = False
        self._worlds.let_go(self._keys[0])
        self.failed.exc = None
        if self.dropped:
            return
        text = self._export()
        doc = text if text != self._doc_text else ""
        cfg = json.dumps(self.backends.configs) if self.configs_changed else ""
        gen = secrets.token_hex(8) if doc or cfg else ""
        entries, sent = self.pending["journal"], self.pending["outbox"]
        args: list[Any] = [self._token, doc, cfg, gen, self.changes_added, len(entries)]
        for entry, size in entries + sent:
            args += (entry, size)
        self.pending = {"journal": [], "outbox": []}
        try:
            done = self._worlds.release(keys=self._keys, args=args)
        except redis.RedisError as exc:
            log.warning("namespace %s: could not give its lease back", self.name, exc_info=True)
            self._stale[self._token] = time.monotonic()
            self._gen = ""  # read everything again next time
            self.failed.exc = exc
            return
        if not done:
            log.warning("namespace %s: the lease expired before the request ended", self.name)
            self._gen = ""
            self.failed.exc = redis.exceptions.LockNotOwnedError("the lease expired")
            return
        if gen:
            self._gen, self._doc_text = gen, text
        for name in self.retired:
            if name not in self.backends.stores.values():
                self._worlds.delete_later(self.name, name)
        self.retired = []

    def _free_stale(self) -> bool:
        """Give back the leases of requests that failed while Redis did not answer: only
        this process knows their tokens, and every process would wait for them to expire
        (``LEASE_MS``) after Redis answers again. True when one was given back."""
        freed = False
        now = time.monotonic()
        for token, since in list(self._stale.items()):
            if now - since > LEASE_MS / 1000:
                del self._stale[token]  # expired by now
            elif int(self._worlds.release(keys=self._keys, args=[token, "", "", "", 0, 0])):
                del self._stale[token]
                freed = True
        return freed

    # -- the world's document ------------------------------------------------------------
    def _export(self) -> str:
        clock = self.clock
        frozen = clock._frozen_at
        return json.dumps(
            {
                "uid": self.uid,
                "clock": {
                    "frozen_at": None if frozen is None else iso(frozen),
                    "offset": clock._offset.total_seconds(),
                },
                "seed": self.ids.seed,
                "base": self.seq_base,
                "settings": self.settings,
                "faults": {
                    "next": self.faults.next_id,
                    "rules": [[r.id, r.spec, r.matched, r.fired] for r in self.faults.rules],
                },
                "stores": self.backends.stores,
                "loaded": self.backends.loaded,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    def _load(self, text: str, cfg: str) -> None:
        doc = json.loads(text) if text else {}
        self._doc_text = text
        self.uid = doc.get("uid", "")
        clock = doc.get("clock", {})
        frozen = clock.get("frozen_at")
        self.clock._frozen_at = None if frozen is None else parse_iso(frozen)
        self.clock._offset = timedelta(seconds=clock.get("offset", 0))
        self.seq_base = doc.get("base", 0)
        seed = doc.get("seed", self.ids.seed)
        if seed != self.ids.seed:
            self.ids.seed = seed
            self.ids.restart()
        settings = default_settings(self._config)
        settings.update(doc.get("settings", {}))
        self.settings = settings
        faults = doc.get("faults", {})
        self.faults.seed = seed
        self.faults.next_id = faults.get("next", 1)
        self.faults.rules = [
            FaultRule(rid, spec, matched, fired)
            for rid, spec, matched, fired in faults.get("rules", [])
        ]
        self.backends.rebuild(
            doc.get("stores", {}), json.loads(cfg) if cfg else {}, doc.get("loaded", {})
        )

    # -- what a namespace does, on Redis -------------------------------------------------
    def reset(self, vendors: Iterable[str] | None = None) -> None:
        super().reset(vendors)
        if vendors is None:
            self.seq_base = self.seq

    def reseed(self, seed: int) -> None:
        super().reseed(seed)
        self.seq_base = self.seq

    def build_state(
        self,
        schemas: Schemas,
        doc: Any,
        vendor: str | None = None,
        owned: bool = False,
        valid: bool = False,
    ) -> dict[str, VendorBackend]:
        """Load into backends on the memory engine (every check as in one process), then
        copy each into a new store in Redis; ``backends.update`` switches to them."""
        local = Context(self.clock, self.ids, self.outbox)
        staged = load_backends(self.vendors, local, schemas, doc, vendor, owned, valid)
        built: dict[str, VendorBackend] = {}
        for slug, backend in staged.items():
            target = Store(self._engine(f"{slug}.{secrets.token_hex(4)}"))
            backend.store.copy_to(target)
            fresh = self.vendors[slug].new_backend(replace(self.ctx, stores=_always(target)))
            fresh.load_config(backend.dump_config())
            fresh.loaded = backend.loaded
            built[slug] = fresh
        return built

    def dump_state(self, vendor: str | None = None) -> dict[str, Any]:
        if vendor is not None:
            return self.backends[vendor].dump_state()
        return {slug: self.backends[slug].dump_state() for slug in self.vendors}


def _always(store: Store) -> Callable[[str], Store]:
    return lambda _slug: store


def store_name(store: Store) -> str:
    """The name of a store in Redis (its keys' prefix ends ``:<name>:``)."""
    prefix: bytes = store.engine.prefix  # type: ignore[attr-defined]
    return prefix.rsplit(b":", 2)[-2].decode()


class SharedNamespaces(Namespaces):
    """Every namespace, in Redis: the list is a set there, each world a ``SharedWorld``."""

    def __init__(self, config: Config, vendors: Sequence[Vendor], url: str) -> None:
        super().__init__(config, vendors)
        self.config = config
        self.vendors = self._vendors
        self.client = engine.connect(url)
        self.acquire: Callable[..., Any] = self.client.register_script(_ACQUIRE)
        self.release: Callable[..., Any] = self.client.register_script(_RELEASE)
        self._create = self.client.register_script(_CREATE)
        self._renew = self.client.register_script(_RENEW)
        self._janitor: queue.Queue[tuple[str, str]] = queue.Queue()
        self._janitor_thread: threading.Thread | None = None
        self.problem_since: float | None = None

    def register(self, name: str, cap: int | None = None) -> None:
        """Add ``name`` to the list and make its world in Redis if it is not there."""
        seed = self.config.seed
        if seed is None:  # one seed for the world, whichever process made it
            seed = secrets.randbelow(2**32)
        doc = json.dumps({"uid": secrets.token_hex(6), "seed": seed}, separators=(",", ":"))
        tag = b"crmsim:" + engine.world_tag(name)
        limit = 2**62 if cap is None else cap
        made = self._create(
            keys=[REGISTRY, tag + b":w"], args=[name, limit, secrets.token_hex(8), doc]
        )
        if not int(made):
            raise TooManyNamespaces(name, limit)

    def _get(self, name: str, cap: int | None) -> World:
        world = self._worlds.get(name)
        if world is None:
            self.register(name, cap)
            with self._lock:
                world = self._worlds.get(name)
                if world is None:
                    world = self._worlds[name] = SharedWorld(name, self)
                    self.version += 1
        return world

    def find(self, name: str) -> World | None:
        found = self._worlds.get(name)
        if found is not None:
            return found
        if not self.client.sismember(REGISTRY, name):
            return None
        return self._get(name, None)

    def names(self) -> list[str]:
        return sorted(n.decode() for n in self.client.smembers(REGISTRY))  # type: ignore[union-attr]

    def drop(self, name: str) -> bool:
        with self._lock:
            self.version += 1
            world = self._worlds.pop(name, None)
        if isinstance(world, SharedWorld):
            world.dropped = True
        existed = bool(self.client.srem(REGISTRY, name))
        self._delete_keys(engine._glob(b"crmsim:" + engine.world_tag(name) + b":") + b"*")
        return existed

    def _delete_keys(self, pattern: bytes) -> None:
        keys = list(self.client.scan_iter(match=pattern, count=1000))
        for at in range(0, len(keys), 1000):
            self.client.unlink(*keys[at : at + 1000])

    def keep(self, lock: bytes, token: bytes) -> None:
        KEEPER.keep((id(self), lock), self._renew, token)

    def let_go(self, lock: bytes) -> None:
        KEEPER.let_go((id(self), lock))

    # -- stores a load or a reset replaced, deleted in the background --------------------
    def delete_later(self, world: str, store: str) -> None:
        self._janitor.put((world, store))
        if self._janitor_thread is None or not self._janitor_thread.is_alive():
            self._janitor_thread = threading.Thread(
                target=self._sweep, name="crmsim-janitor", daemon=True
            )
            self._janitor_thread.start()

    def _sweep(self) -> None:
        while True:
            try:
                world, store = self._janitor.get(timeout=5)
            except queue.Empty:
                return
            prefix = b"crmsim:" + engine.world_tag(world) + b":" + store.encode() + b":"
            try:
                self._delete_keys(engine._glob(prefix) + b"*")
            except redis.RedisError:
                log.warning("could not delete the old store %s of %s", store, world)

    def problem(self) -> str | None:
        """None while Redis answers; else why not (health says ``degraded``)."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            if self.problem_since is None:
                self.problem_since = time.time()
            return f"the store (Redis) does not answer: {exc}"
        self.problem_since = None
        return None
