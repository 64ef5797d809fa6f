"""The request pipeline: the stages every request passes, in order, each a small function.

A vendor request:

1. ``enter_namespace``: its world (``/__ns/{name}`` or the default), opened on first use;
2. ``start_call``: the ``Call`` (its vendor and declared operation) on ``g``;
3. ``apply_fault``: the vendor's latency setting and the namespace's fault rules may delay,
   answer or drop it;
4. ``read_body`` then ``lock``: the body is read before the namespace lock is taken, so
   a slow upload never holds the namespace;
5. ``check_contract``: the request document against ``<op>.request.json``;
6. the operation's view (``simulator/vendors/<vendor>/routes.py``);
7. ``shape_answer``: a fired rule's ``malformed``, ``truncate``, ``dribble``
   (``simulator/transport.py``); ``record``: the journal entry; ``check_answer``: with
   ``validate_responses``, the answer against the schema its operation declares for the status;
8. ``unlock``, on the way out whatever happened.

A control request (``/__sim``) takes steps 1 and 8 only. Errors render in one place
(``install_error_handlers``): vendor errors in the vendor's shape, everything else as
a problem document. ``NamespaceMiddleware`` routes ``/__ns/{name}/...`` and carries out
a fault rule's ``drop``.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import json
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from simulator.answers import request_values
from simulator.errors import Problem, SimulatorError, encode_json, header_text, json_response
from simulator.faults import Effect, draw_ms, effect, render
from simulator.http import BadBody, parse_json
from simulator.journal import ENTRY_OVERHEAD, Raw, outcomes_size
from simulator.transport import BRIDGED, ENVIRON_KEY, Transport, malform, prepare
from simulator.vendors._base import Operation, Vendor
from simulator.world import DEFAULT, NAME, TooManyNamespaces, World

if TYPE_CHECKING:
    from simulator.app import Simulator
    from simulator.shadow import Shadow

log = logging.getLogger("crmsim")
CONTROL_PREFIX = "/__sim"
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Call:
    """What the pipeline knows of the vendor request it serves: one object on ``g``, so the
    hot path reads Flask's context once per step instead of once per field."""

    request: Request
    world: World
    vendor: Vendor | None
    operation: Operation | None
    started: float
    violations: list[dict[str, str]] = field(default_factory=list)
    checked: bool = False
    fault: str | None = None
    effect: Effect | None = None  # what the fired rule does (its id is ``fault``)
    locked: bool = False
    # what the vendor did with each item (AntCRM listener items), for the journal
    outcomes: list[Any] | None = None
    _document: tuple[Any, BaseException | None] | None = None

    @property
    def name(self) -> str | None:
        """The journal's name of the operation: ``<vendor>.<operation>``."""
        if self.vendor is None or self.operation is None:
            return None
        return f"{self.vendor.slug}.{self.operation.name}"

    def document(self) -> Any:
        """The request document, read once by the operation's reader; its error, if it
        raised one, is raised again on every call."""
        found = self._document
        if found is None:
            if self.operation is None:
                raise LookupError("this request has no declared operation")
            try:
                found = (self.operation.reads.read(), None)
            except (BadBody, RequestEntityTooLarge) as exc:
                found = (None, exc)
            self._document = found
        document, error = found
        if error is not None:
            raise error
        return document


# -- 1. the namespace ----------------------------------------------------------------------
def enter_namespace(sim: Simulator, req: Request) -> World:
    name = req.environ.get("crmsim.namespace", DEFAULT)
    world = sim.namespaces.find(name)
    if world is None:
        world = open_namespace(sim, req, name)
    g.world = world
    return world


