"""simulator/lean.py: the lean request cycle answers and calls hooks exactly as Flask does.

Each test builds the same app twice, on ``flask.Flask`` and on ``simulator.lean.App``, sends
both the same requests and compares what the client sees and what ran, in which order.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, Response, g, request, session
from flask.signals import appcontext_pushed, request_finished, request_started
from werkzeug.test import EnvironBuilder

from simulator.lean import App


def build(cls: type[Flask], log: list[str]) -> Flask:
    app = cls("lean_test")
    bp = Blueprint("bp", __name__)

    @app.before_request
    def app_before() -> None:
        log.append(f"before app {request.endpoint}")
        g.seen = True

    @bp.before_request
    def bp_before() -> Any:
        log.append("before bp")
        if request.args.get("stop"):
            return Response("stopped", 202)
        return None

    @app.after_request
    def app_after(response: Response) -> Response:
        log.append(f"after app {response.status_code}")
        response.headers["X-App"] = "1"
        return response

    @bp.after_request
    def bp_after(response: Response) -> Response:
        log.append("after bp")
        return response

    @app.teardown_request
    def app_teardown(exc: BaseException | None) -> None:
        log.append(f"teardown app {type(exc).__name__ if exc else None}")

    @bp.teardown_request
    def bp_teardown(exc: BaseException | None) -> None:
        log.append("teardown bp")

    @app.url_value_preprocessor
    def values(endpoint: str | None, view_args: dict[str, Any] | None) -> None:
        log.append(f"values {endpoint} {view_args}")

    @app.get("/plain")
    def plain() -> Response:
        return Response(f"host={request.host} root={request.root_path} url={request.url}", 200)

    @app.get("/empty")
    def empty() -> Response:
        return Response(status=204)

    @app.get("/moved")
    def moved() -> Response:
        return Response("", 302, headers={"Location": "/plain?x=ü"})

    @app.get("/nolength")
    def nolength() -> Response:
        response = Response(iter([b"a", b"b"]), 200)
        return response

    @app.get("/texts")
    def texts() -> Response:
        response = Response(["a", "é"], 200)  # a list of str: encoded on the way out
        response.headers["Content-Length"] = "3"
        return response

    @app.get("/closing")
    def closing() -> Response:
        response = Response(b"body", 200)
        response.call_on_close(lambda: log.append("closed"))
        return response

    @app.get("/slash/")
    def slash() -> str:
        return "slash"

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    @app.get("/session")
    def use_session() -> str:
        session["x"] = 1
        return "no"

    @bp.route("/item/<int:n>", methods=["GET", "POST"])
    def item(n: int) -> Response:
        log.append(f"view {n} {g.seen}")
        return Response(str(n * 2), 201)

    app.register_blueprint(bp, url_prefix="/bp")
    return app


def exchange(app: Flask, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        seen[:] = [status, headers]

    result = app.wsgi_app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen[0], sorted(seen[1]), body


REQUESTS = [
    {"path": "/plain"},
    {"path": "/plain", "headers": {"Host": "Example.COM:80"}},
    {"path": "/plain", "headers": {"Host": "127.0.0.1:8080"}},
    {"path": "/plain", "headers": {"Host": "bücher.example"}},
    {"path": "/plain", "headers": {"Host": "bad host\u00ff"}},
    {"path": "/plain", "method": "HEAD"},
    {"path": "/plain", "method": "POST"},
    {"path": "/empty"},
    {"path": "/moved"},
    {"path": "/nolength"},
    {"path": "/texts"},
    {"path": "/closing"},
    {"path": "/slash"},
    {"path": "/missing/ü"},
    {"path": "/boom"},
    {"path": "/session"},
    {"path": "/bp/item/4"},
    {"path": "/bp/item/4", "query_string": "stop=1"},
    {"path": "/bp/item/x"},
    {"path": "/bp/item/5", "method": "POST", "data": b"abc"},
    {"path": "/plain", "base_url": "http://localhost/mounted"},
    {"path": "/plain", "base_url": "https://secure.example:443/"},
]


@pytest.mark.parametrize("spec", REQUESTS, ids=lambda s: f"{s.get('method', 'GET')} {s['path']}")
def test_answers_and_hooks_match_flask(spec: dict[str, Any]) -> None:
    flask_log: list[str] = []
    lean_log: list[str] = []
    plain = build(Flask, flask_log)
    lean = build(App, lean_log)
    plain.testing = lean.testing = False  # errors answer 500, as served
    for _ in range(2):  # the second request reads what the first one kept (adapters, hooks)
        expected = exchange(plain, EnvironBuilder(**spec).get_environ())
        found = exchange(lean, EnvironBuilder(**spec).get_environ())
        assert found == expected
        assert lean_log == flask_log
        assert flask_log  # the hooks did run


def test_kept_adapters_follow_each_host() -> None:
    lean = build(App, [])
    plain = build(Flask, [])
    for host in ("a.example", "b.example:8080", "a.example", "B.example:8080"):
        environ = EnvironBuilder(path="/plain", headers={"Host": host}).get_environ()
        _status, _headers, body = exchange(lean, environ)
        assert body.startswith(f"host={host} root= url=http://".encode())
        assert exchange(plain, environ) == (_status, _headers, body)


def test_signals_fire_when_something_listens() -> None:
    lean = build(App, [])
    fired: list[str] = []

    def started(sender: Flask, **_kw: Any) -> None:
        fired.append("started")

    def finished(sender: Flask, response: Response, **_kw: Any) -> None:
        fired.append(f"finished {response.status_code}")

    def pushed(sender: Flask, **_kw: Any) -> None:
        fired.append("pushed")

    with (
        request_started.connected_to(started, lean),
        request_finished.connected_to(finished, lean),
        appcontext_pushed.connected_to(pushed, lean),
    ):
        exchange(lean, EnvironBuilder(path="/bp/item/3").get_environ())
    assert fired == ["pushed", "started", "finished 201"]
    exchange(lean, EnvironBuilder(path="/bp/item/3").get_environ())
    assert fired == ["pushed", "started", "finished 201"]  # disconnected: nothing more


def test_crmsim_app_is_lean() -> None:
    from simulator import create_app

    app = create_app({"seed": 1})
    assert isinstance(app, App)
    response = app.test_client().get("/__sim/health")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(response.data))


def test_kept_routes_answer_as_found_and_arguments_are_each_requests_own() -> None:
    log: list[str] = []
    lean = build(App, log)
    plain = build(Flask, [])
    for path, method in [
        ("/bp/item/4", "GET"),
        ("/bp/item/4", "POST"),
        ("/bp/item/4", "DELETE"),  # 405, worked out each time
        ("/bp/item/7", "GET"),
        ("/slash", "GET"),  # a redirect
        ("/bp/item/4", "HEAD"),
    ] * 2:
        environ = EnvironBuilder(path=path, method=method).get_environ()
        again = EnvironBuilder(path=path, method=method).get_environ()
        assert exchange(lean, environ) == exchange(plain, again)
    kept = lean._matches  # type: ignore[attr-defined]
    assert {key[:2] for key in kept} == {
        ("/bp/item/4", "GET"),
        ("/bp/item/4", "POST"),
        ("/bp/item/7", "GET"),
        ("/bp/item/4", "HEAD"),
    }
    environ = EnvironBuilder(path="/bp/item/4").get_environ()
    ctx = lean.request_context(environ)
    ctx.push()
    try:
        assert ctx.request.view_args == {"n": 4}
        ctx.request.view_args["n"] = 99  # a request's own copy
    finally:
        ctx.pop()
    assert exchange(lean, EnvironBuilder(path="/bp/item/4").get_environ())[2] == b"8"


def test_a_route_and_host_seen_before_take_the_kept_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from simulator import lean as lean_module

    pushed: list[str] = []
    push = lean_module.KeptRequestContext.push

    def spy(self: Any) -> None:
        pushed.append(self.request.path)
        push(self)

    monkeypatch.setattr(lean_module.KeptRequestContext, "push", spy)
    log: list[str] = []
    lean = build(App, log)
    plain = build(Flask, [])

    def both(**spec: Any) -> None:
        expected = exchange(plain, EnvironBuilder(**spec).get_environ())
        assert exchange(lean, EnvironBuilder(**spec).get_environ()) == expected

    # the first request keeps its host's adapter, the second the route that adapter found
    both(path="/bp/item/4")
    both(path="/bp/item/4")
    assert pushed == []
    both(path="/bp/item/4")
    both(path="/bp/item/4", query_string="stop=1")  # the query is not the route's
    assert pushed == ["/bp/item/4", "/bp/item/4"]
    both(path="/bp/item/4", headers={"Host": "other.example"})  # a host not seen yet
    both(path="/bp/item/4", method="POST")  # a method not seen yet
    both(path="/bp/item/5")  # a path not seen yet
    assert len(pushed) == 2
    both(path="/bp/item/4", headers={"Host": "other.example"})
    assert len(pushed) == 3
    # the hooks ran in Flask's order on every request, kept or not
    assert log.count("before bp") == 8 and log.count("teardown bp") == 8
    # a kept context copies as Flask's does (copy_current_request_context)
    kept = lean.kept(EnvironBuilder(path="/bp/item/4").get_environ())  # type: ignore[attr-defined]
    assert kept is not None
    ctx = lean_module.KeptRequestContext(
        lean, EnvironBuilder(path="/bp/item/4").get_environ(), kept
    )
    ctx.push()
    try:
        copy = ctx.copy()
    finally:
        ctx.pop()
    with copy:
        assert request.view_args == {"n": 4}
        assert copy.request is ctx.request
