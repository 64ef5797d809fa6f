"""Serving under gunicorn: one worker (all state lives in that process), several threads."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from simulator.config import Config

ONE_WORKER = (
    "crmsim keeps every namespace's state in one process, so it runs exactly one gunicorn "
    "worker; more workers would each hold a different, diverging copy of the state. "
    "Use --threads to serve more requests at once."
)


class WorkersRefused(ValueError):
    pass


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``create_app()`` with one worker and ``threads`` threads."""

    def __init__(self, config: Config, options: dict[str, Any] | None = None) -> None:
        self.crmsim_config = config
        self.options = {
            "bind": f"{config.host}:{config.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": config.threads,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 120,
            "graceful_timeout": 5,
            # Several servers on one machine (tests, benchmarks) must not share a control socket.
            "control_socket_disable": True,
            "worker_exit": self.worker_exit,
            **(options or {}),
        }
        if config.data is not None:  # the last snapshot of a large state takes a while
            self.options["graceful_timeout"] = max(self.options["graceful_timeout"], 60)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        """The app, in the worker process; with ``--data``, its namespaces restored from the
        file and a snapshot thread started (a refused file stops gunicorn: exit code 4)."""
        from gunicorn.errors import AppImportError

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
        return app

    def worker_exit(self, _arbiter: Any, _worker: Any) -> None:
        """gunicorn's hook in the worker as it exits (SIGTERM, SIGINT): the last snapshot."""
        persister = getattr(self, "persister", None)
        if persister is not None:
            persister.stop()


def check_workers(workers: int) -> None:
    if workers != 1:
        raise WorkersRefused(f"refusing --workers {workers}: {ONE_WORKER}")


def serve(config: Config) -> None:
    Server(config).run()
