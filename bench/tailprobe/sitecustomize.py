"""Where a served crmsim's tail latency comes from, measured inside its processes.

docs/serving.md, "Garbage collection and the tail". Not part of crmsim: Python imports this
file at start when its directory is on PYTHONPATH, in every process (the harness, `crmsim
serve`, granian's worker), and it does nothing unless CRMSIM_PROBE names a directory:

    PYTHONPATH=bench/tailprobe CRMSIM_PROBE=/tmp/probe .venv/bin/python bench/run.py \\
        --sizes 1000 --repeat 1 --duration 5 --no-wiremock --no-redis --out /tmp/probe/R.md
    .venv/bin/python bench/tailprobe/summary.py /tmp/probe

Each process writes, to files named by its pid:

* ``gc-PID.tsv``: every collection of generation 2, and any over 2 ms: unix time,
  generation, wall ms, objects collected, thread, its CPU ms; with CRMSIM_PROBE_CENSUS=1
  also the tracked objects by type at each full pass (slow: for finding what grows).
* ``req-PID.tsv`` (CRMSIM_PROBE_REQ=1, the default): the time of every WSGI call in the
  RSGI bridge (``C`` rows: unix time, ms, ms of collections inside it, path, thread), and
  ``R`` rows for a whole ``__rsgi__`` over 20 ms.
* ``lag-PID.tsv``: each tick of a 5 ms timer on granian's event loop that came over 15 ms
  late: unix time, ms late, the loop thread's CPU ms meanwhile (about the lag: the loop
  ran something; about 0: it was off the CPU or waiting), its involuntary context switches.

Settings to compare with (in the worker): CRMSIM_PROBE_TASK=rust|asyncio (granian's task
implementation), CRMSIM_PROBE_NOTAME=1 (no ``serve.steady_gc``: the collector as Python
sets it up), CRMSIM_PROBE_THRESHOLD=700,10,1 (``gc.set_threshold`` after it).
"""

from __future__ import annotations

import collections
import gc
import importlib.abc
import importlib.util
import os
import sys
import threading
import time
from typing import Any

OUT = os.environ.get("CRMSIM_PROBE")
_files: dict[tuple[str, int], Any] = {}
_state: dict[str, float] = {"start": 0.0, "cpu": 0.0, "gc_ms": 0.0}


def _out(kind: str) -> Any:
    key = (kind, os.getpid())  # granian forks its worker: a file per process
    found = _files.get(key)
    if found is None:
        assert OUT is not None
        found = _files[key] = open(  # kept open for the process's life
            os.path.join(OUT, f"{kind}-{key[1]}.tsv"), "a", buffering=1 << 16
        )
    return found


def _census(generation: int) -> str:
    if generation != 2 or os.environ.get("CRMSIM_PROBE_CENSUS") != "1":
        return ""
    objects = gc.get_objects()
    kinds = collections.Counter(type(o).__name__ for o in objects)
    top = " ".join(f"{k}:{v}" for k, v in kinds.most_common(10))
    return f"frozen={gc.get_freeze_count()} tracked={len(objects)} {top}"


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _state["start"], _state["cpu"] = time.perf_counter(), time.thread_time()
        return
    wall = (time.perf_counter() - _state["start"]) * 1000
    cpu = (time.thread_time() - _state["cpu"]) * 1000
    _state["gc_ms"] += wall
    generation = info["generation"]
    if generation == 2 or wall > 2:
        out = _out("gc")
        out.write(
            f"{time.time():.4f}\t{generation}\t{wall:.2f}\t{info['collected']}\t"
            f"{threading.current_thread().name}\tcpu={cpu:.2f}\t{_census(generation)}\n"
        )
        out.flush()


def _involuntary_switches() -> int:
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/status") as status:
            for line in status:
                if line.startswith("nonvoluntary_ctxt_switches"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def _patch_rsgi(module: Any) -> None:
    bridge = module.Bridge
    call, rsgi, rsgi_init = bridge.call, bridge.__rsgi__, bridge.__rsgi_init__

    def timed_call(self: Any, environ: dict[str, Any]) -> Any:
        gc_before, started = _state["gc_ms"], time.perf_counter()
        try:
            return call(self, environ)
        finally:
            took = (time.perf_counter() - started) * 1000
            _out("req").write(
                f"{time.time():.4f}\tC\t{took:.3f}\t{_state['gc_ms'] - gc_before:.2f}\t"
                f"{environ.get('PATH_INFO')}\t{threading.current_thread().name}\n"
            )

    async def timed_rsgi(self: Any, scope: Any, proto: Any) -> None:
        started = time.perf_counter()
        try:
            await rsgi(self, scope, proto)
        finally:
            took = (time.perf_counter() - started) * 1000
            if took > 20:
                _out("req").write(f"{time.time():.4f}\tR\t{took:.3f}\t0\t{scope.path}\t-\n")

    def with_ticker(self: Any, loop: Any) -> None:
        rsgi_init(self, loop)
        last = {"t": time.perf_counter(), "cpu": time.thread_time()}
        last["nv"] = _involuntary_switches()

        def tick() -> None:
            now, cpu, nv = time.perf_counter(), time.thread_time(), _involuntary_switches()
            late = (now - last["t"] - 0.005) * 1000
            if late > 15:
                _out("lag").write(
                    f"{time.time():.4f}\t{late:.1f}\tcpu={(cpu - last['cpu']) * 1000:.1f}\t"
                    f"nvcsw+={nv - last['nv']}\tload={os.getloadavg()[0]:.2f}\n"
                )
            last.update(t=now, cpu=cpu, nv=nv)
            loop.call_later(0.005, tick)

        loop.call_later(0.005, tick)

    def flush() -> None:
        while True:
            time.sleep(1)
            for out in list(_files.values()):
                try:
                    out.flush()
                except (OSError, ValueError):
                    pass

    bridge.__rsgi_init__ = with_ticker
    if os.environ.get("CRMSIM_PROBE_REQ", "1") == "1":
        bridge.call, bridge.__rsgi__ = timed_call, timed_rsgi
    threading.Thread(target=flush, daemon=True, name="tailprobe").start()


def _patch_mp(module: Any) -> None:
    impl = os.environ.get("CRMSIM_PROBE_TASK")
    if not impl:
        return
    from granian.constants import TaskImpl

    init = module.MPServer.__init__

    def with_task_impl(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "task_impl": TaskImpl(impl)})

    module.MPServer.__init__ = with_task_impl


def _patch_serve(module: Any) -> None:
    if os.environ.get("CRMSIM_PROBE_NOTAME") == "1":
        module.steady_gc = lambda: None
        return
    threshold = os.environ.get("CRMSIM_PROBE_THRESHOLD")
    if threshold:
        steady = module.steady_gc

        def steady_then_threshold() -> None:
            steady()
            young, middle, full = (int(n) for n in threshold.split(","))
            gc.set_threshold(young, middle, full)

        module.steady_gc = steady_then_threshold


PATCHES = {"simulator.rsgi": _patch_rsgi, "granian.server.mp": _patch_mp}
PATCHES["simulator.serve"] = _patch_serve


class _Finder(importlib.abc.MetaPathFinder):
    """Runs a patch right after its module is first imported."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module: Any) -> None:
            exec_module(module)
            PATCHES[name](module)

        spec.loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


if OUT:
    gc.callbacks.append(_on_gc)
    sys.meta_path.insert(0, _Finder())
