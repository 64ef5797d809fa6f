"""Namespaces: each a whole simulated world with its own state, clock, ids, journal and outbox."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from types import TracebackType
from typing import Any, Protocol

from simulator.clock import Clock, Ids
from simulator.config import Config
from simulator.errors import InvalidDocument, Problem, StateInvalid
from simulator.faults import Faults
from simulator.journal import Log, Outbox
from simulator.schemas import Schemas
from simulator.store.interface import adopting, deferring
from simulator.vendors._base import Context, Vendor, VendorBackend

# 1-64 of [A-Za-z0-9_.-] with at least one letter or digit: never ".", ".." or "..."
NAME = re.compile(r"^(?=[_.-]*[A-Za-z0-9])[A-Za-z0-9_.-]{1,64}$")
DEFAULT = "default"
BLANK_UID = "blank"  # the ETags' prefix of a namespace that does not exist: its state is empty
DROPS_KEPT = 10_000  # names whose drops are counted (beyond: counted afresh, seeds may repeat)


class Backends(MutableMapping[str, VendorBackend]):
    """A namespace's vendor backends, each built on first use.

    Every vendor the app serves is a key; an unused one costs nothing until a request or a
    state load reaches it (an empty namespace stays under 4 KiB). Deleting a key returns that
    vendor to empty.
    """

    __slots__ = ("_vendors", "_ctx", "_built")

    def __init__(self, vendors: Mapping[str, Vendor], ctx: Context) -> None:
        self._vendors = vendors
        self._ctx = ctx
        self._built: dict[str, VendorBackend] = {}

    def __getitem__(self, slug: str) -> VendorBackend:
        found = self._built.get(slug)
        if found is None:
            found = self._built[slug] = self._vendors[slug].new_backend(self._ctx)
        return found

    def __setitem__(self, slug: str, backend: VendorBackend) -> None:
        self._built[slug] = backend

    def __delitem__(self, slug: str) -> None:
        self._built.pop(slug, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._vendors)

    def __len__(self) -> int:
        return len(self._vendors)

    def __contains__(self, slug: object) -> bool:
        return slug in self._vendors

    def built(self, slug: str) -> VendorBackend | None:
        """The vendor's backend if anything has used it yet."""
        return self._built.get(slug)

    def clear(self) -> None:
        self._built.clear()


def default_settings(config: Config) -> dict[str, Any]:
    """A new namespace's settings (``PUT /__sim/settings`` changes them)."""
    return {
        "strict_contract": config.strict_contract,
        "journal_limit": config.journal_limit,
        "outbox_limit": config.outbox_limit,
        "journal_max_bytes": config.journal_max_bytes,
        "outbox_max_bytes": config.outbox_max_bytes,
        # each vendor's default delay, drawn before every one of its requests (a
        # distribution, schemas/sim/latency.json; docs/control-plane.md)
        "latency": {},
    }


class NamespaceLock(Protocol):
    """A namespace's lock, reentrant: a ``threading.RLock``, or a shared world's lease that
    also holds the namespace in Redis (simulator/shared.py)."""

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> bool: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...


