"""The gunicorn worker's quit signal (simulator/gunicorn_worker.py): SIGQUIT, which the arbiter
sends its worker on SIGINT, stops the worker from its event loop, never from the signal
handler. gthread's own handler shut the thread pool down in the handler: a signal that
arrived while the event loop was handing a connection to the pool (``submit``, its lock
held) hung the worker until the arbiter killed it, 60 s later, without its last snapshot.

Each case runs a real worker (``init_process``: gunicorn's signals, the wake-up pipe, the
event loop) in a process of its own, and delivers SIGQUIT at the moment it names by
``signal.raise_signal``, which runs the handler right there, as a signal arriving then would.
"""

import json
import subprocess
import sys

import pytest

from simulator.config import Config

PROBE = r"""
import gc, json, os, signal, sys
from concurrent.futures import ThreadPoolExecutor

from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from simulator.gunicorn_worker import Worker

where, kind = sys.argv[1], sys.argv[2]
out = {"unraisable": []}
sys.unraisablehook = lambda u: out["unraisable"].append(repr(u.exc_value))
fired = []


def quit_once():
    if not fired:
        fired.append(where)
        signal.raise_signal(signal.SIGQUIT)  # the handler runs here, as a signal would


class Pool(ThreadPoolExecutor):
    def _adjust_thread_count(self):  # called by submit with both of its locks held
        if where == "submit":
            quit_once()
        super()._adjust_thread_count()


class Probe(Worker if kind == "crmsim" else ThreadWorker):
    def get_thread_pool(self):
        return Pool(max_workers=1)


def in_a_gc_callback(phase, info):
    if where == "gc" and phase == "stop":
        quit_once()


def the_loop_is_running(worker):  # gunicorn's post_worker_init hook, before the loop
    if where == "submit":  # as the loop hands a connection to a thread
        worker.method_queue.defer(lambda: worker.tpool.submit(int))
    else:  # a collection in the loop, its callback interrupted
        gc.callbacks.append(in_a_gc_callback)
        worker.method_queue.defer(gc.collect)


class App:
    def wsgi(self):
        return lambda environ, start_response: []


cfg = Config()
cfg.set("post_worker_init", the_loop_is_running)
worker = Probe(1, os.getppid(), [], App(), 30, cfg, Logger(cfg))
try:
    worker.init_process()
    out["ended"] = "returned"
except SystemExit as exc:
    out["ended"] = f"SystemExit({exc.code})"
out["fired"] = fired
# a second signal while the worker exits (where it writes its last snapshot)
try:
    signal.raise_signal(signal.SIGQUIT)
    out["second"] = "noted"
except SystemExit:
    out["second"] = "raised SystemExit"
print(json.dumps(out))
"""


def probe(where: str, kind: str = "crmsim") -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, where, kind],
            capture_output=True,
            text=True,
            timeout=30,  # it takes a fraction of a second; the hang it guards against is forever
        )
    except subprocess.TimeoutExpired:  # run() has killed it
        pytest.fail(f"the worker hung on SIGQUIT delivered in {where}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("where", ["submit", "gc"])
def test_sigquit_stops_the_worker_from_its_event_loop(where):
    out = probe(where)
    assert out["fired"] == [where]
    assert out["ended"] == "SystemExit(0)"  # from the loop: then worker_exit, the snapshot
    assert out["unraisable"] == []  # nothing raised where it is swallowed (a gc callback)
    assert out["second"] == "noted"  # never raised into the last snapshot


def test_the_gunicorn_server_runs_this_worker():
    from simulator.gunicorn_worker import Worker
    from simulator.serve import gunicorn_server

    server = gunicorn_server(Config(port=1))
    assert server.cfg.worker_class is Worker
    assert server.cfg.threads == Config().threads
