"""The control plane: one table of routes under ``/__sim``; only POST, PUT and DELETE change
anything. Every body is validated against ``schemas/sim/<name>.json``."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from simulator import CONTROL_API_VERSION
from simulator.clock import iso, parse_iso
from simulator.dashboard import ui_asset, ui_page
from simulator.errors import InvalidDocument, Problem, encode_json, json_response
from simulator.faults import rule_problems
from simulator.http import CONTROL_MAX_DEPTH, BadBody, parse_json
from simulator.journal import render
from simulator.pipeline import BODY
from simulator.world import FREEZE_AT, LARGE_STATE_BYTES, World, bulk_load, give_back_memory

blueprint = Blueprint("sim", __name__, url_prefix="/__sim")
MAX_FAULT_RULES = 1000  # per namespace: every vendor request may consult them all


def _sim() -> Any:
    return current_app.extensions["crmsim"]


def _world() -> World:
    """The request's namespace. A shared world's lease is taken on first use and held to
    the end of the request (released by the pipeline's teardown), so one control request
    sees one state of it, whichever process serves it."""
    world: World = g.world
    if world.shared and "control_lock" not in g:
        world.lock.acquire_unnumbered()  # type: ignore[attr-defined]
        g.control_lock = world.lock
    return world


def _body(schema: str, empty: Any = None) -> Any:
    """The request's JSON body, validated against ``schemas/sim/<schema>.json``."""
    raw = request.get_data(cache=True)
    if not raw.strip() and empty is not None:
        return empty
    try:
        doc = parse_json(raw, CONTROL_MAX_DEPTH)
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
def _versions(sim: Any) -> dict[str, str]:
    """crmsim's version and its control plane's (CHANGELOG.md, "Versions and upgrades")."""
    return {"version": sim.version, "control_api": CONTROL_API_VERSION}


def health() -> Response:
    """Is the simulator up, which version, where each vendor is served; ``degraded`` (still
    200) with the reason when the last snapshot of ``serve --data`` failed or was incomplete."""
    sim = _sim()
    source = sim.persister if sim.persister is not None else sim.shared
    problem = None
    if sim.persister is not None:
        problem = sim.persister.problem
    elif sim.shared is not None:  # a shared store: does Redis answer?
        problem = sim.shared.problem()
    if problem is None:
        return ok({"status": "ok", **_versions(sim), "vendors": sim.vendor_paths})
    since = datetime.fromtimestamp(source.problem_since, UTC)
    return ok(
        {
            "status": "degraded",
            **_versions(sim),
            "vendors": sim.vendor_paths,
            "reason": problem,
            "since": iso(since),
        }
    )


def list_namespaces() -> Response:
    """The namespaces in use."""
    return ok({"namespaces": _sim().namespaces.names()})


def drop_namespace() -> Response:
    """Drop this namespace; its next use creates it empty."""
    _sim().namespaces.drop(_world().name)
    return ok({"status": "ok", "dropped": _world().name})


def reset() -> Response:
    """Empty the namespace, or only the state of the vendors named."""
    doc = _body("reset", empty={})
    vendors = doc.get("vendors")
    if vendors is not None:
        for slug in vendors:
            _vendor_slug(slug)
    with _world().lock:
        _world().reset(vendors)
    return ok({"status": "ok"})


# -- state --------------------------------------------------------------------------------
BATCH = 1000  # records encoded at a time in a streamed state document


def _json_chunks(node: Any, depth: int = 2) -> Iterator[bytes]:
    """``node`` as ``json_response`` would encode it, in pieces: the top ``depth`` levels of
    objects key by key and long lists ``BATCH`` records at a time, so that a whole state
    document is never one string in memory."""
    if isinstance(node, dict) and depth > 0:
        yield b"{"
        for i, (key, value) in enumerate(node.items()):
            yield (b", " if i else b"") + encode_json(key) + b": "
            yield from _json_chunks(value, depth - 1)
        yield b"}"
    elif isinstance(node, list) and len(node) > BATCH:
        yield b"["
        for at in range(0, len(node), BATCH):
            yield (b", " if at else b"") + encode_json(node[at : at + BATCH])[1:-1]
        yield b"]"
    else:
        yield encode_json(node)


def _state_answer(doc: dict[str, Any], depth: int = 2) -> Response:
    return Response(_json_chunks(doc, depth), status=200, mimetype="application/json")


def _state_doc(schema: str) -> tuple[Any, bool]:
    """The request's state document, and whether the Rust validator already found it valid
    against the schema file ``schema`` (then the load does not ask again). Peak memory
    matters here (docs/control-plane.md, "Bounded resources"): the raw body is not cached
    and the text is dropped once parsed."""
    body = request.environ.get(BODY)
    limit = request.max_content_length
    if (
        body is None
        or (limit is not None and len(body) > limit)
        or request.environ.get("CONTENT_LENGTH") != str(len(body))
    ):
        body = request.get_data(cache=False)
    # else the RSGI bridge's bytes, whole and within the bound: what get_data would read
    # from its stream, without a copy (as pipeline.read_body takes a vendor's body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Invalid JSON", "the body is not UTF-8") from exc
    del body
    schemas = _sim().schemas
    valid = False

    def shallow(doc: Any) -> bool:
        """Valid against a schema that admits nothing deeper than a control document may
        nest: then the keepability walk need not measure its depth (a seventh of a
        100,000-record load). Otherwise the walk runs first, as always, so a document too
        deep answers the same 400 (docs/serving.md, "State loads")."""
        nonlocal valid
        if schemas.depth_bound(schema) <= CONTROL_MAX_DEPTH:
            valid = schemas.fast_valid(schema, doc)
        return valid

    try:
        # the collector off while the parse builds its containers, and a large document
        # frozen after (world.bulk_load): none of its passes walks them (docs/serving.md)
        with bulk_load(FREEZE_AT if len(text) >= LARGE_STATE_BYTES else 0):
            return parse_json(text, CONTROL_MAX_DEPTH, shallow), valid
    except BadBody as exc:
        raise Problem(400, "Invalid JSON", exc.detail) from exc


def _minimal() -> bool:
    """``Prefer: return=minimal`` (RFC 7240): the client does not want the state echoed."""
    return any(
        p.strip().lower() == "return=minimal"
        for value in request.headers.getlist("Prefer")
        for p in value.split(",")
    )


def _loaded(dump: Callable[[], dict[str, Any]], depth: int = 2) -> Response:
    """The answer to a state load: the state as loaded, or 204 when the client preferred
    a minimal answer (a large state is not encoded just to be thrown away)."""
    if _minimal():
        return Response(status=204, headers={"Preference-Applied": "return=minimal"})
    return _state_answer(dump(), depth)


def _state_tag(world: World) -> str:
    """The state's entity tag: which namespace and how many writes it has seen (every
    non-GET request bumps ``changes`` after its view: docs/dashboard.md, "How it stays
    current"). Read before the state is, so a tag never outlives what it stands for."""
    return f"{world.uid}-{world.changes}"


def _tagged(world: World, dump: Callable[[], dict[str, Any]], depth: int = 2) -> Response:
    """A state read with its ETag; 304 without a body when ``If-None-Match`` names it."""
    with world.lock:
        tag = _state_tag(world)
        if request.if_none_match.contains_weak(tag):
            response = Response(status=304)
        else:
            response = _state_answer(dump(), depth)
    response.set_etag(tag)
    return response


def get_state() -> Response:
    """The whole state document; its ETag changes with every write to the namespace, and
    ``If-None-Match`` with the last one answers 304."""
    world = _world()
    return _tagged(world, world.dump_state)


def put_state() -> Response:
    """Replace the whole state; nothing changes if the document is invalid."""
    doc, valid = _state_doc("sim/state.schema.json")
    world = _world()
    with world.lock:
        # the document was parsed for this load: its records are kept, not copied
        world.backends.update(world.build_state(_sim().schemas, doc, owned=True, valid=valid))
        del doc  # the sent document's containers go before the answer is built
        give_back_memory(world)
        return _loaded(world.dump_state)


def get_vendor_state(vendor: str) -> Response:
    """One vendor's part of the state document (ETag and 304 as the whole state)."""
    slug = _vendor_slug(vendor)
    world = _world()
    return _tagged(world, lambda: world.dump_state(slug), 1)


def put_vendor_state(vendor: str) -> Response:
    """Replace one vendor's state; nothing changes if the document is invalid."""
    slug = _vendor_slug(vendor)
    doc, valid = _state_doc(f"{slug}/state.json")
    world = _world()
    with world.lock:
        world.backends.update(world.build_state(_sim().schemas, doc, slug, owned=True, valid=valid))
        del doc
        give_back_memory(world)
        return _loaded(lambda: world.dump_state(slug), 1)


# -- clock, seed, settings ----------------------------------------------------------------
def _clock_doc() -> dict[str, Any]:
    clock = _world().clock
    return {"now": iso(clock.now()), "frozen": clock.frozen}


def get_clock() -> Response:
    """The namespace's clock."""
    return ok(_clock_doc())


def put_clock() -> Response:
    """Freeze the clock at a time, or return it to real time with null."""
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
    """Move the clock forward."""
    doc = _body("clock-advance")
    with _world().lock:
        try:
            _world().clock.advance(doc["seconds"])
        except OverflowError as exc:
            raise InvalidDocument(
                [
                    {
                        "pointer": "/seconds",
                        "message": "the clock would pass the year 9999",
                        "keyword": "maximum",
                    }
                ]
            ) from exc
        return ok(_clock_doc())


def get_seed() -> Response:
    """The seed of the namespace's id source."""
    return ok({"seed": _world().ids.seed})


def put_seed() -> Response:
    """Reseed the namespace's id source: generated ids become deterministic."""
    doc = _body("seed")
    with _world().lock:
        _world().reseed(int(doc["seed"]))
    return ok({"seed": int(doc["seed"])})


def get_settings() -> Response:
    """The namespace's settings."""
    return ok(_world().settings)


def put_settings() -> Response:
    """Change some settings, keeping the others."""
    doc = _body("settings")
    with _world().lock:
        _world().apply_settings(doc)
        return ok(_world().settings)


# -- faults -------------------------------------------------------------------------------
def get_faults() -> Response:
    """The namespace's fault rules, with how often each matched and fired."""
    with _world().lock:
        return ok({"faults": [r.as_dict() for r in _world().faults.rules]})


def add_fault() -> Response:
    """Add a fault rule; it is consulted after the rules added before it."""
    doc = _body("fault")
    problems = rule_problems(doc)  # framing headers, a body too deep, ${...} never set
    if problems:
        raise InvalidDocument(problems)
    with _world().lock:
        if len(_world().faults.rules) >= MAX_FAULT_RULES:
            raise Problem(
                429,
                "Too many fault rules",
                f"This namespace has {MAX_FAULT_RULES} fault rules, the most it keeps; remove "
                "some (DELETE /__sim/faults/{id}, DELETE /__sim/faults) first.",
                limit=MAX_FAULT_RULES,
            )
        return ok(_world().faults.add(doc).as_dict(), 201)


def clear_faults() -> Response:
    """Remove every fault rule."""
    with _world().lock:
        _world().faults.clear()
    return ok({"status": "ok"})


def remove_fault(rule_id: str) -> Response:
    """Remove one fault rule."""
    with _world().lock:
        if not _world().faults.remove(rule_id):
            raise Problem(404, "No such fault rule", f"No fault rule {rule_id}.")
    return ok({"status": "ok"})


def openapi() -> Response:
    """The OpenAPI 3.1 document of every vendor route and of this control plane."""
    from simulator.openapi import build

    return ok(build(current_app))


# -- journal and outbox -------------------------------------------------------------------
def _int_arg(name: str, minimum: int = 0) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    try:  # ASCII digits only: int() alone also reads 1_0 and ٣
        value = int(text) if digits.isascii() and digits.isdigit() else minimum - 1
    except ValueError:  # past Python's 4,300 digits
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


def _stream(entries: list[dict[str, Any]]) -> Response:
    """``{"entries": [...], "count": n}``, each entry decoded and encoded as it is sent: a read
    holds one decoded entry at a time, however long the journal (docs/control-plane.md)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"entries": ['
        for i, entry in enumerate(entries):
            yield (b", " if i else b"") + encode_json(render(entry))
        yield f'], "count": {len(entries)}}}'.encode()

    return Response(chunks(), status=200, mimetype="application/json")


def get_journal() -> Response:
    """Recorded vendor requests, oldest first; filters vendor, operation, status; pages with
    limit and after or before (entry ids). An ETag, and 304 to ``If-None-Match`` naming it,
    as the state (none under ``serve --shadow``, which completes entries later)."""
    fields = {k: request.args[k] for k in ("vendor", "operation") if k in request.args}
    status = _int_arg("status", 100)
    limit = _int_arg("limit", 0)
    after = _int_arg("after", 0)
    before = _int_arg("before", 0)

    def keep(entry: dict[str, Any]) -> bool:
        return all(entry[k] == v for k, v in fields.items()) and (
            status is None or entry["response"]["status"] == status
        )

    world = _world()
    with world.lock:  # references only: decoding happens while the answer is sent
        changes = world.changes  # read first, as for the state's tag
        entries = world.journal.select(keep, limit, after, before)
    if _sim().shadow is not None:  # serve --shadow edits entries later: no tag
        return _stream(entries)
    # the entries chosen (first and last id, how many), the writes, the query: an append,
    # an eviction, a clear or a reset (writes) each change it
    ids = f"{entries[0]['id']}.{entries[-1]['id']}" if entries else "none"
    query = zlib.crc32(request.query_string)
    tag = f"{world.uid}-{changes}-{ids}-{len(entries)}-{query:x}"
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        response = _stream(entries)
    response.set_etag(tag)
    return response


def get_journal_entry(entry_id: int) -> Response:
    """One journal entry."""
    entry = _world().journal.get(entry_id)
    if entry is None:
        raise Problem(404, "No such journal entry", f"No journal entry {entry_id}.")
    return ok(entry)


def _pattern_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A refused pattern's errors: a malformed matcher by its own pointer (``/body/email/
    $match``), not as the schema's "not valid under any of the given schemas" at ``/body``."""
    from simulator.verify import problems as pattern_problems  # lazily: see _matching

    doc = parse_json(request.get_data(cache=True), CONTROL_MAX_DEPTH)
    precise = pattern_problems(doc) if isinstance(doc, dict) else []
    vague = [
        e
        for e in errors
        if e["keyword"] in ("anyOf", "oneOf")
        and any(p["pointer"].startswith(e["pointer"]) for p in precise)
    ]
    return [*precise, *(e for e in errors if e not in vague)]


def _matching() -> list[dict[str, Any]]:
    """The stored entries matching the request pattern in the body (``{}``: every entry)."""
    # imported on first use: the matchers come with the scenarios package, which an app
    # that is never asked for a pattern need not load (start to first answer, issue 16)
    from simulator.verify import matches_stored
    from simulator.verify import problems as pattern_problems

    try:
        doc = _body("request-pattern")
    except InvalidDocument as exc:
        raise InvalidDocument(_pattern_errors(exc.errors or [])) from exc
    errors = pattern_problems(doc)  # the schema says it all today; this keeps it so
    if errors:
        raise InvalidDocument(errors)
    if isinstance(doc.get("method"), str):
        doc["method"] = doc["method"].upper()
    with _world().lock:  # references only: entries are decoded outside the lock
        window = _world().journal.select()
    return [e for e in window if matches_stored(doc, e)]


def find_requests() -> Response:
    """Journaled requests matching a request pattern (schemas/sim/request-pattern.json),
    oldest first, as GET /__sim/journal renders them."""
    return _stream(_matching())


def count_requests() -> Response:
    """How many journaled requests match a request pattern."""
    return ok({"count": len(_matching())})


def clear_journal() -> Response:
    """Empty the journal."""
    with _world().lock:
        _world().journal.clear()
    return ok({"status": "ok"})


def get_outbox() -> Response:
    """Side effects that would have left the vendor; filters vendor, kind."""
    fields = {k: request.args[k] for k in ("vendor", "kind") if k in request.args}
    with _world().lock:
        entries = _world().outbox.select(lambda e: all(e[k] == v for k, v in fields.items()))
    return _stream(entries)


def clear_outbox() -> Response:
    """Empty the outbox."""
    with _world().lock:
        _world().outbox.clear()
    return ok({"status": "ok"})


@dataclass(frozen=True)
class Route:
    """A control route: its view, the schema of its body and of its answer (``schemas/sim/``)."""

    method: str
    rule: str
    view: Callable[..., Response]
    body: str | None = None
    answer: str | None = None
    status: int = 200  # the status of a successful answer
    # query parameters it reads: name -> JSON Schema of the value
    query: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # honours ``Prefer: return=minimal`` with a 204 (a state load)
    minimal: bool = False
    # answers with an ETag, and 304 to ``If-None-Match`` naming it (a state read)
    etag: bool = False


JOURNAL_QUERY: dict[str, Mapping[str, Any]] = {
    "vendor": {"type": "string"},
    "operation": {"type": "string"},
    "status": {"type": "integer", "minimum": 100},
    "limit": {"type": "integer", "minimum": 0},
    "after": {"type": "integer", "minimum": 0},
    "before": {"type": "integer", "minimum": 0},
}
OUTBOX_QUERY: dict[str, Mapping[str, Any]] = {
    "vendor": {"type": "string"},
    "kind": {"type": "string"},
}


ROUTES: list[Route] = [
    Route("GET", "/health", health, answer="health"),
    Route("GET", "/openapi.json", openapi),
    Route("GET", "/namespaces", list_namespaces, answer="namespaces"),
    Route("DELETE", "", drop_namespace, answer="ok"),
    Route("POST", "/reset", reset, body="reset", answer="ok"),
    Route("GET", "/state", get_state, answer="state.schema", etag=True),
    Route("PUT", "/state", put_state, body="state.schema", answer="state.schema", minimal=True),
    Route("GET", "/state/<vendor>", get_vendor_state, etag=True),
    Route("PUT", "/state/<vendor>", put_vendor_state, minimal=True),
    Route("GET", "/clock", get_clock, answer="clock-state"),
    Route("PUT", "/clock", put_clock, body="clock", answer="clock-state"),
    Route("POST", "/clock/advance", advance_clock, body="clock-advance", answer="clock-state"),
    Route("GET", "/seed", get_seed, answer="seed"),
    Route("PUT", "/seed", put_seed, body="seed", answer="seed"),
    Route("GET", "/settings", get_settings, answer="settings-state"),
    Route("PUT", "/settings", put_settings, body="settings", answer="settings-state"),
    Route("GET", "/journal", get_journal, answer="journal", query=JOURNAL_QUERY, etag=True),
    Route("DELETE", "/journal", clear_journal, answer="ok"),
    Route("GET", "/journal/<int:entry_id>", get_journal_entry, answer="journal-entry"),
    Route("POST", "/journal/find", find_requests, body="request-pattern", answer="journal"),
    Route("POST", "/journal/count", count_requests, body="request-pattern", answer="journal-count"),
    Route("GET", "/outbox", get_outbox, answer="outbox", query=OUTBOX_QUERY),
    Route("GET", "/faults", get_faults, answer="faults"),
    Route("POST", "/faults", add_fault, body="fault", answer="fault-state", status=201),
    Route("DELETE", "/faults", clear_faults, answer="ok"),
    Route("DELETE", "/faults/<rule_id>", remove_fault, answer="ok"),
    Route("DELETE", "/outbox", clear_outbox, answer="ok"),
    Route("GET", "/ui", ui_page, answer="text/html"),
    Route("GET", "/ui/<path:asset>", ui_asset, answer="text/*"),
]

for _route in ROUTES:
    blueprint.add_url_rule(_route.rule, view_func=_route.view, methods=[_route.method])