def open_namespace(sim: Simulator, req: Request, name: str) -> World:
    """A request to a namespace that does not exist yet. A matched vendor route (its journal
    entry is a write) or a control write creates it, up to ``max_namespaces`` (then 429,
    in the vendor's shape on vendor routes); a read or an unmatched route sees a blank
    namespace that is never stored (docs/control-plane.md, "Bounded resources")."""
    control = req.path.startswith(CONTROL_PREFIX)
    creates = req.url_rule is not None and (
        not control or (req.method not in READ_ONLY and req.endpoint != "sim.drop_namespace")
    )
    if not creates:
        return sim.namespaces.blank(name)
    try:
        return sim.namespaces.create(name)
    except TooManyNamespaces as exc:
        vendor = None if control else sim.vendor_for(req.path)
        if vendor is not None:
            raise vendor.http_error(429) from exc
        raise


# -- 2. the call ---------------------------------------------------------------------------
def start_call(sim: Simulator, req: Request, world: World, started: float) -> Call:
    vendor = sim.vendor_for(req.path)
    operation = None
    if vendor is not None:
        slug, _, name = (req.endpoint or "").partition(".")
        if slug == vendor.slug:
            operation = vendor.operation(name)
    call = g.call = Call(req, world, vendor, operation, started)
    return call


# -- 3. faults -----------------------------------------------------------------------------
# Set by the RSGI bridge (simulator/rsgi.py) on a request it runs on granian's event loop,
# which nothing may block: no delay is slept and no lock is waited for there.
INLINE = "crmsim.inline"
# Set by the RSGI bridge too: the request's body, read on the event loop (``read_body``).
BODY = "crmsim.body"


class Reschedule(BaseException):  # noqa: N818 (not an error: an instruction to the bridge)
    """An inline request found it would block the event loop (a fault rule or a latency
    setting appeared since the bridge looked, or another thread holds the namespace's
    lock). Raised before anything was done, so the bridge runs the request again in its
    thread pool. A ``BaseException``, so Flask's error handlers let it through."""


class FaultAnswer(SimulatorError):
    """The answer a fault rule gives instead of the vendor's."""

    def __init__(self, response: Response) -> None:
        super().__init__("fault")
        self.response = response

    def to_response(self) -> Response:
        return self.response


def apply_fault(call: Call) -> None:
    """Consult the namespace's fault rules and its vendor's ``latency`` setting: wait (a
    fired rule's own ``delay_ms`` replaces the vendor's latency), then answer, drop, or let
    the vendor answer. Delays are drawn from the namespace's seeded fault source and slept
    in the thread that serves the request."""
    world, vendor, req = call.world, call.vendor, call.request
    latency = world.settings["latency"].get(vendor.slug) if vendor is not None else None
    if not world.faults.rules and latency is None:
        return
    if INLINE in req.environ:
        raise Reschedule
    with world.lock:
        rule = world.faults.pick(vendor.slug if vendor else None, call.name, req.method, req.path)
        does = effect(rule.spec) if rule is not None else None
        delay = latency if does is None or does.delay is None else does.delay
        ms = draw_ms(delay, world.faults.random) if delay is not None else 0
    if ms and call.locked:  # a shared world's lease is not held while a delay runs
        unlock(call)
        time.sleep(ms / 1000)
        lock(call)
    elif ms:
        time.sleep(ms / 1000)
    if rule is None or does is None:
        return
    call.fault = rule.id
    call.effect = does
    if does.drop:
        req.environ["crmsim.drop"] = True
    if does.status is None:
        return  # a delay only: the vendor answers as usual
    if does.has_body:
        response = json_response(answer_body(call, does.body), does.status)
    elif does.status < 400:  # a one-off success without a body
        response = Response(status=does.status)
    elif vendor is not None:
        response = vendor.http_error(does.status).to_response()
    else:
        response = Problem(
            does.status, "Fault", f"Fault rule {rule.id} answered {does.status}."
        ).to_response()
    response.headers.update(does.headers)
    raise FaultAnswer(response)


