"""Serving under gunicorn: one worker (all state lives in that process), several threads."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from simulator.config import Config

ONE_WORKER = (
    "the memory store keeps every namespace's state in one process, so it runs exactly one "
    "worker; more workers would each hold a different, diverging copy of the state. "
    "Use --threads to serve more requests at once, or a shared store "
    "(--store redis://HOST:PORT/DB, docs/scale-out.md) for several workers."
)


class WorkersRefused(ValueError):
    pass


def gunicorn_server(config: Config, options: dict[str, Any] | None = None) -> Any:
    """gunicorn serving ``create_app()`` with one worker and ``threads`` threads; gunicorn is
    imported only when it is the server chosen (a twentieth of a second of granian's start)."""
    from gunicorn.app.base import BaseApplication

    from simulator.gunicorn_worker import Worker

    class Server(BaseApplication):  # type: ignore[misc]
        """gunicorn serving ``create_app()`` with one worker and ``threads`` threads."""

        def __init__(self, config: Config, options: dict[str, Any] | None = None) -> None:
            self.crmsim_config = config
            self.options = {
                "bind": f"{config.host}:{config.port}",
                "workers": config.workers,
                # gthread, its quit signal (SIGINT, SIGQUIT) acted on outside the signal
                # handler: gthread's own handler could hang the worker (gunicorn_worker.py)
                "worker_class": Worker,
                "threads": config.threads,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 120,
                "graceful_timeout": 5,
                # Several servers on one machine (tests, benchmarks) must not share a control
                # socket.
                "control_socket_disable": True,
                "worker_exit": self.worker_exit,
                **(options or {}),
            }
            if config.data is not None:  # the last snapshot of a large state takes a while
                self.options["graceful_timeout"] = max(self.options["graceful_timeout"], 60)
            # HTTPS (simulator/tls.py)
            if config.certfile is not None and config.keyfile is not None:
                self.options.update(certfile=str(config.certfile), keyfile=str(config.keyfile))
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            """The app, in the worker process; with ``--data``, its namespaces restored from the
            file and a snapshot thread started (a refused file stops gunicorn: exit code 4)."""
            gc.disable()  # until the app is built: see _build
            from gunicorn.errors import AppImportError

            from simulator.world import one_malloc_arena

            one_malloc_arena()  # before the worker's threads (one_malloc_arena)

            from simulator.app import create_app
            from simulator.persist import Persister, SnapshotRefused

            app = create_app(self.crmsim_config)
            data = self.crmsim_config.data
            if data is not None:
                sim = app.extensions["crmsim"]
                interval = float(self.crmsim_config.extra.get("snapshot_interval", 1.0))
                persister = Persister(sim.namespaces, sim.schemas, Path(data), interval)
                try:
                    persister.load()
                except SnapshotRefused as exc:
                    raise AppImportError(str(exc)) from exc
                persister.start()
                sim.persister = persister  # its problems show in /__sim/health
                self.persister = persister
            # Everything built so far (modules, schemas, a restored state) lives as long as the
            # worker: out of the cyclic collector's sight, its full passes stay short (p99).
            gc.collect()
            gc.freeze()
            gc.enable()
            steady_gc()
            return app

        def worker_exit(self, _arbiter: Any, _worker: Any) -> None:
            """gunicorn's hook in the worker as it exits (SIGTERM, SIGINT): the last snapshot."""
            persister = getattr(self, "persister", None)
            if persister is not None:
                persister.stop()

    return Server(config, options)


FULL_PASS_EVERY = 2  # young passes of the middle generation (Python's default: 10)


def _freeze_after_full(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def steady_gc() -> None:
    """Keep the cyclic collector's full passes short, in a server's worker (docs/serving.md,
    "Garbage collection and the tail").

    Records created by requests live on (an AntCRM add-contact keeps about 15 tracked lists
    and dicts), so each full pass walked every one created since the start: 100 to 800 ms
    with the event loop stopped, longer with every pass. Now, after a full pass, everything
    that survived it is moved out of the collector's sight (``gc.freeze``), so the next
    one walks only what arrived since; and full passes come after 2 passes of the middle
    generation instead of 10, so that is little (about 20 ms at 2,000 creates a second).
    Reference counting still frees frozen objects when they are dropped (an evicted
    journal entry, a replaced record); only a reference cycle that was alive at a full
    pass and is dropped later stays (measured: some 40 objects, the traceback of an error
    answer in flight at the pass)."""
    if _freeze_after_full not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full)
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)


