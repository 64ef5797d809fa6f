"""``crmsim serve --data FILE``: every namespace kept in one file across restarts.

The file is a snapshot document::

    {"format": "crmsim-snapshot", "version": 1, "crmsim": "0.1.0", "taken_at": 1717243200.5,
     "namespaces": {"default": {"state": {...}, "settings": {...}, "seed": 7,
                                "random": [...], "clock": {"frozen_at": null,
                                "offset_seconds": 0.0}, "changes": 12}}}

``state`` is the namespace's state document (``PUT /__sim/state`` loads it); the rest
restores the namespace faithfully: its settings, the seed and the position of its id
source (so that ids generated after a restart do not repeat earlier ones), its clock
(frozen instant, or offset from real time). ``taken_at`` (seconds since the epoch) is when
the snapshot began: every change acknowledged before it is in the file.

Not kept: the journal, the outbox and the fault rules. They record and steer a test
session, not the simulated world; a restart starts them empty.

A ``Persister`` loads the file at start (a file that is damaged or not a crmsim snapshot is
refused, never replaced), then a thread writes a snapshot whenever anything changed, at most
``interval`` seconds apart, and once more at shutdown. Writes are atomic: a temporary file
in the same directory, fsync, rename over the file, fsync of the directory; a crash at any
moment leaves either the old snapshot or the new one.

A snapshot that fails is loud: ``problem`` says why (``GET /__sim/health`` answers
``degraded`` with it) and the log says it once per new cause. Each namespace is encoded on
its own, so one namespace that cannot be encoded never stops the others being saved: the
file keeps that namespace as its last good snapshot had it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from simulator import __version__
from simulator.clock import iso, parse_iso, utc_now
from simulator.errors import InvalidDocument
from simulator.world import NAME, Namespaces, World, give_back_memory

FORMAT = "crmsim-snapshot"
VERSION = 1
HEADER = b'{"format":"crmsim-snapshot"'  # every snapshot begins so: a cheap first check
log = logging.getLogger("crmsim.persist")


class SnapshotRefused(Exception):
    """The data file cannot be loaded; the message says why and what to do."""


def _refuse(path: Path, why: str) -> SnapshotRefused:
    return SnapshotRefused(
        f"crmsim: refusing to start with --data {path}: {why}. The file was left untouched; "
        "move it away (or name another file) to start empty."
    )


def world_snapshot(world: World) -> dict[str, Any]:
    """One namespace as the snapshot keeps it (call with ``world.lock`` held)."""
    clock = world.clock
    offset = 0.0 if clock.frozen else (clock.now() - utc_now()).total_seconds()
    version, internal, gauss = world.ids.random.getstate()
    return {
        "state": world.dump_state(),
        "settings": dict(world.settings),
        "seed": world.ids.seed,
        "random": [version, list(internal), gauss],
        "clock": {
            "frozen_at": iso(clock.now()) if clock.frozen else None,
            "offset_seconds": round(offset, 3),
        },
        "changes": world.changes,
    }


def write_atomically(path: Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    data = text.encode("utf-8") if isinstance(text, str) else text
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def probe_directory(path: Path) -> None:
    """Write, fsync and remove a file beside ``path``, as a snapshot will (a permission
    check alone misses read-only file systems, and root passes every permission check)."""
    probe = path.with_name(f".{path.name}.probe-{os.getpid()}")
    try:
        with open(probe, "wb") as out:
            out.write(HEADER)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise _refuse(
            path, f"a file cannot be written in its directory {path.parent} ({exc.strerror})"
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def precheck(path: Path) -> None:
    """Checks before the server starts: a usable place (a file is written beside ``path``),
    and (when the file exists) a crmsim snapshot by its first bytes. ``read`` does the full
    check when loading."""
    if path.is_dir():
        raise _refuse(path, "it is a directory")
    if not path.parent.is_dir():
        raise _refuse(path, f"its directory {path.parent} does not exist")
    probe_directory(path)
    try:
        with open(path, "rb") as f:
            head = f.read(len(HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _refuse(path, f"it cannot be read ({exc.strerror})") from exc
    if head != HEADER:
        raise _refuse(path, f"it is not a crmsim snapshot (it does not begin {HEADER.decode()})")


def read(path: Path) -> dict[str, Any] | None:
    """The snapshot in ``path``; None when there is no file. Raises ``SnapshotRefused``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _refuse(path, f"it cannot be read ({exc.strerror})") from exc
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"it is not JSON ({exc}); it may be damaged") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _refuse(path, f'it is not a crmsim snapshot (no "format": "{FORMAT}")')
    if doc.get("version") != VERSION:
        raise _refuse(
            path, f"it is a version {doc.get('version')!r} snapshot; this crmsim reads {VERSION}"
        )
    spaces = doc.get("namespaces")
    if not isinstance(spaces, dict) or not all(
        isinstance(k, str) and NAME.match(k) and isinstance(v, dict) for k, v in spaces.items()
    ):
        raise _refuse(path, 'its "namespaces" is not an object of namespace documents')
    return doc


