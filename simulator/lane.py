"""The vendor lane: a quiet vendor request answered without Flask's request cycle.

A vendor request the RSGI bridge runs on the event loop (``rsgi.quiet``: an existing
namespace with no fault rule and no latency setting) whose host and route the app has
served before (``lean.App.kept``) is answered here: the pipeline's vendor steps
(``simulator/pipeline.py``) in the same order, around the operation's own view, with no
request or app context pushed, no hooks looked up, no WSGI ``start_response``. Views,
readers and pipeline steps read the request through Flask's ``request`` and ``g`` as
always: the lane sets the two context variables they read to objects of its own.

Anything else goes to Flask as before (returns ``None`` before anything is done): a
``HEAD`` or ``OPTIONS``, a route not kept yet, a body not read whole or over the bound, a
multipart form, ``strict_contract`` (its 422 is Flask's), ``--shadow``, a shared world,
hooks, app-context teardowns or signal receivers that crmsim did not install, a lock
another thread holds. What fails is answered as Flask answers it: a view's error by the
handlers' rendering (``pipeline.http_error_response``, ``unexpected_response``), an error
after the view by the 500, which goes through the steps after the view again (``finish``).
``tests/unit/test_lane.py`` sends the same requests both ways and compares the answers,
journal entries and states.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response
from flask.ctx import _AppCtxGlobals
from flask.globals import _cv_app, _cv_request
from flask.signals import (
    appcontext_popped,
    appcontext_pushed,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from werkzeug.exceptions import HTTPException

from simulator import pipeline
from simulator.errors import SimulatorError
from simulator.lean import App, own_headers
from simulator.pipeline import BODY, CONTROL_PREFIX, READ_ONLY, Call
from simulator.world import DEFAULT, NAME

if TYPE_CHECKING:
    from simulator.app import Simulator
    from simulator.vendors._base import Operation, Vendor

log = logging.getLogger("crmsim")
Answer = tuple[int, list[tuple[str, str]], bytes]
SIGNALS = (
    request_started,
    request_finished,
    request_tearing_down,
    got_request_exception,
    appcontext_pushed,
    appcontext_popped,
)


class _RequestContext:
    """What Flask's ``request`` proxy reads: ``.request``."""

    __slots__ = ("request",)

    def __init__(self, request: Request) -> None:
        self.request = request


class _AppContext:
    """What Flask's ``g`` proxy reads: ``.g``; and ``current_app``: ``.app``."""

    __slots__ = ("app", "g")

    def __init__(self, app: App) -> None:
        self.app = app
        self.g = _AppCtxGlobals()