class World:
    """One namespace. Hold ``lock`` around anything that reads-then-writes its state."""

    # True for a world whose state lives in Redis, shared by processes (simulator/shared.py)
    shared = False

    def __init__(
        self,
        name: str,
        config: Config,
        vendors: Sequence[Vendor] | Mapping[str, Vendor],
        seed: int | None = None,
        uid: str | None = None,
    ) -> None:
        """``seed``: the id source's when ``CRMSIM_SEED`` sets none (random when None too);
        ``uid``: the ETags' prefix (random when None: ``Namespaces`` gives a blank one a
        fixed one)."""
        self.name = name
        self.lock: NamespaceLock = threading.RLock()
        # Bumped by every request that may change the namespace (vendor writes, control
        # writes): the snapshot thread of ``serve --data`` saves only what changed.
        self.changes = 0
        # with ``changes``, the ETag of the state (admin/routes.py): a namespace dropped and
        # made again, or a restarted crmsim, never repeats an old tag
        self.uid = uid or secrets.token_hex(6)
        # shared by every namespace of an app when given as a mapping (it never changes)
        self.vendors = vendors if isinstance(vendors, Mapping) else {v.slug: v for v in vendors}
        self.settings = default_settings(config)
        self.clock = Clock()
        self.ids = Ids(config.seed if config.seed is not None else seed)
        self.journal = Log(config.journal_limit, config.journal_max_bytes)
        # request and response bodies longer than this are journaled truncated
        self.journal_body_bytes = config.journal_body_bytes
        self.outbox = Outbox(config.outbox_limit, self.clock, config.outbox_max_bytes)
        self.faults = Faults(self.ids.seed)
        self.ctx = Context(self.clock, self.ids, self.outbox)
        self.backends = Backends(self.vendors, self.ctx)

    def compact(self) -> int:
        """Move what large loads left in this namespace's tables into memory of their own
        (``Table.compact``), once their parsed documents are gone: every table written
        first, then every one read back, the collector off meanwhile and what was read
        frozen after (``bulk_load``). The number of documents compacted. Hold ``lock``. A
        shared world's tables live in Redis: nothing to compact."""
        if self.shared:
            return 0
        steps = [
            step
            for slug in self.backends
            if (backend := self.backends.built(slug)) is not None
            for step in backend.store.compact()
        ]
        if not steps:
            return 0
        with bulk_load(FREEZE_AT):
            return sum(step() for step in steps)

    def reset(self, vendors: Iterable[str] | None = None) -> None:
        """Empty the namespace; with ``vendors``, only those vendors' state."""
        if vendors is not None:
            for slug in vendors:
                del self.backends[slug]
            return
        self.backends.clear()
        self.journal.restart()
        self.outbox.restart()
        self.clock.freeze(None)
        self.ids.restart()
        self.faults.restart(self.ids.seed)

    def reseed(self, seed: int) -> None:
        """Seed the id source and the fault rules' random draws."""
        self.ids.reseed(seed)
        self.faults.reseed(seed)

    def apply_settings(self, changes: Mapping[str, Any]) -> None:
        # JSON Schema's "integer" admits 3.0: store it as 3
        self.settings.update(
            {k: int(v) if k.endswith(("_limit", "_bytes")) else v for k, v in changes.items()}
        )
        self.journal.set_limit(self.settings["journal_limit"], self.settings["journal_max_bytes"])
        self.outbox.set_limit(self.settings["outbox_limit"], self.settings["outbox_max_bytes"])

    # -- the state document ------------------------------------------------------------
    def dump_state(self, vendor: str | None = None) -> dict[str, Any]:
        if vendor is not None:
            return self._dump(vendor)
        return {slug: self._dump(slug) for slug in self.vendors}

    def _dump(self, slug: str) -> dict[str, Any]:
        # a vendor nothing has used yet answers as an empty one, and stays unbuilt
        found = self.backends.built(slug)
        if found is None:
            found = self.vendors[slug].new_backend(self.ctx)
        return found.dump_state()

    def build_state(
        self,
        schemas: Schemas,
        doc: Any,
        vendor: str | None = None,
        owned: bool = False,
        valid: bool = False,
    ) -> dict[str, VendorBackend]:
        """New backends loaded from ``doc`` (whole document, or one vendor's part).

        Raises ``InvalidDocument`` with every error found; the namespace is not touched.
        """
        return load_backends(self.vendors, self.ctx, schemas, doc, vendor, owned, valid)