def answer_body(call: Call, body: Any) -> Any:
    """A rule's body with its ``${request...}`` and ``${now}`` references filled in."""
    if "${" not in encode_json(body).decode():
        return body
    vendor = call.vendor.slug if call.vendor is not None else None
    values = request_values(
        call.request, vendor, call.name, call.world.name, call.world.clock.now()
    )
    return render(body, values)


def shape_answer(call: Call, response: Response) -> None:
    """A fired rule's ``malformed`` (the body cut to half, here) and ``truncate``/``dribble``
    (left for the server layer, ``simulator/transport.py``)."""
    does = call.effect
    if does is None:
        return
    if does.malformed:
        response.set_data(malform(response.get_data()))
    prepare(response, call.request.environ, Transport.of(does.truncate, does.dribble))


# -- 4. body and lock ----------------------------------------------------------------------
def read_body(req: Request, limit: int) -> None:
    """The body, bounded by ``max_body_bytes`` (over it, the route answers in its way). The
    RSGI bridge has read it already (``BODY``): taken as it is when it is whole and within
    the bound, as Werkzeug's ``get_data`` would have read it from the bridge's stream (a
    request without a body has no ``Content-Length``: the bridge read nothing)."""
    body = req.environ.get(BODY)
    if (
        body is not None
        and len(body) <= limit
        and req.environ.get("CONTENT_LENGTH", "0") == str(len(body))
    ):
        req._cached_data = body  # what ``get_data(cache=True)`` keeps and answers
        return
    with contextlib.suppress(HTTPException):
        req.get_data(cache=True)


def lock(call: Call) -> None:
    if INLINE not in call.request.environ:
        call.world.lock.acquire()
    elif not call.world.lock.acquire(blocking=False):
        raise Reschedule
    call.locked = True


def unlock(call: Call | None) -> None:
    if call is not None and call.locked:
        call.locked = False
        call.world.lock.release()


# -- 5. the contract check -----------------------------------------------------------------
def _unreadable(detail: str, keyword: str) -> dict[str, str]:
    return {"pointer": "", "message": f"the request cannot be read: {detail}", "keyword": keyword}


def check_contract(sim: Simulator, call: Call) -> None:
    """Validate the request document against ``<op>.request.json`` (contract checks).

    Violations go to the journal and the ``X-Sim-Violations`` header; the vendor's answer is
    unchanged unless the namespace's ``strict_contract`` is on, which answers 422.
    """
    vendor, op = call.vendor, call.operation
    if vendor is None or op is None:
        return
    schema = f"{vendor.slug}/{op.name}.request.json"
    if not sim.schemas.has(schema):
        return
    try:
        document = call.document()
    except BadBody as exc:
        call.violations = [_unreadable(exc.detail, exc.reason)]
    except RequestEntityTooLarge:  # the route answers this in the vendor's own way
        call.violations = [_unreadable("the body is over the size limit", "maxLength")]
    else:
        call.violations = sim.schemas.validate(schema, document)
    call.checked = True
    if call.violations and call.world.settings["strict_contract"]:
        raise Problem(
            422,
            "Contract violation",
            f"The request violates {schema} in {len(call.violations)} place(s); "
            "strict_contract is on, so the vendor did not process it.",
            errors=call.violations,
            operation=call.name,
        )


# -- 7. after the view ---------------------------------------------------------------------
def check_answer(sim: Simulator, call: Call, response: Response) -> None:
    """Check a vendor answer against the schema its operation declares for that status."""
    vendor, op = call.vendor, call.operation
    if vendor is None or op is None or call.fault is not None or response.status_code == 422:
        return
    schemas = op.answer_schemas(vendor.slug, response.status_code)
    where = {"operation": call.name, "status": response.status_code, "path": call.request.path}
    if not schemas:
        sim.response_problems.append({**where, "problem": "status not declared"})
        return
    try:
        body = parse_json(response.get_data())
    except BadBody:
        sim.response_problems.append({**where, "problem": "body is not JSON"})
        return
    found = [sim.schemas.validate(name, body) for name in schemas]
    if all(found):
        sim.response_problems.append({**where, "problem": found, "body": body})


