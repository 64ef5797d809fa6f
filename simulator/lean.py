"""Flask's request cycle, less the costs crmsim pays on every request for features it never
uses (docs/serving.md, "Where the time goes").

``App`` is a ``Flask`` whose per-request machinery does the same steps in the same order
(request context, app context, URL matching, ``before_request`` hooks, the view, the
``after_request`` hooks, the WSGI answer, the teardown hooks), with these costs taken out:

* **URL adapter.** Flask binds the URL map to every request's environ: it reads the
  ``Host`` header, IDNA-encodes the server name, compares domains. The result depends only on
  the ``Host`` header, the server's name and port and the scheme, the same few values on
  every request: it is kept per value (``_hosts``, at most ``HOSTS``), and the adapter made
  directly from it.
* **Session.** crmsim has no session: every request gets the one shared null session
  instead of asking the session interface to open one and save it.
* **Hook lists.** Flask finds a request's ``before_request``/``after_request``/teardown
  functions by walking the app's and the blueprints' hook tables on every request; the
  lists for an endpoint's blueprint are collected once (hooks cannot be added after the
  first request: Flask refuses).
* **Signals.** ``request_started``, ``request_finished``, ``request_tearing_down`` and the
  app context's signals are sent only when something listens.
* **Coroutine checks.** Flask asks, for every view and hook, whether it is a coroutine
  (``inspect`` on its code flags); the answer for a function never changes, so it is kept.
* **Kept routes.** A request whose ``Host`` and route (path, method, scheme) the app has
  seen before gets a request context with no URL adapter, its route taken as found, its
  hooks as collected (``KeptRequestContext``); the app context makes no adapter either
  when there is no ``SERVER_NAME``, and a view's ``Response`` is not looked at again by
  ``make_response``.
* **WSGI headers.** Werkzeug copies an answer's headers to fix ``Location`` and
  ``Content-Length``; an answer that needs neither (no ``Location``, a ``Content-Length``
  already set, a status with a body) sends its own.

``tests/test_lean.py`` checks each against plain Flask's behaviour.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from types import FunctionType
from typing import Any

from flask import Flask, Response
from flask.ctx import AppContext, RequestContext
from flask.globals import _cv_app, _cv_request
from flask.sessions import NullSession
from flask.signals import (
    appcontext_popped,
    appcontext_pushed,
    request_finished,
    request_started,
    request_tearing_down,
)
from werkzeug.routing import MapAdapter

HOSTS = 64  # distinct (Host, server name, port, scheme) adapters kept
Kept = tuple[Any, dict[str, Any], "Hooks"]  # a kept route: its rule, arguments and hooks
_sentinel: Any = object()


def _dance(value: str) -> str:
    """PEP 3333's latin-1 string as the UTF-8 text it carries (Werkzeug's decoding)."""
    return value.encode("latin1").decode(errors="replace")


class LeanAppContext(AppContext):
    """An app context that sends its signals only when something listens, and makes no URL
    adapter when the app has no ``SERVER_NAME`` (Flask's would be ``None`` then)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url_adapter = (
            None if app.config["SERVER_NAME"] is None else app.create_url_adapter(None)
        )
        self.g = app.app_ctx_globals_class()
        self._cv_tokens = []

    def push(self) -> None:
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        try:
            if len(self._cv_tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                if self.app.teardown_appcontext_funcs:
                    self.app.do_teardown_appcontext(exc)
        finally:
            ctx = _cv_app.get()
            _cv_app.reset(self._cv_tokens.pop())
        if ctx is not self:
            raise AssertionError(f"Popped wrong app context. ({ctx!r} instead of {self!r})")
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)


class Hooks:
    """The hook functions that run for one blueprint's endpoints, in Flask's order."""

    def __init__(self, app: Flask, blueprints: list[str]) -> None:
        first = (None, *reversed(blueprints))
        last = (*blueprints, None)
        self.url_values = [f for n in first for f in app.url_value_preprocessors.get(n, ())]
        self.before = [
            app.ensure_sync(f) for n in first for f in app.before_request_funcs.get(n, ())
        ]
        self.after = [
            app.ensure_sync(f) for n in last for f in reversed(app.after_request_funcs.get(n, ()))
        ]
        self.teardown = [
            app.ensure_sync(f)
            for n in last
            for f in reversed(app.teardown_request_funcs.get(n, ()))
        ]