def load_backends(
    vendors: Mapping[str, Vendor],
    ctx: Context,
    schemas: Schemas,
    doc: Any,
    vendor: str | None = None,
    owned: bool = False,
    valid: bool = False,
) -> dict[str, VendorBackend]:
    """New backends in ``ctx`` loaded from a state document (see ``World.build_state``).
    ``owned``: the document was parsed for this load and nobody keeps it, so the stores may
    keep its records as they are instead of copying them (``store.adopting``). ``valid``:
    the schema's validator has accepted it already (``schemas.fast_valid``)."""
    schema = f"{vendor}/state.json" if vendor else "sim/state.schema.json"
    errors = [] if valid else schemas.validate(schema, doc)
    if errors:
        raise InvalidDocument(errors)
    parts = {vendor: doc} if vendor else {s: doc.get(s, {}) for s in vendors}
    built: dict[str, VendorBackend] = {}
    adopt = adopting() if owned else contextlib.nullcontext()
    # deferring: the tables fill their indexes in bulk, each before its first read (and at
    # the end), instead of one insort per record and index (docs/serving.md)
    with bulk_load(sum(_records(part) for part in parts.values())), adopt, deferring():
        for slug, part in parts.items():
            fresh = vendors[slug].new_backend(ctx)
            try:
                fresh.load_state(part)
            except StateInvalid as exc:
                prefix = "" if vendor else "/" + slug
                errors.extend({**e, "pointer": prefix + e["pointer"]} for e in exc.errors)
            fresh.loaded = _holds_state(part)
            built[slug] = fresh
    if errors:
        raise InvalidDocument(errors)
    return built


_bulk_lock = threading.Lock()
_bulk_depth = 0
FREEZE_AT = 20_000  # records: smaller loads leave the collector alone
# A state document this long (about 15,000 BOTW records) is parsed as a large load: the
# collector runs before its parse, not after (a full collection with 100,000 parsed AntCRM
# records alive took a second), and the parsed containers are frozen with the records
LARGE_STATE_BYTES = 4 << 20


def _records(part: Any) -> int:
    """Records in one vendor's part of a state document (the lengths of its lists)."""
    if not isinstance(part, Mapping):
        return 0
    return sum(len(v) for v in part.values() if isinstance(v, list))


def _holds_state(part: Any) -> bool:
    """Whether one vendor's part of a state document holds anything: a non-empty list or
    object (keys, records). Settings alone, or a restored empty vendor, are no state."""
    return isinstance(part, Mapping) and any(
        isinstance(v, list | Mapping) and len(v) > 0 for v in part.values()
    )