def record(call: Call, response: Response, shadow: Shadow | None = None) -> dict[str, Any]:
    """Append the journal entry, with ``serve --shadow``'s fields when ``shadow`` is given
    (returned with its id: the shadow amends it later, simulator/shadow.py); decoding
    headers, query and bodies waits for a reader."""
    req, vendor = call.request, call.vendor
    environ = req.environ
    dropped = bool(environ.get("crmsim.drop"))
    try:
        request_data = req.get_data(cache=True)
    except HTTPException:  # the body was over the limit and was never read
        request_data = b""
    headers = [
        (k, v)
        for k, v in environ.items()
        if k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")
    ]
    keep = call.world.journal_body_bytes
    sent = Raw(headers, request_data, req.mimetype, environ.get("QUERY_STRING", ""), True, keep)
    answered = (
        Raw([], b"", None)
        if dropped
        else Raw(response.headers.to_wsgi_list(), response.get_data(), response.mimetype, keep=keep)
    )
    entry = {
        "at": call.world.clock.now(),
        "vendor": vendor.slug if vendor else None,
        # a route may disown the request (Omoto's unconfigured endpoint): journal it unmatched
        "operation": call.name if req.url_rule is not None else None,
        "request": {
            "method": req.method,
            "path": req.path,
            "raw": sent,
        },
        "response": {
            "status": None if dropped else response.status_code,
            "raw": answered,
        },
        "duration_ms": round((time.perf_counter() - call.started) * 1000, 3),
        "violations": call.violations,
        "fault": call.fault,
        "outcomes": call.outcomes,
    }
    if shadow is not None:
        shadow.mark(call, entry)
    size = ENTRY_OVERHEAD + sent.size() + answered.size() + outcomes_size(call.outcomes)
    return call.world.journal.append(entry, size)


def answer_call(sim: Simulator, call: Call, response: Response) -> dict[str, Any]:
    """Step 7 up to the journal entry: a fired rule's shape, ``X-Sim-Violations``, the hint
    of a namespace without state, the entry (returned)."""
    shape_answer(call, response)
    if call.checked:
        response.headers["X-Sim-Violations"] = str(len(call.violations))
    if call.vendor is not None and call.fault is None:
        hint_empty_namespace(call, response)
    return record(call, response, sim.shadow)


def after_answer(sim: Simulator, call: Call, response: Response, entry: dict[str, Any]) -> None:
    """Step 7 past the journal entry: ``--shadow``'s offer, ``validate_responses``' check."""
    if sim.shadow is not None:
        sim.shadow.offer(call, entry)
    if sim.config.validate_responses:
        check_answer(sim, call, response)


