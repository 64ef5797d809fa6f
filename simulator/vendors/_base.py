"""What every vendor package provides: its operations, its backend and its errors.

A vendor package has the same files as every other (``docs/vendors/README.md``):

* ``routes.py`` declares each operation once, with ``@operations(method, rule, reads=...,
  answers=...)`` on its view. The declaration is the operation: its route, its journal name
  (``<vendor>.<view name>``), the reader of its request document (contract checks, and the
  view through ``request_document()``), the schemas of its answers (response checks,
  OpenAPI), its fault selector and its scenario step name all come from it;
* ``parsing.py`` turns the request document into the backend's typed arguments; it knows
  no store and no Flask;
* ``models.py`` holds the backend: the vendor's rules and state, no Flask;
* ``errors.py`` holds one class per vendor error and ``http_error`` for transport statuses;
* ``__init__.py`` builds the ``Vendor`` from those (its slug, title and base path live there
  and nowhere else); ``fake.py`` builds fake state and Hypothesis strategies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from flask import Blueprint, Response, g

from simulator.errors import VendorError, encode_json
from simulator.http import read_form, read_form_and_query, read_json, read_query
from simulator.store import Store

if TYPE_CHECKING:
    from simulator.clock import Clock, Ids
    from simulator.journal import Outbox


@dataclass
class Context:
    """What a backend may use of its namespace: its clock, its ids and the outbox (as
    ``send``, which addresses each message from the backend's vendor)."""

    clock: Clock
    ids: Ids
    outbox: Outbox
    vendor: str = ""
    # the vendor's store; None: a new one on the default engine (a shared world, whose
    # stores live in Redis, names them: simulator/shared.py)
    stores: Callable[[str], Store] | None = None

    def send(self, kind: str, **fields: Any) -> dict[str, Any]:
        """A side effect that would have left the vendor (an invite, an email, an SMS)."""
        return self.outbox.send(self.vendor, kind, **fields)


class VendorBackend:
    """Rules and state of one vendor in one namespace; no Flask in here.

    Subclasses declare their tables in ``__init__`` (so that a reset is a new instance),
    implement one public method per operation (named after the operation),
    ``load_state``/``dump_state`` for their part of the state document, and
    ``dump_config``/``load_config`` for what they hold outside their store.
    """

    # set by World.build_state: a state document holding something was loaded into this
    # backend (otherwise a vendor error is answered with the X-Sim-Hint header, pipeline.py)
    loaded = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = Store() if ctx.stores is None else ctx.stores(ctx.vendor)

    def load_state(self, doc: Mapping[str, Any]) -> None:
        """Fill an empty backend from its (schema-valid) part of the state document.

        Raises ``StateInvalid`` for rules the schema cannot express (unique keys, references).
        """
        raise NotImplementedError

    def dump_state(self) -> dict[str, Any]:
        """This vendor's part of the state document, defaults filled in."""
        raise NotImplementedError

    # -- what the backend holds outside its store (shared worlds, docs/scale-out.md) ------
    def dump_config(self) -> dict[str, Any]:
        """Everything this backend holds outside ``self.store``, as JSON: the configuration
        ``load_state`` read (keys, users, orgs ...) and ``loaded``. Cheap: no table reads.

        A fresh backend over the same store given it with ``load_config`` dumps the same
        state and answers every operation the same; what a vendor request changes is
        never here (it lives in the store, so every backend over the store sees it).
        Subclasses extend the base's document: ``{**super().dump_config(), ...}``.
        """
        return {"loaded": self.loaded}

    def load_config(self, doc: Mapping[str, Any]) -> None:
        """Set what ``dump_config`` gave on a fresh backend whose store holds the data
        already (derived lookups rebuilt from it). Subclasses call the base's first."""
        self.loaded = bool(doc.get("loaded", False))


class Kept(dict[str, Any]):
    """A part of an answer that a backend keeps and returns again, unchanged, while what it
    shows stays the same (get_pending's page that a client polls). Nobody changes it, so
    its JSON is encoded once: ``encoded``."""

    __slots__ = ("_encoded",)

    @classmethod
    def encoded_as(cls, doc: Mapping[str, Any], encoded: bytes) -> Kept:
        """A part whose bytes are known already: ``encoded`` must be ``encode_json(doc)``
        (made of parts encoded before, as get_pending's pages are)."""
        kept = cls(doc)
        kept._encoded = encoded
        return kept

    def encoded(self) -> bytes:
        """``encode_json(self)``, computed on the first call."""
        try:
            return self._encoded
        except AttributeError:
            self._encoded: bytes = encode_json(self)
            return self._encoded


@dataclass(frozen=True)
class Reads:
    """Where an operation's request document travels and how it is read.

    ``carrier`` is ``json`` (a JSON body), ``form`` (a url-encoded or multipart body),
    ``query``, ``form+query`` (both, the form winning), ``none`` (the operation reads no
    parameters beyond its path) or ``custom``, whose wire form
    ``wire_schema`` describes for the OpenAPI document. ``read`` returns the document that
    ``schemas/<vendor>/<operation>.request.json`` describes, or raises ``BadBody``.
    """

    carrier: str
    read: Callable[[], Any]
    wire_schema: Mapping[str, Any] | None = None


JSON_BODY = Reads("json", read_json)
FORM_BODY = Reads("form", read_form)
QUERY = Reads("query", read_query)
FORM_AND_QUERY = Reads("form+query", read_form_and_query)
NOTHING = Reads("none", dict)

View = Callable[..., Response]
V = TypeVar("V", bound=View)


@dataclass(frozen=True)
class Operation:
    """One vendor operation, as declared once in its vendor's ``routes.py``.

    ``answers`` maps each status the operation answers to its schema file under
    ``schemas/<vendor>/`` (no ``.json``), or to several when one status carries different
    bodies (CRM.COM's errors are HTTP 200 too).
    """

    name: str
    method: str
    rule: str
    reads: Reads
    answers: Mapping[int, str | tuple[str, ...]]
    view: View

    def answer_schemas(self, slug: str, status: int) -> tuple[str, ...]:
        """Schema files (``<vendor>/<name>.json``) an answer of ``status`` may match."""
        names = self.answers.get(status, ())
        return tuple(f"{slug}/{n}.json" for n in ((names,) if isinstance(names, str) else names))


class Operations:
    """A vendor's operations in declaration order; ``routes.py`` fills it::

        operations = Operations()

        @operations("POST", "/<listing_id>", reads=FORM_BODY, answers={201: "..."})
        def create_contact(api: BotwBackend, listing_id: str) -> Response: ...

    The view receives the namespace's backend first, then the route's variables.
    """

    def __init__(self) -> None:
        self._declared: dict[str, Operation] = {}

    def __call__(
        self,
        method: str,
        rule: str,
        *,
        reads: Reads,
        answers: Mapping[int, str | tuple[str, ...]],
    ) -> Callable[[V], V]:
        def declare(view: V) -> V:
            name = view.__name__
            if name in self._declared:
                raise ValueError(f"operation {name} is declared twice")
            self._declared[name] = Operation(
                name, method, rule, reads, MappingProxyType(dict(answers)), view
            )
            return view

        return declare

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._declared.values())

    def __len__(self) -> int:
        return len(self._declared)

    def get(self, name: str) -> Operation | None:
        return self._declared.get(name)


