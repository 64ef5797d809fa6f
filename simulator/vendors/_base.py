"""What every vendor package provides, and the base class of vendor backends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from flask import Blueprint, g

from simulator.errors import VendorError
from simulator.store import Store

if TYPE_CHECKING:
    from simulator.clock import Clock, Ids
    from simulator.journal import Outbox


@dataclass
class Context:
    """What a backend may use of its namespace: its clock, its ids and the outbox."""

    clock: Clock
    ids: Ids
    outbox: Outbox


class VendorBackend:
    """Rules and state of one vendor in one namespace; no Flask in here.

    Subclasses declare their tables in ``__init__`` (so that a reset is a new instance),
    implement one public method per operation (named after the operation), and
    ``load_state``/``dump_state`` for their part of the state document.
    """

    slug: ClassVar[str]

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = Store()

    def load_state(self, doc: Mapping[str, Any]) -> None:
        """Fill an empty backend from its (schema-valid) part of the state document.

        Raises ``StateInvalid`` for rules the schema cannot express (unique keys, references).
        """
        raise NotImplementedError

    def dump_state(self) -> dict[str, Any]:
        """This vendor's part of the state document, defaults filled in."""
        raise NotImplementedError


B = TypeVar("B", bound=VendorBackend)


def backend(cls: type[B]) -> B:
    """The backend of ``cls``'s vendor in the current request's namespace."""
    return cast(B, g.world.backends[cls.slug])


@dataclass(frozen=True)
class Vendor:
    """A vendor as the app sees it: where it lives, its routes, its backend, its errors."""

    slug: str
    title: str
    prefixes: tuple[str, ...]
    blueprint: Blueprint
    backend: type[VendorBackend]
    # The vendor's own error for a transport-level status (404, 405, 413, 429, 500, ...).
    http_error: Callable[[int], VendorError]
    # Operation name -> request schema (``schemas/<vendor>/<op>.request.json``) extraction is
    # added by the contract-check work; kept here so vendors declare it in one place.
    operations: tuple[str, ...] = ()

    def owns(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)