# -- the stages in order -------------------------------------------------------------------
def install(app: Flask, sim: Simulator) -> None:
    @app.before_request
    def before() -> None:
        started = time.perf_counter()
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        if req.endpoint == "sim.health":
            # needs no namespace: a namespace not made yet would be built blank for each
            # check (and a shared store's health says whether Redis answers, nothing more)
            return
        world = enter_namespace(sim, req)
        if req.path.startswith(CONTROL_PREFIX):
            # control documents (whole states) may be far larger than vendor bodies
            req.max_content_length = sim.config.max_control_bytes
            return
        call = start_call(sim, req, world, started)
        if world.shared:
            # the lease first: the fault rules and settings are Redis's, read as it is taken
            read_body(req, sim.config.max_body_bytes)
            lock(call)
            apply_fault(call)
        else:
            apply_fault(call)
            read_body(req, sim.config.max_body_bytes)
            lock(call)
        check_contract(sim, call)

    @app.after_request
    def after(response: Response) -> Response:
        # each proxy read once: a read through Flask's ``request`` or ``g`` costs a lookup
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        here = g._get_current_object()
        world: World | None = here.get("world")
        if req.method not in READ_ONLY and world is not None:
            world.changes += 1  # vendor or control write: the snapshot thread saves it
        if (
            req.path.startswith(CONTROL_PREFIX)
            and "pretty" in req.environ.get("QUERY_STRING", "")  # before parsing the query
            and "pretty" in req.args
        ):
            indent_json(response)
        call: Call | None = here.get("call")
        if call is not None:
            try:
                entry = answer_call(sim, call, response)
                if call.world.shared and call.locked:
                    # the lease's release carries the journal entry and the world's changes:
                    # given back before the answer is final, a release that failed is a 503
                    unlock(call)
                    failure = getattr(getattr(call.world, "failed", None), "exc", None)
                    if failure is not None:
                        raise failure
            except Exception as exc:
                if sim.shared is None:
                    raise
                # Redis did not take the journal entry: its handler's 503, not a 500 (Flask
                # sends an after_request error to the 500 handler, even on a 503 answer)
                return app.make_response(app.handle_user_exception(exc))
            after_answer(sim, call, response, entry)
        held = here.pop("control_lock", None) if sim.shared is not None else None
        if held is not None:
            # a control request's changes (a state switched in, fault rules, the clock) are
            # written with its lease's release: given back before the answer is final too
            held.release()
            failure = getattr(getattr(world, "failed", None), "exc", None)
            if failure is not None:
                return app.make_response(app.handle_user_exception(failure))
        return response

    @app.teardown_request
    def leave(_exc: BaseException | None) -> None:
        here = g._get_current_object()
        unlock(here.get("call"))
        held = here.pop("control_lock", None)
        if held is not None:
            held.release()