def restore(namespaces: Namespaces, schemas: Any, doc: dict[str, Any], path: Path) -> None:
    """Load every namespace of ``doc``. Raises ``SnapshotRefused`` naming the first problem."""
    for name, saved in doc["namespaces"].items():
        world = namespaces.get(name)
        try:
            with world.lock:
                world.backends.update(world.build_state(schemas, saved.get("state", {})))
                world.apply_settings(saved.get("settings", {}))
                seed = saved.get("seed")
                if isinstance(seed, int):
                    world.reseed(seed)
                state = saved.get("random")
                if state is not None:
                    version, internal, gauss = state
                    world.ids.random.setstate((version, tuple(internal), gauss))
                clock = saved.get("clock") or {}
                frozen = clock.get("frozen_at")
                world.clock.freeze(parse_iso(frozen) if frozen else None)
                if not frozen and clock.get("offset_seconds"):
                    world.clock.advance(float(clock["offset_seconds"]))
                world.changes = int(saved.get("changes", 0))
        except InvalidDocument as exc:
            errors = exc.errors or []
            first = errors[0] if errors else {}
            raise _refuse(
                path,
                f"namespace {name!r} holds an invalid state document ({len(errors)} "
                f"problem(s), first at {first.get('pointer')!r}: {first.get('message')})",
            ) from exc
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise _refuse(path, f"namespace {name!r} cannot be restored ({exc!r})") from exc


