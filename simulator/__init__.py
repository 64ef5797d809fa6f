"""crmsim: a stateful simulator of four CRM vendors' HTTP APIs, for contract testing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

    from simulator.config import Config


def create_app(test_config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build a crmsim app (see ``simulator.app.create_app``)."""
    from simulator.app import create_app as factory

    return factory(test_config)


__all__ = ["__version__", "create_app"]