class Fake(Protocol):
    """A vendor's ``fake.py``: fake state for ``crmsim fake`` and the benchmarks."""

    def credentials(self, seed: int, /) -> dict[str, Any]: ...

    def state(self, pools: Any, seed: int, size: int, /) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Vendor:
    """A vendor as the app sees it; every other place reads what it knows from here."""

    slug: str
    title: str
    # the default base path, replaced by a mount (``--mount``, CRMSIM_MOUNTS)
    prefix: str
    operations: Operations
    backend: type[VendorBackend]
    # The vendor's own error for a transport-level status (404, 405, 413, 429, 500, ...).
    http_error: Callable[[int], VendorError]
    # builds this vendor's part of a fake state (its ``fake.py``, used by simulator/fake.py)
    fake: Fake | None = None
    # operation name -> a Hypothesis strategy of its request document, for operations that
    # the generic one derived from the request schema does not serve well
    strategies: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    # where the vendor's schema files live, when not under the app's ``schemas/<slug>/``
    schemas_dir: Path | None = None
    # what a client of the vendor appends to the base path for its base URL (AntCRM's
    # listener URL is ``/antcrm/webhook/listener/{listener_id}``)
    client_path: str = ""
    blueprint: Blueprint = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        blueprint = Blueprint(self.slug, __name__)
        for op in self.operations:
            # no automatic OPTIONS: it is a method the vendors do not serve, answered with
            # their 405 like any other (Flask's would journal it as the route's operation)
            blueprint.add_url_rule(
                op.rule,
                op.name,
                _bound(self.slug, op.view),
                methods=[op.method],
                provide_automatic_options=False,
            )
        object.__setattr__(self, "blueprint", blueprint)

    def new_backend(self, ctx: Context) -> VendorBackend:
        """An empty backend of this vendor in the namespace of ``ctx``."""
        return self.backend(replace(ctx, vendor=self.slug))

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def operation(self, name: str) -> Operation | None:
        return self.operations.get(name)


def _bound(slug: str, view: View) -> View:
    """The Flask view of an operation: its view, given the namespace's backend first."""

    @functools.wraps(view)
    def bound(**route: Any) -> Response:
        return view(g.world.backends[slug], **route)

    return bound


def request_document() -> Any:
    """The current operation's request document, read once per request by its ``Reads``
    (the contract check reads it first); raises what the reader raises (``BadBody``, or
    werkzeug's ``RequestEntityTooLarge``), every time it is asked."""
    return g.call.document()


def report_outcomes(outcomes: list[Any]) -> None:
    """Hand what the vendor did with each item of this request to its journal entry."""
    call = g.get("call")
    if call is not None:
        call.outcomes = outcomes
