"""The control plane: one table of routes under ``/__sim``; only POST, PUT and DELETE change
anything. Every body is validated against ``schemas/sim/<name>.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from simulator.clock import iso, parse_iso
from simulator.errors import InvalidDocument, Problem, json_response
from simulator.http import BadBody, parse_json
from simulator.world import World

blueprint = Blueprint("sim", __name__, url_prefix="/__sim")


def _sim() -> Any:
    return current_app.extensions["crmsim"]


def _world() -> World:
    world: World = g.world
    return world


def _body(schema: str, empty: Any = None) -> Any:
    """The request's JSON body, validated against ``schemas/sim/<schema>.json``."""
    raw = request.get_data(cache=True)
    if not raw.strip() and empty is not None:
        return empty
    try:
        doc = parse_json(raw)
    except BadBody as exc:
        raise Problem(400, "Invalid JSON", exc.detail) from exc
    errors = _sim().schemas.validate(f"sim/{schema}.json", doc)
    if errors:
        raise InvalidDocument(errors)
    return doc


def ok(body: Any, status: int = 200) -> Response:
    return json_response(body, status)


def _vendor_slug(vendor: str) -> str:
    if vendor not in _world().backends:
        known = ", ".join(sorted(_world().backends))
        raise Problem(404, "Unknown vendor", f"No vendor '{vendor}'; known vendors: {known}.")
    return vendor


# -- health and namespaces ----------------------------------------------------------------
def health() -> Response:
    return ok({"status": "ok", "version": _sim().version})


def list_namespaces() -> Response:
    return ok({"namespaces": _sim().namespaces.names()})


def drop_namespace() -> Response:
    _sim().namespaces.drop(_world().name)
    return ok({"status": "ok", "dropped": _world().name})


def reset() -> Response:
    doc = _body("reset", empty={})
    vendors = doc.get("vendors")
    if vendors is not None:
        for slug in vendors:
            _vendor_slug(slug)
    with _world().lock:
        _world().reset(vendors)
    return ok({"status": "ok"})


# -- state --------------------------------------------------------------------------------
def get_state() -> Response:
    with _world().lock:
        return ok(_world().dump_state())


def put_state() -> Response:
    doc = _body("state.schema")
    world = _world()
    with world.lock:
        world.backends.update(world.build_state(_sim().schemas, doc))
        return ok(world.dump_state())


def get_vendor_state(vendor: str) -> Response:
    with _world().lock:
        return ok(_world().dump_state(_vendor_slug(vendor)))


def put_vendor_state(vendor: str) -> Response:
    slug = _vendor_slug(vendor)
    raw = request.get_data(cache=True)
    try:
        doc = parse_json(raw)
    except BadBody as exc:
        raise Problem(400, "Invalid JSON", exc.detail) from exc
    world = _world()
    with world.lock:
        world.backends.update(world.build_state(_sim().schemas, doc, slug))
        return ok(world.dump_state(slug))


# -- clock, seed, settings ----------------------------------------------------------------
def _clock_doc() -> dict[str, Any]:
    clock = _world().clock
    return {"now": iso(clock.now()), "frozen": clock.frozen}


def get_clock() -> Response:
    return ok(_clock_doc())


def put_clock() -> Response:
    doc = _body("clock")
    at = doc["now"]
    if at is not None:
        try:
            at = parse_iso(at)
        except ValueError as exc:
            raise InvalidDocument(
                [{"pointer": "/now", "message": f"not an RFC 3339 time: {at}", "keyword": "format"}]
            ) from exc
    with _world().lock:
        _world().clock.freeze(at)
        return ok(_clock_doc())


def advance_clock() -> Response:
    doc = _body("clock-advance")
    with _world().lock:
        _world().clock.advance(doc["seconds"])
        return ok(_clock_doc())


def get_seed() -> Response:
    return ok({"seed": _world().ids.seed})


def put_seed() -> Response:
    doc = _body("seed")
    with _world().lock:
        _world().ids.reseed(doc["seed"])
    return ok({"seed": doc["seed"]})


def get_settings() -> Response:
    return ok(_world().settings)


def put_settings() -> Response:
    doc = _body("settings")
    with _world().lock:
        _world().apply_settings(doc)
        return ok(_world().settings)


# -- journal and outbox -------------------------------------------------------------------
def _int_arg(name: str, minimum: int = 0) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InvalidDocument(
            [
                {
                    "pointer": f"/{name}",
                    "message": f"expected an integer >= {minimum}, got {raw!r}",
                    "keyword": "minimum",
                }
            ]
        )
    return value


def get_journal() -> Response:
    fields = {k: request.args[k] for k in ("vendor", "operation") if k in request.args}
    status = _int_arg("status", 100)
    limit = _int_arg("limit", 0)

    def keep(entry: dict[str, Any]) -> bool:
        return all(entry[k] == v for k, v in fields.items()) and (
            status is None or entry["response"]["status"] == status
        )

    with _world().lock:
        entries = _world().journal.query(keep, limit)
    return ok({"entries": entries, "count": len(entries)})


def get_journal_entry(entry_id: int) -> Response:
    entry = _world().journal.get(entry_id)
    if entry is None:
        raise Problem(404, "No such journal entry", f"No journal entry {entry_id}.")
    return ok(entry)


def clear_journal() -> Response:
    with _world().lock:
        _world().journal.clear()
    return ok({"status": "ok"})


def get_outbox() -> Response:
    fields = {k: request.args[k] for k in ("vendor", "kind") if k in request.args}
    with _world().lock:
        entries = _world().outbox.query(lambda e: all(e[k] == v for k, v in fields.items()))
    return ok({"entries": entries, "count": len(entries)})


def clear_outbox() -> Response:
    with _world().lock:
        _world().outbox.clear()
    return ok({"status": "ok"})


ROUTES: list[tuple[str, str, Callable[..., Response]]] = [
    ("GET", "/health", health),
    ("GET", "/namespaces", list_namespaces),
    ("DELETE", "", drop_namespace),
    ("POST", "/reset", reset),
    ("GET", "/state", get_state),
    ("PUT", "/state", put_state),
    ("GET", "/state/<vendor>", get_vendor_state),
    ("PUT", "/state/<vendor>", put_vendor_state),
    ("GET", "/clock", get_clock),
    ("PUT", "/clock", put_clock),
    ("POST", "/clock/advance", advance_clock),
    ("GET", "/seed", get_seed),
    ("PUT", "/seed", put_seed),
    ("GET", "/settings", get_settings),
    ("PUT", "/settings", put_settings),
    ("GET", "/journal", get_journal),
    ("DELETE", "/journal", clear_journal),
    ("GET", "/journal/<int:entry_id>", get_journal_entry),
    ("GET", "/outbox", get_outbox),
    ("DELETE", "/outbox", clear_outbox),
]

for _method, _rule, _view in ROUTES:
    blueprint.add_url_rule(_rule, view_func=_view, methods=[_method])