class KeptRequestContext(RequestContext):
    """Flask's request context for a request whose host and route the app has seen before
    (``App.kept``): no URL adapter is made and the route is taken as it was found. crmsim
    builds no URL while it answers (``url_for`` would need the adapter). Pushed and popped
    as Flask's, in fewer steps: no session to open (crmsim has none), the match known."""

    def __init__(self, app: App, environ: dict[str, Any], kept: Kept) -> None:
        self.app = app
        request = app.request_class(environ)
        request.json_module = app.json
        self.request = request
        self.url_adapter = None
        self.flashes = None
        self._session = app._null_session
        self._after_request_functions = []
        self._cv_tokens = []
        self.kept = kept

    def copy(self) -> RequestContext:
        """Flask's copy (``copy_current_request_context``, ``stream_with_context``): a
        plain request context of the same request and session."""
        return RequestContext(
            self.app, environ=self.request.environ, request=self.request, session=self.session
        )

    def push(self) -> None:
        app_ctx: AppContext | None = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        rule, arguments, hooks = self.kept
        self.request.url_rule = rule
        self.request.view_args = dict(arguments)  # each request's own
        self.crmsim_hooks = hooks


MATCHES = 1024  # (path, method, scheme) -> (rule, arguments) kept per app


class Adapter(MapAdapter):
    """Werkzeug's URL adapter, with the routes it found kept per path, method and scheme.

    A match depends on nothing else here (no host or subdomain matching), and Flask forbids
    adding routes once the first request was served. Only found routes are kept: a 404, a
    405 or a redirect is worked out again each time. Each request gets its own copy of the
    arguments."""

    matches: dict[tuple[str, str, str], tuple[Any, dict[str, Any]]]

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Any = None,
        websocket: bool | None = None,
    ) -> tuple[Any, Mapping[str, Any]]:
        if path_info is not None or method is not None or websocket is not None:
            return super().match(path_info, method, return_rule, query_args, websocket)  # type: ignore[call-overload, no-any-return]
        key = (self.path_info, self.default_method or "GET", self.url_scheme)
        found = self.matches.get(key)
        if found is None:
            rule, arguments = super().match(return_rule=True, query_args=query_args)
            found = (rule, dict(arguments))
            if len(self.matches) < MATCHES:
                self.matches[key] = found
        rule, arguments = found
        return (rule if return_rule else rule.endpoint), dict(arguments)