def indent_json(response: Response) -> None:
    """A control-plane JSON answer indented by two spaces, for ``?pretty`` (people reading it
    in a terminal; docs/control-plane.md). A streamed answer is read whole first."""
    if response.mimetype not in ("application/json", "application/problem+json"):
        return
    try:
        doc = json.loads(response.get_data())
    except ValueError:
        return
    response.set_data(json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")


def hint_empty_namespace(call: Call, response: Response) -> None:
    """``X-Sim-Hint`` beside a vendor's answer when no state was loaded for that vendor in
    the namespace (every vendor then refuses: no keys, users or listeners exist; CRM.COM
    refuses with HTTP 200). The answer stays the vendor's own (docs/control-plane.md)."""
    assert call.vendor is not None
    slug, name = call.vendor.slug, call.world.name
    backend = call.world.backends.built(slug)
    if backend is not None and backend.loaded:
        return
    prefix = "" if name == DEFAULT else f"/__ns/{name}"
    response.headers["X-Sim-Hint"] = header_text(
        f"no {slug} state loaded in namespace '{name}'; load one with "
        f"PUT {prefix}/__sim/state/{slug} (or PUT {prefix}/__sim/state)"
    )


# -- errors, rendered in one place ---------------------------------------------------------
def closest_routes(app: Flask, path: str) -> list[str]:
    rules = sorted({r.rule for r in app.url_map.iter_rules() if r.endpoint != "static"})
    return difflib.get_close_matches(path, rules, n=3, cutoff=0.3)


def install_error_handlers(app: Flask, sim: Simulator) -> None:
    @app.errorhandler(SimulatorError)
    def simulator_error(exc: SimulatorError) -> Response:
        return exc.to_response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return http_error_response(app, sim, request, exc)

    if sim.shared is not None:
        install_shared_handlers(app, sim)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:  # a bug: say so in the vendor's own shape
        return unexpected_response(sim, request)


def http_error_response(app: Flask, sim: Simulator, req: Request, exc: HTTPException) -> Response:
    """A transport-level error (404, 405, 413 ...): the vendor's own on a vendor path, else a
    problem document (a 404 names the closest routes)."""
    status = exc.code or 500
    vendor = sim.vendor_for(req.path)
    error: SimulatorError
    if vendor is not None and not req.path.startswith(CONTROL_PREFIX):
        error = vendor.http_error(status)
    elif status == 404:
        routes = closest_routes(app, req.path)
        error = Problem(404, "Not Found", f"No route matches {req.path}.", closest_routes=routes)
    else:
        error = Problem(status, exc.name, exc.description or "")
    response = error.to_response()
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    if status == 404 and vendor is not None:
        response.headers["X-Sim-Closest-Routes"] = ", ".join(closest_routes(app, req.path))
    return response


def unexpected_response(sim: Simulator, req: Request) -> Response:
    """An error crmsim did not expect (a bug), logged with its traceback: a 500 in the
    vendor's own shape on a vendor path, a problem document without internals elsewhere."""
    log.exception("unhandled error on %s %s", req.method, req.path)
    vendor = sim.vendor_for(req.path)
    if vendor is not None and not req.path.startswith(CONTROL_PREFIX):
        return vendor.http_error(500).to_response()
    # no internals in any answer: the log has the traceback
    return Problem(
        500, "Internal Server Error", "crmsim failed to answer; its log says why."
    ).to_response()


def install_shared_handlers(app: Flask, sim: Simulator) -> None:
    """With a shared store: Redis not answering, or a namespace held past the wait, is a
    503 in the vendor's own shape on vendor routes and a problem document on the control
    plane; a namespace over ``max_namespaces`` made again after a drop, a 429 likewise."""
    import redis

    from simulator.shared import NamespaceBusy, StoreUnavailable

    def answer(problem: Problem) -> Response:
        vendor = sim.vendor_for(request.path)
        if vendor is not None and not request.path.startswith(CONTROL_PREFIX):
            response = vendor.http_error(problem.status).to_response()
        else:
            response = problem.to_response()
        if problem.status == 503:
            response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(redis.RedisError)
    def store_down(exc: redis.RedisError) -> Response:
        log.warning("the store did not answer on %s %s: %s", request.method, request.path, exc)
        return answer(
            StoreUnavailable(
                f"The store (Redis) did not answer: {type(exc).__name__}. This request may or "
                "may not have been carried out; crmsim serves again when Redis does."
            )
        )

    @app.errorhandler(NamespaceBusy)
    def busy(exc: NamespaceBusy) -> Response:
        return answer(exc)

    @app.errorhandler(TooManyNamespaces)
    def too_many(exc: TooManyNamespaces) -> Response:
        return answer(exc)


# -- the WSGI layer ------------------------------------------------------------------------
class NamespaceMiddleware:
    """Serves ``/__ns/{name}/rest`` as ``/rest`` in namespace ``name``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith("/__ns/"):
            name, _, rest = path[len("/__ns/") :].partition("/")
            if NAME.match(name):
                environ["crmsim.namespace"] = name
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/__ns/" + name
                environ["PATH_INFO"] = "/" + rest
        result = self.app(environ, start_response)
        if environ.get("crmsim.drop"):
            drop_connection(environ, result)
        transport: Transport | None = environ.get(ENVIRON_KEY)
        if transport is not None and BRIDGED not in environ:
            return transport.wsgi(environ, result)  # under the RSGI bridge: it sends the body
        return result


def drop_connection(environ: dict[str, Any], result: Iterable[bytes]) -> None:
    """A fault rule dropped this request: reset the connection instead of answering."""
    close = getattr(result, "close", None)
    if close is not None:
        close()
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # with a zero linger: the client sees a reset
    elif "REMOTE_PORT" in environ:  # granian (simulator/rsgi.py) owns the socket: reset it
        from simulator.rsgi import reset_client

        reset_client(environ)
    # Servers treat a broken pipe as the client having gone away: nothing is written.
    raise BrokenPipeError(errno.EPIPE, "connection dropped by a crmsim fault rule")