@contextlib.contextmanager
def bulk_load(records: int = 0) -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of a bulk load; freeze what a large one
    built.

    A load allocates millions of dicts and lists that hold no reference cycles; the
    collector would rescan them again and again while they are built (most of a load's
    time), and after it, each young-generation pass would walk all of them once more (a
    pause of a second per million records on the first requests). So the collector is off
    during the load, and after a load of ``FREEZE_AT`` records or more, ``gc.freeze()`` moves
    everything out of its sight; reference counting still frees the records when a later
    load or a reset replaces them. A full collection runs before such a load, so that no
    cyclic garbage of earlier work is frozen with them (frozen objects are not rescanned,
    so it costs the same whatever earlier loads built).
    """
    global _bulk_depth
    large = records >= FREEZE_AT
    with _bulk_lock:
        if large:
            gc.collect()
        if _bulk_depth == 0:
            gc.disable()
        _bulk_depth += 1
    try:
        yield
    finally:
        with _bulk_lock:
            global _trim_due
            _bulk_depth -= 1
            if large:
                gc.freeze()
                _trim_due = True
            if _bulk_depth == 0:
                gc.enable()


_trim_due = False  # a large load finished since ``give_back_memory`` last ran


def give_back_memory(*worlds: World) -> None:
    """After a load into ``worlds``, once its parsed document is dropped: compact what a
    large load left in their tables (``World.compact``), then hand the C allocator's free
    memory back to the system (glibc's ``malloc_trim``; nothing where there is none). The
    caller holds the worlds' locks.

    The load's large text, its big tables and what Python's allocator passes to C's go
    back to the C heap when freed, and glibc returns only what lies at the heap's top: a
    100,000-record CRM.COM load left 1.0 KiB of RSS per record there, which this takes
    back in about 10 ms (docs/serving.md, "Memory per record")."""
    global _trim_due
    compacted = sum(world.compact() for world in worlds)
    with _bulk_lock:
        due, _trim_due = _trim_due or compacted > 0, False
    trim = _malloc_trim() if due else None
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes  # only once a large load happened: most runs never need it

    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the process's C library
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


M_ARENA_MAX = -8  # glibc's mallopt parameter: how many malloc arenas threads may use


def one_malloc_arena() -> bool:
    """In a server's worker, before its threads start: every thread allocates from glibc's
    one main arena (``mallopt(M_ARENA_MAX, 1)``), as ``MALLOC_ARENA_MAX=1`` would. By
    default each thread that mallocs gets an arena of its own; a state load runs in one of
    the app's threads, so what it freed stayed in that thread's arena, and the next load
    in another thread took new memory beside it: an AntCRM load of 100,000 after a BOTW
    one added 1.75 KiB per record, 1.17 with one arena (docs/serving.md, "Memory per
    record"). The app's threads allocate holding the GIL: one arena costs them no wait
    (requests per second the same within 2%). False where the C library is not glibc."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, 1))


class TooManyNamespaces(Problem):
    """A request would create a namespace beyond ``max_namespaces``."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(
            429,
            "Too many namespaces",
            f"Namespace '{name}' does not exist and {limit} namespace(s) exist already, the "
            "max_namespaces setting (CRMSIM_MAX_NAMESPACES); drop one "
            "(DELETE /__ns/<name>/__sim) or raise the setting. Nothing was evicted.",
            setting="max_namespaces",
            limit=limit,
        )


class Namespaces:
    """Every namespace of one app. Requests that write create theirs (``create``, up to
    ``max_namespaces``); reads of a namespace that does not exist see a ``blank`` one that
    is never stored."""

    def __init__(self, config: Config, vendors: Sequence[Vendor]) -> None:
        self._config = config
        self._vendors = {v.slug: v for v in vendors}
        self._worlds: dict[str, World] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped when a namespace is created or dropped
        # Without CRMSIM_SEED a namespace's seed is drawn from this process's salt, its name
        # and how many times it was dropped: a read of a namespace that does not exist yet
        # (GET /__sim/seed) tells the seed it will be created with, and one made again
        # after a drop gets a new one
        self._salt = secrets.token_bytes(16)
        self._drops: dict[str, int] = {}

    def get(self, name: str) -> World:
        """The namespace, created if need be whatever the cap (restoring a snapshot)."""
        return self._get(name, None)

    def create(self, name: str) -> World:
        """The namespace, created if need be; ``TooManyNamespaces`` beyond the cap."""
        return self._get(name, self._config.max_namespaces)

    def _get(self, name: str, cap: int | None) -> World:
        world = self._worlds.get(name)
        if world is None:
            with self._lock:
                world = self._worlds.get(name)
                if world is None:
                    if cap is not None and len(self._worlds) >= cap:
                        raise TooManyNamespaces(name, cap)
                    world = World(name, self._config, self._vendors, self._seed(name))
                    self._worlds[name] = world
                    self.version += 1
        return world

    def blank(self, name: str) -> World:
        """A new empty namespace that is not stored: what a read of a missing one sees,
        with the seed it will be created with and an ETag that stays put (an empty state
        is always the same one)."""
        return World(name, self._config, self._vendors, self._seed(name), BLANK_UID)

    def _seed(self, name: str) -> int:
        made = f"{name}:{self._drops.get(name, 0)}".encode()
        digest = hashlib.blake2b(made, digest_size=4, key=self._salt).digest()
        return int.from_bytes(digest, "big")

    def find(self, name: str) -> World | None:
        """The namespace if it exists (never creates one)."""
        return self._worlds.get(name)

    def names(self) -> list[str]:
        return sorted(self._worlds)

    def drop(self, name: str) -> bool:
        with self._lock:
            self.version += 1
            dropped = self._worlds.pop(name, None) is not None
            if dropped:
                if len(self._drops) >= DROPS_KEPT and name not in self._drops:
                    self._drops.clear()  # a client making and dropping names without end
                self._drops[name] = self._drops.get(name, 0) + 1
            return dropped