class Lane:
    """Answers quiet vendor requests past Flask's request cycle (module docstring)."""

    def __init__(self, app: Flask, sim: Simulator) -> None:
        assert isinstance(app, App)  # its kept routes: simulator/lean.py
        self.app = app
        self.sim = sim
        self.operations: dict[str, tuple[Vendor, Operation]] = {
            f"{vendor.slug}.{op.name}": (vendor, op)
            for vendor in sim.vendors
            for op in vendor.operations
        }
        self.enabled = sim.shared is None and sim.shadow is None
        self.max_body = sim.config.max_body_bytes
        self._hooks: dict[int, bool] = {}  # id(lean.Hooks) -> are they crmsim's own?
        self.expected: tuple[Any, ...] | None = None

    def own_hooks(self, hooks: Any) -> bool:
        """The blueprint's hooks are the ones crmsim installs, no app-context teardown is
        registered and nothing listens to a signal: the lane's fixed steps are then what
        Flask would run."""
        found = self._hooks.get(id(hooks))
        if found is None:
            app = self.app
            expected = (
                [app.ensure_sync(f) for f in app.before_request_funcs.get(None, ())],
                [app.ensure_sync(f) for f in reversed(app.after_request_funcs.get(None, ()))],
                [app.ensure_sync(f) for f in reversed(app.teardown_request_funcs.get(None, ()))],
            )
            found = (
                not hooks.url_values
                and (hooks.before, hooks.after, hooks.teardown) == expected
                and len(hooks.before) == 2  # the guard, then the pipeline's
                and len(hooks.after) == 1
                and len(hooks.teardown) == 1
            )
            self._hooks[id(hooks)] = found
        return (
            found
            and not self.app.teardown_appcontext_funcs
            and not any(signal.receivers for signal in SIGNALS)
        )

    def serve(self, environ: dict[str, Any]) -> Answer | None:
        """The answer to a quiet vendor request, or ``None`` (nothing done): Flask's."""
        started = time.perf_counter()
        if not self.enabled:
            return None
        method = environ["REQUEST_METHOD"]
        if method in READ_ONLY and method != "GET":
            return None
        path: str = environ["PATH_INFO"]
        name = DEFAULT
        if path.startswith("/__ns/"):
            name, _, rest = path[6:].partition("/")
            if not NAME.match(name):
                return None
            environ = {
                **environ,
                "crmsim.namespace": name,
                "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + "/__ns/" + name,
                "PATH_INFO": "/" + rest,
            }
            path = environ["PATH_INFO"]
        if path.startswith(CONTROL_PREFIX):
            return None
        kept = self.app.kept(environ)
        if kept is None:
            return None
        rule, arguments, hooks = kept
        found = self.operations.get(rule.endpoint)
        if found is None or not self.own_hooks(hooks):
            return None
        world = self.sim.namespaces.find(name)
        if (
            world is None
            or world.shared
            or world.faults.rules
            or world.settings["latency"]
            or world.settings["strict_contract"]
        ):
            return None
        body = environ.get(BODY)
        if (
            body is None
            or len(body) > self.max_body
            or environ.get("CONTENT_LENGTH", "0") != str(len(body))
        ):
            return None
        req = self.app.request_class(environ)
        if req.mimetype == "multipart/form-data":
            return None
        if not world.lock.acquire(blocking=False):
            return None
        try:
            return self.answer(req, rule, arguments, world, found, started)
        finally:
            world.lock.release()

    def finish(self, call: Call, response: Response) -> None:
        """What the pipeline's ``after_request`` hook does for a vendor request: the
        namespace's change count, then step 7."""
        if call.request.method not in READ_ONLY:
            call.world.changes += 1
        entry = pipeline.answer_call(self.sim, call, response)
        pipeline.after_answer(self.sim, call, response, entry)

    def answer(
        self,
        req: Request,
        rule: Any,
        arguments: dict[str, Any],
        world: Any,
        found: tuple[Vendor, Operation],
        started: float,
    ) -> Answer:
        vendor, op = found
        req.url_rule = rule
        req.view_args = dict(arguments)
        req._cached_data = req.environ[BODY]
        here = _AppContext(self.app)
        call = Call(req, world, vendor, op, started)
        here.g.world = world
        here.g.call = call
        app_token = _cv_app.set(here)  # type: ignore[arg-type]
        request_token = _cv_request.set(_RequestContext(req))  # type: ignore[arg-type]
        sim = self.sim
        try:
            try:
                pipeline.check_contract(sim, call)
                response = op.view(world.backends[vendor.slug], **req.view_args)
            except SimulatorError as exc:
                response = exc.to_response()
            except HTTPException as exc:
                response = pipeline.http_error_response(self.app, sim, req, exc)
            except Exception:
                response = pipeline.unexpected_response(sim, req)
            try:
                self.finish(call, response)
            except Exception:
                # as Flask does: the 500 handler's answer goes through the steps again, and
                # what fails then is logged
                response = pipeline.unexpected_response(sim, req)
                try:
                    self.finish(call, response)
                except Exception:
                    log.exception("finishing %s %s failed again", req.method, req.path)
            headers = own_headers(response, req.environ)
            body = response.response
            if headers is not None and type(body) is list and not response._on_close:
                return response.status_code, headers, b"".join(body)
            app_iter, status, headers = response.get_wsgi_response(req.environ)
            try:
                return int(status.split(" ", 1)[0]), headers, b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        finally:
            _cv_request.reset(request_token)
            _cv_app.reset(app_token)
            # as Flask's request context does when popped: the request and its environ
            # hold each other; left so, every request would be cyclic garbage
            req.environ["werkzeug.request"] = None
