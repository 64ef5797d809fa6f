"""crmsim: a stateful simulator of four CRM vendors' HTTP APIs, for contract testing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # pyproject.toml and CHANGELOG.md say the same (tests/test_versions.py)
# The control plane's own version, MAJOR.MINOR (CHANGELOG.md, "Versions and upgrades"): a
# minor step only adds, a major one removes or changes a meaning. In the OpenAPI document
# (info.x-crmsim-control-api) and in GET /__sim/health (control_api).
CONTROL_API_VERSION = "1.0"

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

    from simulator.config import Config


def create_app(test_config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build a crmsim app (see ``simulator.app.create_app``)."""
    from simulator.app import create_app as factory

    return factory(test_config)


__all__ = ["CONTROL_API_VERSION", "__version__", "create_app"]