class Persister:
    """Loads ``path`` into an app's namespaces, then keeps the file up to date."""

    def __init__(self, namespaces: Namespaces, schemas: Any, path: Path, interval: float = 1.0):
        self.namespaces = namespaces
        self.schemas = schemas
        self.path = path
        self.interval = interval
        self._saved: Any = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.snapshots = 0
        # Why the last snapshot was incomplete or not written (None: it was complete), and
        # since when (seconds since the epoch). ``GET /__sim/health`` reports it.
        self.problem: str | None = None
        self.problem_since: float | None = None
        self._logged: tuple[str, ...] | None = None
        # The last good snapshot entry of each namespace that now fails to encode.
        self._kept: dict[str, bytes | None] = {}

    def load(self) -> None:
        """Restore the file's namespaces (none when there is no file yet)."""
        doc = read(self.path)
        if doc is not None:
            restore(self.namespaces, self.schemas, doc, self.path)
            del doc
            for name in self.namespaces.names():
                world = self.namespaces.get(name)
                with world.lock:
                    give_back_memory(world)
        self._saved = self._signature()

    def _signature(self) -> Any:
        return (
            self.namespaces.version,
            tuple(
                (n, w.changes)
                for n in self.namespaces.names()
                if (w := self.namespaces.find(n)) is not None
            ),
        )

    def save(self, force: bool = False) -> bool:
        """Write a snapshot if anything changed since the last one (or ``force``).

        True when a file was written (complete, or without the namespaces that failed, which
        keep their last good entry); False when nothing changed or the write failed. Never
        raises: ``problem`` says what went wrong.
        """
        with self._write_lock:
            signature = self._signature()
            if not force and signature == self._saved:
                return False
            data, failed = self._encode()
            try:
                write_atomically(self.path, data)
            except OSError as exc:
                why = exc.strerror or str(exc)
                self._report(f"writing the snapshot {self.path} failed ({why})", ("write", why))
                return False
            self._saved = signature
            self.snapshots += 1
            if failed:
                self._report(
                    "the snapshot could not encode namespace(s) "
                    + "; ".join(f"{name!r} ({why})" for name, why in failed)
                    + "; the file keeps their last good snapshot, every other namespace is saved",
                    ("encode", *(name + ":" + why.partition(":")[0] for name, why in failed)),
                )
            else:
                self._recovered()
            return True

    def _encode(self) -> tuple[bytes, list[tuple[str, str]]]:
        """The snapshot file's bytes, each namespace encoded on its own; and the namespaces
        that could not be encoded, with why."""
        taken_at = time.time()
        head = json.dumps(
            {"format": FORMAT, "version": VERSION, "crmsim": __version__, "taken_at": taken_at},
            separators=(",", ":"),
        )
        parts: list[bytes] = []
        failed: list[tuple[str, str]] = []
        for name in self.namespaces.names():
            world = self.namespaces.find(name)
            if world is None:
                continue
            try:
                with world.lock:
                    entry = world_snapshot(world)
                encoded = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
            except Exception as exc:  # bad data in one namespace must not stop the others
                failed.append((name, f"{type(exc).__name__}: {str(exc)[:200]}"))
                kept = self._last_good(name)
                if kept is not None:
                    parts.append(json.dumps(name).encode() + b":" + kept)
                continue
            self._kept.pop(name, None)
            parts.append(json.dumps(name).encode() + b":" + encoded)
        for gone in set(self._kept) - {name for name, _ in failed}:
            del self._kept[gone]  # recovered, or dropped while it failed
        return head[:-1].encode() + b',"namespaces":{' + b",".join(parts) + b"}}", failed

    def _last_good(self, name: str) -> bytes | None:
        """``name``'s entry in the file on disk (read once, when it first fails)."""
        if name not in self._kept:
            entry: bytes | None = None
            try:
                doc = read(self.path)
            except SnapshotRefused:
                doc = None
            if doc is not None and isinstance(doc["namespaces"].get(name), dict):
                entry = json.dumps(
                    doc["namespaces"][name], separators=(",", ":"), ensure_ascii=False
                ).encode()
            self._kept[name] = entry
        return self._kept[name]

    def _report(self, problem: str, cause: tuple[str, ...]) -> None:
        """Record ``problem``; log it when its ``cause`` (what failed, and the kind of error,
        without details that change from one snapshot to the next) is new."""
        if self.problem is None:
            self.problem_since = time.time()
        self.problem = problem
        if cause != self._logged:
            self._logged = cause
            log.error("crmsim: %s", problem)

    def _recovered(self) -> None:
        if self.problem is not None:
            log.warning("crmsim: snapshots of %s are complete again", self.path)
        self.problem = self.problem_since = self._logged = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="crmsim-snapshots", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.monotonic()
            try:
                self.save()
            except Exception as exc:  # a bug: say so, and keep trying
                self._report(
                    f"taking a snapshot failed ({type(exc).__name__}: {exc})",
                    ("bug", type(exc).__name__),
                )
            took = time.monotonic() - started
            if took > self.interval:
                log.warning("crmsim: a snapshot took %.1f s (interval %.1f s)", took, self.interval)

    def stop(self) -> None:
        """Stop the thread and write a last snapshot if anything changed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.save()
