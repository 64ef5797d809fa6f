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


def report_outcomes(outcomes: list[Any]) -> None:
    """Hand what the vendor did with each item of this request to its journal entry."""
    call = g.get("call")
    if call is not None:
        call.outcomes = outcomes


@dataclass(frozen=True)
class Operation:
    """One vendor operation as the contract checks and the OpenAPI document see it.

    ``read`` returns the operation's request document (what ``<op>.request.json``
    describes) or raises ``BadBody``; ``carrier`` says where that document travels
    (``json`` body, url-encoded ``form`` body, ``query`` string, ``form+query``, or
    ``custom`` with ``raw_schema`` describing the wire form); ``responses`` maps each status
    the operation answers to its schema file under ``schemas/<vendor>/`` (no ``.json``), or
    to several when one status carries different bodies (CRM.COM's 200 errors).
    """

    name: str
    read: Callable[[], Any]
    carrier: str
    responses: Mapping[int, str | tuple[str, ...]]
    raw_schema: Mapping[str, Any] | None = None


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
    # Operation names, each also a view, a backend method and a schema stem.
    operations: tuple[str, ...] = ()
    # How each operation's request document is read and what it answers (contract checks,
    # OpenAPI); an operation without an entry is not checked.
    contract: tuple[Operation, ...] = ()

    def owns(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    def response_schemas(self, op: Operation, status: int) -> tuple[str, ...]:
        """Schema files (``<vendor>/<name>.json``) an answer of ``status`` may match."""
        names = op.responses.get(status, ())
        return tuple(
            f"{self.slug}/{n}.json" for n in ((names,) if isinstance(names, str) else names)
        )

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.contract if op.name == name), None)
