"""``crmsim serve --shadow botw=URL``: each vendor request also goes to the real sandbox, in
the background, and the differences land in its journal entry.

The caller's answer and latency are crmsim's alone: the request thread only puts the
journaled entry on a bounded queue (``capacity``; when it is full the entry is marked
``dropped`` and counted, never waited for) and one worker thread, started on first use,
sends the request to the real vendor with ``requests`` and compares the answers with
``simulator.drift.compare``. Journal entries of a shadowed vendor carry two more fields:

* ``shadow``: ``pending`` (queued or being sent), ``compared``, ``dropped`` (the queue was
  full), ``skipped: ...`` (a fault rule answered, or the body was over the journal's bound,
  so there is nothing honest to compare), or ``failed: ...`` (the real vendor did not answer);
* ``drift``: null until compared, then the list of differences (``kind``, ``pointer``,
  ``real``, ``crmsim``, ``detail``), empty when the answers agree.

Both are written with the entry (``mark``, before it is journaled) and change once the real
vendor has answered, through the journal's ``amend`` (the store's write-back: the entry
``append`` returned may be a copy, on Redis): a reader of ``GET /__sim/journal`` sees them
settle (eventually consistent; docs/drift.md). The drift's JSON counts against the
journal's byte bound.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.drift import compare
from simulator.scenarios.transport import Answer, _decode

if TYPE_CHECKING:
    from simulator.pipeline import Call
    from simulator.schemas import Schemas
    from simulator.world import World

log = logging.getLogger("crmsim.shadow")
# Request headers not sent on: the real host's own, and how this request was framed.
NOT_SENT = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-connection",
    }
)


@dataclass
class _Job:
    world: World
    entry: dict[str, Any]
    url: str
    method: str
    query: str
    headers: dict[str, str]
    body: bytes
    operation: str | None
    answer: Answer


class Shadow:
    """The queue and the worker of ``serve --shadow`` (one per app)."""

    def __init__(
        self,
        urls: Mapping[str, str],
        schemas: Schemas | None = None,
        capacity: int = 256,
        timeout: float = 30.0,
    ) -> None:
        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.schemas = schemas
        self.timeout = timeout
        self.queue: queue.Queue[_Job | None] = queue.Queue(maxsize=capacity)
        self.counts = {"queued": 0, "compared": 0, "dropped": 0, "failed": 0, "skipped": 0}
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._session: Any = None

    def mark(self, call: Call, entry: dict[str, Any]) -> None:
        """From the request thread, before the entry is journaled: its ``shadow`` (pending,
        or skipped and why) and ``drift`` fields, for a shadowed vendor's request."""
        vendor = call.vendor.slug if call.vendor is not None else None
        if vendor not in self.urls or vendor is None:
            return
        entry["shadow"] = "pending"
        entry["drift"] = None
        sent, answered = entry["request"]["raw"], entry["response"]["raw"]
        if call.fault is not None or entry["response"]["status"] is None:
            said = "skipped: a fault rule answered"
        elif sent.sha256 is not None or answered.sha256 is not None:
            said = "skipped: a body over the journal's bound"
        else:
            return
        entry["shadow"] = said
        self._count("skipped")

    def offer(self, call: Call, entry: dict[str, Any]) -> None:
        """From the request thread, once the entry ``mark`` marked pending was journaled
        (``entry``: as ``append`` returned it, with its id): queue it for the worker."""
        if entry.get("shadow") != "pending" or call.vendor is None:
            return
        vendor = call.vendor.slug
        sent, answered = entry["request"]["raw"], entry["response"]["raw"]
        headers = {k: v for k, v in sent.header_map().items() if k.lower() not in NOT_SENT}
        job = _Job(
            call.world,
            entry,
            self.urls[vendor] + entry["request"]["path"],
            entry["request"]["method"],
            sent.query or "",
            headers,
            sent.data,
            call.name,
            Answer(entry["response"]["status"], answered.header_map(), _decode(answered.data)),
        )
        self._ensure_worker()
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            self._settle(job, "dropped", {"shadow": "dropped"})
            if self.counts["dropped"] in (1, 10, 100) or self.counts["dropped"] % 1000 == 0:
                log.warning(
                    "shadow queue full: %d request(s) not sent to the real vendor so far",
                    self.counts["dropped"],
                )
            return
        with self._start:
            self.counts["queued"] += 1

    def _count(self, count: str) -> None:
        with self._start:
            self.counts[count] += 1

    def _settle(self, job: _Job, count: str, fields: dict[str, Any]) -> None:
        """Write ``fields`` into the job's journal entry, unless it is gone (evicted, or the
        namespace was reset: an id is used again after a reset, hence ``expect``)."""
        self._count(count)
        entry = job.entry
        size = None
        if entry.get("_bytes") and fields.get("drift"):
            size = entry["_bytes"] + len(json.dumps(fields["drift"], default=str))
        expect = {"shadow": "pending", "at": entry["at"], "duration_ms": entry["duration_ms"]}
        with job.world.lock:  # the store's rule for a read-modify-write
            job.world.journal.amend(entry["id"], fields, size, expect)

    def _ensure_worker(self) -> None:
        if self._thread is not None:
            return
        with self._start:  # also guards the counts
            if self._thread is None:
                import requests

                self._session = requests.Session()
                self._thread = threading.Thread(
                    target=self._work, name="crmsim-shadow", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            try:
                if job is None:
                    return
                self._one(job)
            except Exception:  # a bug here must not stop shadowing
                log.exception("shadow comparison failed")
            finally:
                self.queue.task_done()

    def _one(self, job: _Job) -> None:
        import requests

        try:
            r = self._session.request(
                job.method,
                job.url + ("?" + job.query if job.query else ""),
                headers=job.headers,
                data=job.body or None,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            said = f"failed: {type(exc).__name__}: {exc}"[:300]
            self._settle(job, "failed", {"shadow": said})
            return
        real = Answer(r.status_code, dict(r.headers.items()), _decode(r.content))
        drifts = compare(job.operation, real, job.answer, self.schemas)
        drift = [d.as_dict() for d in drifts]
        self._settle(job, "compared", {"shadow": "compared", "drift": drift})

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker after what is queued (tests; a served app's is a daemon)."""
        thread = self._thread
        if thread is None:
            return
        try:
            self.queue.put(None, timeout=timeout)
        except queue.Full:
            return
        thread.join(timeout)


def from_config(extra: Mapping[str, Any], schemas: Schemas) -> Shadow | None:
    """The app's ``Shadow`` when the config names vendors to shadow (``shadow``: vendor ->
    real base URL; ``shadow_queue``: the queue's capacity)."""
    urls = extra.get("shadow")
    if not urls:
        return None
    return Shadow(dict(urls), schemas, int(extra.get("shadow_queue", 256)))
