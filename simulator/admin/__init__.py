"""The control plane under ``/__sim`` (see ``docs/control-plane.md``)."""

from simulator.admin.routes import blueprint

__all__ = ["blueprint"]
