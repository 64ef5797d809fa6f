"""The app factory: config, schemas, namespaces, vendor blueprints, control plane, and the
request pipeline (simulator/pipeline.py) wired around them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from simulator import __version__, guard, pipeline
from simulator.config import Config, shared_store
from simulator.lean import App
from simulator.mounts import mount
from simulator.pipeline import CONTROL_PREFIX, NamespaceMiddleware
from simulator.schemas import default_schemas_dir, load
from simulator.vendors import VENDORS
from simulator.vendors._base import Vendor
from simulator.world import Namespaces

__all__ = ["CONTROL_PREFIX", "Simulator", "create_app"]


class Simulator:
    """Everything one app holds, found at ``app.extensions["crmsim"]``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.version = __version__
        self.schemas = load((config.schemas_dir or default_schemas_dir()).resolve())
        # each at its default base path, or where config.mounts puts it (CC-M1)
        self.vendors: list[Vendor] = mount(
            (VENDORS[s] for s in config.vendors if s in VENDORS), config.mounts
        )
        self.namespaces: Namespaces
        # With a shared store: the namespaces live in Redis (simulator/shared.py), and
        # ``shared`` says whether Redis answers (``/__sim/health``).
        self.shared: Any = None
        if shared_store(config):
            from simulator.shared import SharedNamespaces

            self.namespaces = self.shared = SharedNamespaces(config, self.vendors, config.store)
        else:
            self.namespaces = Namespaces(config, self.vendors)
        # where a client of each served vendor points its base URL (``/__sim/health``)
        self.vendor_paths = {v.slug: v.prefix + v.client_path for v in self.vendors}
        # With ``validate_responses``: vendor answers that their schemas do not describe.
        self.response_problems: list[dict[str, Any]] = []
        # With ``serve --data``: the ``Persister`` whose problems ``/__sim/health`` reports.
        self.persister: Any = None
        # With ``serve --shadow``: vendor requests also sent to the real sandbox (shadow.py).
        self.shadow: Any = None
        if config.extra.get("shadow"):
            from simulator.shadow import from_config

            self.shadow = from_config(config.extra, self.schemas)

    def vendor_for(self, path: str) -> Vendor | None:
        return next((v for v in self.vendors if v.owns(path)), None)


class LazyBuildRule(Rule):
    """Werkzeug's URL rule, its URL builders (``url_for``) compiled on first use: Werkzeug
    compiles two Python functions per rule as the rule is added, most of the time an app
    takes to register its routes (8 of 10 ms); crmsim builds no URL on a request's path."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:
                compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, **values)

        return build


def create_app(test_config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build a crmsim app; ``test_config`` (a mapping) overrides the ``CRMSIM_*`` settings,
    a ``Config`` replaces them."""
    if isinstance(test_config, Config):
        config = test_config
    else:
        config = Config.from_env().merged(test_config)
    app = App("simulator")
    app.url_rule_class = LazyBuildRule
    # a path with doubled slashes is no route (the vendor's own 404), not Werkzeug's HTML
    # redirect to the merged path
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    sim = Simulator(config)
    app.extensions["crmsim"] = sim

    from simulator.admin import blueprint as admin_blueprint

    app.register_blueprint(admin_blueprint)
    for vendor in sim.vendors:
        app.register_blueprint(vendor.blueprint, url_prefix=vendor.prefix)

    guard.install(app, config)  # first: a refused control request touches nothing
    pipeline.install(app, sim)
    pipeline.install_error_handlers(app, sim)
    app.wsgi_app = NamespaceMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
