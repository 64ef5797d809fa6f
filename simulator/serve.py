"""Serving under gunicorn: one worker (all state lives in that process), several threads."""

from __future__ import annotations

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
            **(options or {}),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from simulator.app import create_app

        return create_app(self.crmsim_config)


def check_workers(workers: int) -> None:
    if workers != 1:
        raise WorkersRefused(f"refusing --workers {workers}: {ONE_WORKER}")


def serve(config: Config) -> None:
    Server(config).run()