def check_workers(config: Config) -> None:
    """One worker with the memory store; any number with a shared one; never ``--data``
    with a shared store (Redis keeps its own data: its RDB or AOF persistence)."""
    from simulator.config import shared_store

    if config.workers < 1:
        raise WorkersRefused(f"refusing --workers {config.workers}: at least 1")
    shared = shared_store(config)
    if config.workers != 1 and not shared:
        raise WorkersRefused(f"refusing --workers {config.workers}: {ONE_WORKER}")
    if shared and config.data is not None:
        raise WorkersRefused(
            "refusing --data with a shared store: the worlds live in Redis, which keeps "
            "them with its own persistence (RDB or AOF); drop --data"
        )


class PortUnavailable(OSError):
    pass


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` once before the banner, as the server will (SO_REUSEADDR): a busy
    port or an address not on this machine is said in one line naming both ways to change it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise PortUnavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with "
                "--port or CRMSIM_PORT (or another address with --host or CRMSIM_HOST)"
            ) from None


SERVERS = ("granian", "gunicorn")


def before_fork() -> None:
    """In the server's first process, before it forks its worker: what the imports built is
    frozen without a pass over it, and the collector (paused by ``crmsim serve``) is on
    again. Python's advice for a server that forks: the worker's one pass (``_build``) then
    walks only what the worker builds (2 ms instead of 30 of a start), and the frozen pages
    stay shared. What the imports left as garbage (about 540 objects, 110 KB, types and
    functions made and dropped while importing) is kept for good."""
    gc.freeze()
    gc.enable()


def serve(config: Config) -> None:
    if config.server == "gunicorn":
        server = gunicorn_server(config)
        before_fork()
        server.run()
    else:
        serve_granian(config)


# -- granian ------------------------------------------------------------------------------
def _build(config: Config) -> Any:
    """In granian's worker process: the app (its state restored with ``--data``) wrapped in
    the RSGI bridge; the bridge writes the last snapshot when the worker stops."""
    # The collector is paused while the modules are imported and the app is built: they
    # allocate hundreds of thousands of objects that all live on, and each full pass on the
    # way walks every one of them (about 40 ms of CPU of a start); one pass at the end
    # frees what did not live on, then the rest is frozen (below).
    gc.disable()
    import os
    import sys

    from simulator.app import CONTROL_PREFIX, create_app
    from simulator.rsgi import Bridge, quiet
    from simulator.world import one_malloc_arena

    one_malloc_arena()  # before the bridge's threads (one_malloc_arena)

    app = create_app(config)
    persister = None
    if config.data is not None:
        from simulator.persist import Persister, SnapshotRefused

        sim = app.extensions["crmsim"]
        interval = float(config.extra.get("snapshot_interval", 1.0))
        persister = Persister(sim.namespaces, sim.schemas, Path(config.data), interval)
        try:
            persister.load()
        except SnapshotRefused as exc:
            print(str(exc), file=sys.stderr, flush=True)
            os._exit(4)  # as under gunicorn: the app failed to load
        persister.start()
        sim.persister = persister  # its problems show in /__sim/health
    gc.collect()
    gc.freeze()
    gc.enable()
    steady_gc()

    def max_body(path: str) -> int:
        if path.startswith("/__ns/"):
            path = "/" + path[len("/__ns/") :].partition("/")[2]
        control = path.startswith(CONTROL_PREFIX)
        return config.max_control_bytes if control else config.max_body_bytes

    sim = app.extensions["crmsim"]
    on_stop = persister.stop if persister else None
    inline = quiet(sim.namespaces)
    from simulator.lane import Lane

    lane = Lane(app, sim).serve
    return Bridge(
        app, config.threads, max_body, on_stop, inline, on_start=leave_sigint_to_main, lane=lane
    )


def leave_sigint_to_main(_loop: Any) -> None:
    """In granian's worker, once granian has set its handlers: SIGINT is ignored, so only
    granian's main process acts on it; the worker stops on the SIGTERM that process sends
    it (``MPServer._stop_workers``), as after a SIGTERM to the main process.

    A terminal's Ctrl-C signals the whole process group, worker included, and granian's
    worker answered that SIGINT itself, racing the main process's own stop. When the worker
    won (the last snapshot written, the worker gone before the main process sent SIGTERM),
    granian took its exit for a crash ("Unexpected exit from worker-1") and exited 1: 2
    Ctrl-C stops in about 450 on a loaded machine. When the main process's SIGTERM came
    while the worker was already stopping, granian's handler ran a second time and hung
    for good (once in about 1,250): the worker's main thread, holding the GIL, waited on a
    futex inside ``WorkerSignal.set()`` while granian's own threads waited for the GIL
    (gdb). Ignored here, the SIGINT never reaches the worker: one stop, one signal."""
    import signal

    # not loop.remove_signal_handler: uvloop's does nothing before its loop runs, as here
    signal.signal(signal.SIGINT, signal.SIG_IGN)


CONNECTIONS = 16_384  # connections one granian worker serves at once, idle ones too


def connection_slots() -> int:
    """How many connections a worker serves at once, idle and keep-alive ones included:
    granian's ``backpressure``. Its default, 1,024, let 1,024 connections that sent nothing
    lock every other client out for as long as they stayed open. The soft limit of open
    files is raised to the hard one first (up to 65,536), and the slots stay a few hundred
    below it (log files, the listening socket, Redis) (docs/serving.md, "Slow clients")."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits to raise
        return CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS
    return max(256, min(CONNECTIONS, soft - 256))


def serve_granian(config: Config) -> None:
    """granian (Rust, asynchronous I/O): one worker process, the app in ``config.threads``
    threads; a slow or idle client costs a socket, never a thread."""
    import importlib.util
    from functools import partial

    from granian.constants import Interfaces, Loops, SSLProtocols, TaskImpl
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    class Granian(MPServer):
        failed_to_load = False

        def _stop_workers(self) -> None:
            # the worker exits 4 when the --data file is refused; say so as gunicorn does
            codes = [getattr(getattr(w, "inner", None), "exitcode", None) for w in self.wrks]
            self.failed_to_load = self.failed_to_load or 4 in codes
            super()._stop_workers()  # type: ignore[no-untyped-call]

    server = Granian(
        "crmsim",
        address=config.host,
        port=config.port,
        interface=Interfaces.RSGI,
        workers=config.workers,
        # measured (docs/serving.md, "Where the time goes"): uvloop, a tenth of a request.
        # asyncio's tasks, not granian's Rust tasks: under granian 2.8 these keep every
        # request that awaits its body (a coroutine, its awaitable and waker, never freed),
        # and the collector's full passes over them grew to 800 ms ("Garbage collection
        # and the tail")
        loop=Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio,
        task_impl=TaskImpl.asyncio,
        log_level=LogLevels.warning,
        workers_kill_timeout=60 if config.data is not None else 10,
        # idle connections hold a slot each: enough that holding them all takes thousands
        # of sockets (granian's default, 1,024, was filled by 1,024 silent clients)
        backlog=4096,
        backpressure=connection_slots(),
        # HTTPS (simulator/tls.py): TLS 1.2 and up, as under gunicorn (Python's ssl default)
        ssl_cert=config.certfile if config.keyfile is not None else None,
        ssl_key=config.keyfile if config.certfile is not None else None,
        ssl_protocol_min=SSLProtocols.tls12,
    )
    before_fork()
    try:
        server.serve(target_loader=partial(_build, config), wrap_loader=False)
    except SystemExit:
        if server.failed_to_load:
            raise SystemExit(4) from None
        raise