class App(Flask):
    """Flask, less the per-request costs of features crmsim does not use (module docstring)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._hosts: dict[tuple[Any, ...], tuple[str, str, str | None]] = {}
        self._hooks: dict[str | None, Hooks] = {}
        self._null_session = NullSession()
        self._matches: dict[tuple[str, str, str], tuple[Any, dict[str, Any]]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer (is it a coroutine?), kept per plain function: the cache stays as
        small as the app's set of views and hooks."""
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found

    def app_context(self) -> AppContext:
        return LeanAppContext(self)

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        if (
            request is None
            or self.config["SERVER_NAME"] is not None
            or self.config["TRUSTED_HOSTS"] is not None
        ):
            return super().create_url_adapter(request)
        env = request.environ
        key = (
            env.get("HTTP_HOST"),
            env.get("SERVER_NAME"),
            env.get("SERVER_PORT"),
            env.get("wsgi.url_scheme"),
        )
        found = self._hosts.get(key)
        if found is None:
            adapter = super().create_url_adapter(request)  # raises for a bad host: not kept
            assert adapter is not None
            if len(self._hosts) < HOSTS:
                self._hosts[key] = (request.host, adapter.server_name, adapter.subdomain)
            return adapter
        request.host, server_name, subdomain = found
        script = env.get("SCRIPT_NAME")
        path = env.get("PATH_INFO")
        query = env.get("QUERY_STRING")
        adapter = Adapter(
            self.url_map,
            server_name,
            "/" if script is None else _dance(script),
            subdomain,
            env["wsgi.url_scheme"],
            "/" if path is None else _dance(path),
            env["REQUEST_METHOD"],
            None if query is None else _dance(query),
        )
        adapter.matches = self._matches
        return adapter

    def kept(self, environ: dict[str, Any]) -> Kept | None:
        """The route found before for this request's path, method and scheme, with its
        hooks, when its ``Host`` (with the server's name, port and scheme) was seen too: an
        adapter was made for it, so a ``Host`` Flask refuses is refused every time. ``None``:
        matched through an adapter, as Flask matches."""
        if self.config["SERVER_NAME"] is not None or self.config["TRUSTED_HOSTS"] is not None:
            return None
        host = (
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("wsgi.url_scheme"),
        )
        path = environ.get("PATH_INFO")
        if host not in self._hosts or path is None or not path.isascii():
            return None  # a path is kept in its decoded form: ASCII is its own
        found = self._matches.get((path, environ["REQUEST_METHOD"], environ["wsgi.url_scheme"]))
        if found is None:
            return None
        rule, arguments = found
        blueprint = rule.endpoint.rpartition(".")[0] or None
        hooks = self._hooks.get(blueprint)
        if hooks is None:  # found with the request's first full match (``_current``)
            return None
        return rule, arguments, hooks

    def make_response(self, rv: Any) -> Response:
        if type(rv) is self.response_class:  # what Flask's would return: the same object
            return rv
        return super().make_response(rv)

    def hooks(self, blueprint: str | None, blueprints: Callable[[], list[str]]) -> Hooks:
        found = self._hooks.get(blueprint)
        if found is None:
            found = self._hooks[blueprint] = Hooks(self, blueprints())
        return found

    def _current(self) -> tuple[RequestContext, Hooks]:
        ctx = _cv_request.get()
        hooks: Hooks | None = getattr(ctx, "crmsim_hooks", None)
        if hooks is None:  # found once per request, for its three kinds of hooks
            req = ctx.request
            hooks = self.hooks(req.blueprint, lambda: req.blueprints)
            ctx.crmsim_hooks = hooks  # type: ignore[attr-defined]
        return ctx, hooks

    def full_dispatch_request(self) -> Response:
        self._got_first_request = True
        try:
            if request_started.receivers:
                request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Response:
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if request_finished.receivers:
                request_finished.send(self, _async_wrapper=self.ensure_sync, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def preprocess_request(self) -> Any:
        ctx, hooks = self._current()
        req = ctx.request
        for url_func in hooks.url_values:
            url_func(req.endpoint, req.view_args)
        for before in hooks.before:
            rv = before()
            if rv is not None:
                return rv
        return None

    def process_response(self, response: Response) -> Response:
        ctx, hooks = self._current()
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        for func in hooks.after:
            response = func(response)
        if not isinstance(ctx._session, NullSession):
            self.session_interface.save_session(self, ctx._session, response)  # type: ignore[arg-type]
        return response

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        _ctx, hooks = self._current()
        for func in hooks.teardown:
            func(exc)
        if request_tearing_down.receivers:
            request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        kept = self.kept(environ)
        ctx = (
            RequestContext(self, environ, session=self._null_session)
            if kept is None
            else KeptRequestContext(self, environ, kept)
        )
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except:
                error = sys.exc_info()[1]
                raise
            headers = own_headers(response, environ)
            if headers is None:
                return response(environ, start_response)
            start_response(response.status, headers)
            body = response.response
            if (
                type(body) is list
                and len(body) == 1
                and type(body[0]) is bytes
                and not response._on_close
            ):
                return body  # the bytes set_data put there: nothing to encode or close
            return response.get_app_iter(environ)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and self.should_ignore_error(error):
                error = None
            ctx.pop(error)


def own_headers(response: Response, environ: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The answer's headers as they are, when Werkzeug's ``get_wsgi_headers`` would change
    none of them: no ``Location`` or ``Content-Location`` to make absolute, a
    ``Content-Length`` set, and a status that carries a body. Else ``None``."""
    status = response.status_code
    if status < 200 or status in (204, 304) or environ.get("REQUEST_METHOD") == "HEAD":
        return None
    length = False
    for key, _value in response.headers.items():
        lowered = key.lower()
        if lowered == "content-length":
            length = True
        elif lowered in ("location", "content-location"):
            return None
    return response.headers.to_wsgi_list() if length else None


__all__ = ["App"]
