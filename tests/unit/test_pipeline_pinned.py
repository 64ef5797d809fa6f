"""simulator/pipeline.py, pinned: what each stage leaves in the journal, the headers and the
answer (found by `make mutation MODULES=pipeline`: behaviour no other test held down)."""

import errno
import io
import socket
import struct
import threading
import time
from types import SimpleNamespace

import pytest
from flask import Response
from werkzeug.test import EnvironBuilder

from simulator import create_app, pipeline
from simulator.http import BadBody
from simulator.pipeline import Call, NamespaceMiddleware, closest_routes, drop_connection

H = {"Authorization": "Bearer K"}


def fresh(**config):
    app = create_app({"seed": 7, **config})
    client = app.test_client()
    r = client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    assert r.status_code == 200
    return app, client


def journal(client, prefix=""):
    return client.get(prefix + "/__sim/journal").get_json()["entries"]


def add_fault(client, prefix="", **rule):
    r = client.post(prefix + "/__sim/faults", json=rule)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def sim_of(app):
    return app.extensions["crmsim"]


# -- the journal entry ---------------------------------------------------------------------
def test_a_journal_entry_carries_every_field():
    app, client = fresh()
    r = client.post("/crm/1?x=1", data={"email": "nope"}, headers=H)
    assert r.status_code == 400
    assert r.headers["X-Sim-Violations"] == "1"
    [entry] = journal(client)
    assert entry["vendor"] == "botw"
    assert entry["operation"] == "botw.create_contact"
    assert entry["fault"] is None
    assert entry["outcomes"] is None
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["at"].endswith("Z")
    [violation] = entry["violations"]
    assert violation["pointer"] == "/email"
    assert violation["keyword"] and violation["message"]
    req = entry["request"]
    assert (req["method"], req["path"], req["query"]) == ("POST", "/crm/1", {"x": "1"})
    assert req["headers"]["Authorization"] == "Bearer K"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert req["headers"]["Content-Length"] == str(len("email=nope"))
    assert req["body"] == {"email": "nope"}
    resp = entry["response"]
    assert resp["status"] == 400
    assert resp["headers"]["Content-Type"] == "application/json"
    assert resp["headers"]["X-Sim-Violations"] == "1"
    assert resp["body"] == r.get_json()


def test_duration_measures_the_whole_request_including_a_delay():
    app, client = fresh()
    add_fault(client, vendor="botw", delay_ms=60)
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201
    [entry] = journal(client)
    assert 60 <= entry["duration_ms"] < 10_000
    assert entry["fault"] == "1"


def test_a_valid_request_has_zero_violations_and_a_read_without_schema_no_header():
    app, client = fresh()
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert (r.status_code, r.headers["X-Sim-Violations"]) == (201, "0")
    assert journal(client)[0]["violations"] == []
    # an unmatched path: no call checked, no header, journaled with no operation
    r = client.get("/crm/1/2/3")
    assert "X-Sim-Violations" not in r.headers
    entry = journal(client)[-1]
    assert (entry["vendor"], entry["operation"], entry["violations"]) == ("botw", None, [])
    assert entry["response"]["status"] == 404


def test_control_requests_are_not_journaled():
    app, client = fresh()
    client.get("/__sim/health")
    assert journal(client) == []


def test_an_unreadable_body_is_one_violation_with_the_reader_reason():
    app, client = fresh()
    r = client.post("/omoto/receivecustomerinfo.htm", data="{bad", content_type="application/json")
    assert r.headers["X-Sim-Violations"] == "1"
    [entry] = journal(client)
    assert entry["operation"] == "omoto.receive_customer_info"
    [violation] = entry["violations"]
    assert violation["pointer"] == ""
    assert violation["keyword"] == "json"
    assert violation["message"].startswith("the request cannot be read: invalid JSON")


def test_a_body_over_the_limit_is_a_violation_and_journaled_without_a_body():
    app, client = fresh(max_body_bytes=50)
    r = client.post("/crm/1", data={"email": "a@b.co", "x": "y" * 100}, headers=H)
    assert r.status_code == 413
    assert r.get_json() == {"status": "error", "message": "Request body too large."}
    assert r.headers["X-Sim-Violations"] == "1"
    [entry] = journal(client)
    assert entry["violations"] == [
        {
            "pointer": "",
            "message": "the request cannot be read: the body is over the size limit",
            "keyword": "maxLength",
        }
    ]
    assert entry["request"]["body"] is None
    assert entry["response"]["status"] == 413


def test_strict_contract_answers_a_422_problem_and_the_vendor_does_nothing():
    app, client = fresh()
    assert client.put("/__sim/settings", json={"strict_contract": True}).status_code == 200
    r = client.post("/crm/1", data={"email": "nope"}, headers=H)
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["title"] == "Contract violation"
    assert problem["operation"] == "botw.create_contact"
    assert problem["detail"] == (
        "The request violates botw/create_contact.request.json in 1 place(s); "
        "strict_contract is on, so the vendor did not process it."
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/email"]
    assert r.headers["X-Sim-Violations"] == "1"
    assert client.get("/__sim/state/botw").get_json()["contacts"] == []
    [entry] = journal(client)
    assert (entry["response"]["status"], len(entry["violations"])) == (422, 1)
    # a valid request passes through strict_contract
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201


# -- namespaces ----------------------------------------------------------------------------
def names(client):
    return client.get("/__sim/namespaces").get_json()["namespaces"]


def test_control_reads_and_unmatched_routes_do_not_create_a_namespace_vendor_routes_do():
    app, client = fresh()
    assert client.get("/__ns/a/__sim/state/botw").status_code == 200
    assert names(client) == ["default"]
    assert client.post("/__ns/a/nowhere").status_code == 404
    assert names(client) == ["default"]
    # dropping a namespace that does not exist does not create it first
    r = client.delete("/__ns/a/__sim")
    assert r.get_json()["dropped"] == "a"
    assert names(client) == ["default"]
    # a matched vendor route creates it (even a read: its journal entry is a write)
    assert client.get("/__ns/a/crm/1?email=a@b.co", headers=H).status_code == 403
    assert sorted(names(client)) == ["a", "default"]
    assert len(journal(client, "/__ns/a")) == 1
    # a control write creates one too
    assert client.put("/__ns/b/__sim/seed", json={"seed": 1}).status_code == 200
    assert sorted(names(client)) == ["a", "b", "default"]


def test_max_namespaces_answers_429_in_the_vendor_shape_or_as_a_problem():
    app, client = fresh(max_namespaces=1)
    r = client.post("/__ns/a/crm/1", data={"email": "a@b.co"}, headers=H)
    assert r.status_code == 429
    assert r.get_json() == {"status": "error", "message": "Too many requests."}
    r = client.put("/__ns/b/__sim/seed", json={"seed": 1})
    assert r.status_code == 429
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 429
    assert names(client) == ["default"]
    # dropping a missing namespace at the limit is no creation: no 429
    r = client.delete("/__ns/c/__sim")
    assert (r.status_code, r.get_json()["dropped"]) == (200, "c")


def test_an_invalid_namespace_name_is_not_a_namespace():
    app, client = fresh()
    r = client.get("/__ns/bad!/__sim/health")
    assert r.status_code == 404
    assert r.get_json()["detail"] == "No route matches /__ns/bad!/__sim/health."
    r = client.get("/__ns/ok/__sim/health")
    assert r.status_code == 200


def test_the_namespace_prefix_is_the_script_root_and_the_rest_the_path():
    seen = {}

    def inner(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    middleware = NamespaceMiddleware(inner)
    middleware({"PATH_INFO": "/__ns/n1/crm/1", "SCRIPT_NAME": "/base"}, lambda *a: None)
    assert (seen["crmsim.namespace"], seen["SCRIPT_NAME"], seen["PATH_INFO"]) == (
        "n1",
        "/base/__ns/n1",
        "/crm/1",
    )
    seen.clear()
    middleware({"PATH_INFO": "/__ns/n2"}, lambda *a: None)
    assert (seen["crmsim.namespace"], seen["SCRIPT_NAME"], seen["PATH_INFO"]) == (
        "n2",
        "/__ns/n2",
        "/",
    )
    seen.clear()
    middleware({"PATH_INFO": "/crm/1"}, lambda *a: None)
    assert "crmsim.namespace" not in seen and seen["PATH_INFO"] == "/crm/1"
    seen.clear()
    middleware({}, lambda *a: None)
    assert "crmsim.namespace" not in seen and "PATH_INFO" not in seen


def test_writes_count_changes_for_the_snapshot_and_reads_do_not():
    app, client = fresh()
    world = sim_of(app).namespaces.find("default")
    before = world.changes
    client.get("/crm/1?email=a@b.co", headers=H)
    client.get("/__sim/state")
    assert world.changes == before
    client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert world.changes == before + 1
    client.put("/__sim/seed", json={"seed": 2})
    assert world.changes == before + 2


# -- faults --------------------------------------------------------------------------------
def test_a_status_fault_without_body_answers_in_the_vendor_shape_with_headers():
    app, client = fresh()
    rule = add_fault(client, vendor="botw", status=503, headers={"X-Why": "down"})
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert r.status_code == 503
    assert r.get_json()["status"] == "error"
    assert r.headers["X-Why"] == "down"
    assert "X-Sim-Violations" not in r.headers  # answered before the contract check
    [entry] = journal(client)
    assert (entry["fault"], entry["operation"], entry["vendor"]) == (
        rule["id"],
        "botw.create_contact",
        "botw",
    )
    assert entry["response"]["status"] == 503
    assert entry["violations"] == []
    assert client.get("/__sim/state/botw").get_json()["contacts"] == []


def test_a_status_fault_with_a_body_answers_that_body():
    app, client = fresh()
    add_fault(client, path="/crm/*", status=502, body={"oops": [1]})
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert (r.status_code, r.get_json(), r.mimetype) == (502, {"oops": [1]}, "application/json")


def test_a_fault_outside_every_vendor_answers_a_problem_naming_the_rule():
    app, client = fresh()
    rule = add_fault(client, path="/nowhere", status=418, headers={"X-A": "b"})
    r = client.get("/nowhere")
    assert r.status_code == 418
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == "Fault"
    assert r.get_json()["detail"] == f"Fault rule {rule['id']} answered 418."
    assert r.headers["X-A"] == "b"
    [entry] = journal(client)
    assert (entry["vendor"], entry["operation"], entry["fault"]) == (None, None, rule["id"])


def test_a_rule_that_does_not_match_leaves_the_request_alone():
    app, client = fresh()
    add_fault(client, vendor="omoto", status=500)
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert r.status_code == 201
    assert journal(client)[0]["fault"] is None


def test_a_rule_selects_by_operation_name_and_method():
    app, client = fresh()
    add_fault(client, operation="botw.search_contacts", method="GET", status=500)
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201
    assert client.get("/crm/1?email=a@b.co", headers=H).status_code == 500


def test_rate_limit_answers_429_with_retry_after_in_the_vendor_shape():
    app, client = fresh()
    add_fault(client, vendor="botw", rate_limit={"retry_after": 9})
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "9")
    assert r.get_json() == {"status": "error", "message": "Too many requests."}


def test_a_drop_fault_breaks_the_pipe_and_journals_no_answer():
    app, client = fresh()
    add_fault(client, vendor="botw", drop=True)
    with pytest.raises(BrokenPipeError):
        client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    [entry] = journal(client)
    assert entry["response"]["status"] is None
    assert entry["response"]["headers"] == {}
    assert entry["response"]["body"] is None
    assert entry["fault"] == "1"
    # a drop answers (503) before the vendor: nothing was stored
    assert client.get("/__sim/state/botw").get_json()["contacts"] == []


def test_a_drop_with_a_delay_waits_first():
    app, client = fresh()
    add_fault(client, vendor="botw", drop=True, delay_ms=50)
    started = time.perf_counter()
    with pytest.raises(BrokenPipeError):
        client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert time.perf_counter() - started >= 0.05


# -- drop_connection (served only; here with stand-ins for the socket) ----------------------
class FakeSocket:
    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def setsockopt(self, *args):
        self.calls.append(("setsockopt", *args))
        if self.fail:
            raise OSError("gone")

    def close(self):
        self.calls.append(("close",))


class Result(list):
    closed = False

    def close(self):
        self.closed = True


@pytest.mark.parametrize("key", ["gunicorn.socket", "werkzeug.socket"])
def test_drop_connection_resets_the_socket_with_zero_linger(key):
    sock, result = FakeSocket(), Result([b"x"])
    with pytest.raises(BrokenPipeError) as raised:
        drop_connection({key: sock, "REMOTE_PORT": "1"}, result)
    assert raised.value.errno == errno.EPIPE
    assert raised.value.strerror == "connection dropped by a crmsim fault rule"
    assert result.closed
    assert sock.calls == [
        ("setsockopt", socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)),
        ("close",),
    ]


def test_drop_connection_prefers_gunicorns_socket_and_survives_a_closed_one():
    first, second = FakeSocket(fail=True), FakeSocket()
    with pytest.raises(BrokenPipeError):
        drop_connection({"gunicorn.socket": first, "werkzeug.socket": second}, [b"x"])
    assert first.calls[0][0] == "setsockopt" and second.calls == []


def test_drop_connection_without_a_socket_resets_through_granian(monkeypatch):
    import simulator.rsgi

    reset = []
    monkeypatch.setattr(simulator.rsgi, "reset_client", reset.append)
    environ = {"REMOTE_PORT": "5"}
    with pytest.raises(BrokenPipeError):
        drop_connection(environ, iter([b"x"]))
    assert reset == [environ]
    reset.clear()
    with pytest.raises(BrokenPipeError):
        drop_connection({}, Result())
    assert reset == []


# -- answers checked with validate_responses -----------------------------------------------
def replace_view(app, endpoint, view):
    app.view_functions[endpoint] = view


@pytest.mark.parametrize(
    "answer, problem",
    [
        (lambda: Response("not json", 201), "body is not JSON"),
        (lambda: Response("{}", 299, mimetype="application/json"), "status not declared"),
    ],
)
def test_answers_outside_their_schemas_are_response_problems(answer, problem):
    app, client = fresh(validate_responses=True)
    replace_view(app, "botw.create_contact", lambda **kw: answer())
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    [found] = sim_of(app).response_problems
    assert found == {
        "operation": "botw.create_contact",
        "status": r.status_code,
        "path": "/crm/1",
        "problem": problem,
    }


def test_a_body_its_schema_refuses_is_a_response_problem_with_the_body():
    app, client = fresh(validate_responses=True)
    body = {"status": 5}
    replace_view(app, "botw.create_contact", lambda **kw: (body, 201))
    client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    [found] = sim_of(app).response_problems
    assert (found["operation"], found["status"], found["path"]) == (
        "botw.create_contact",
        201,
        "/crm/1",
    )
    assert found["body"] == body
    assert isinstance(found["problem"], list) and all(found["problem"])


def test_valid_answers_faults_and_422s_are_not_response_problems():
    app, client = fresh(validate_responses=True)
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201
    assert client.post("/crm/1", data={"email": "nope"}, headers=H).status_code == 400
    client.get("/crm/1/2/3")  # no operation: nothing to check
    client.put("/__sim/settings", json={"strict_contract": True})
    assert client.post("/crm/1", data={"email": "nope"}, headers=H).status_code == 422
    client.put("/__sim/settings", json={"strict_contract": False})
    add_fault(client, vendor="botw", status=418, body={"x": 1})
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 418
    assert sim_of(app).response_problems == []


def test_without_validate_responses_nothing_is_checked():
    app, client = fresh()
    replace_view(app, "botw.create_contact", lambda **kw: Response("not json", 201))
    client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert sim_of(app).response_problems == []


# -- errors --------------------------------------------------------------------------------
def test_a_vendor_404_is_in_the_vendor_shape_with_the_closest_routes_header():
    app, client = fresh()
    r = client.get("/crm/x/y")
    assert r.status_code == 404
    assert r.get_json() == {"status": "error", "message": "Not found."}
    assert r.headers["X-Sim-Closest-Routes"] == ", ".join(closest_routes(app, "/crm/x/y"))
    assert r.headers["X-Sim-Closest-Routes"].startswith("/crm/<listing_id>")


def test_a_control_404_is_a_problem_with_the_closest_routes():
    app, client = fresh()
    r = client.get("/__sim/nothere")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["title"] == "Not Found"
    assert problem["detail"] == "No route matches /__sim/nothere."
    assert problem["closest_routes"] == closest_routes(app, "/__sim/nothere")
    assert "/__sim/state" in problem["closest_routes"]
    assert len(problem["closest_routes"]) <= 3
    assert "X-Sim-Closest-Routes" not in r.headers


def test_closest_routes_leave_out_static_and_far_paths():
    app, _ = fresh()
    assert closest_routes(app, "/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") == []
    assert all("static" not in r for r in closest_routes(app, "/static/<path:filename>"))


def test_405_carries_allow_in_the_vendor_shape_and_as_a_problem():
    app, client = fresh()
    r = client.patch("/crm/1", headers=H)
    assert r.status_code == 405
    assert r.get_json() == {"status": "error", "message": "Method not allowed."}
    assert r.headers["Allow"] == "DELETE, GET, HEAD, POST, PUT"
    assert "X-Sim-Closest-Routes" not in r.headers
    r = client.delete("/__sim/seed")
    assert r.status_code == 405
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == "Method Not Allowed"
    assert r.get_json()["detail"] == "The method is not allowed for the requested URL."
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"


VENDOR_405 = [
    (
        "/crm/1",
        {"status": "error", "message": "Method not allowed."},
        "DELETE, GET, HEAD, POST, PUT",
    ),
    ("/omoto/receivecustomerinfo.htm?key=k", {"response": "methodnotallowed"}, "POST"),
    ("/antcrm/webhook/listener/l", {"success": False, "message": "Method not allowed"}, "POST"),
    ("/crmapi/rest/v2/contact_information/show", None, "GET, HEAD"),
]


@pytest.mark.parametrize(("path", "body", "allow"), VENDOR_405)
def test_options_is_the_vendors_405_journaled_as_no_operation(path, body, allow):
    """No vendor serves OPTIONS: its 405 like any other method's, not Flask's automatic
    200, which journaled it as the route's operation and checked it against its schema."""
    app, client = fresh()
    r = client.options(path, headers=H)
    assert r.status_code == 405
    assert r.mimetype == "application/json"
    if body is not None:
        assert r.get_json() == body
    else:
        assert r.get_json()["status"]["code"].endswith("METHODNOTFOUNDEXCEPTION")
    assert r.headers["Allow"] == allow
    assert "X-Sim-Violations" not in r.headers
    [entry] = journal(client)
    assert (entry["operation"], entry["request"]["method"], entry["response"]["status"]) == (
        None,
        "OPTIONS",
        405,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/crm//1",
        "/omoto//receivecustomerinfo.htm?key=k",
        "/antcrm/webhook//listener/l",
        "/crmapi/rest/v2//contact_information/show",
        "/__sim//journal",
    ],
)
def test_doubled_slashes_are_no_route_not_a_redirect(path):
    """A path with ``//`` is answered as an unknown path (the vendor's 404, or a problem),
    not with Werkzeug's HTML 308 to the merged path."""
    app, client = fresh()
    r = client.get(path, headers=H)
    assert r.status_code == 404
    assert "Location" not in r.headers
    assert r.mimetype in ("application/json", "application/problem+json")


def test_a_bug_answers_500_in_the_vendor_shape_or_a_problem_without_internals(caplog):
    app, client = fresh()

    def broken(**kw):
        raise RuntimeError("secret internals")

    replace_view(app, "botw.create_contact", broken)
    replace_view(app, "sim.health", broken)
    r = client.post("/crm/1", data={"email": "a@b.co"}, headers=H)
    assert r.status_code == 500
    assert r.get_json() == {"status": "error", "message": "Internal server error."}
    r = client.get("/__sim/health")
    assert r.status_code == 500
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == "Internal Server Error"
    assert r.get_json()["detail"] == "crmsim failed to answer; its log says why."
    assert "secret" not in r.get_data(as_text=True)
    assert "unhandled error on GET /__sim/health" in caplog.text
    # the namespace lock was released on the way out: the next request is served
    assert client.get("/crm/1?email=a@b.co", headers=H).status_code == 404


def held_elsewhere_free(lock):
    """Whether another thread can take the lock now."""
    got = []

    def take():
        if lock.acquire(blocking=False):
            got.append(True)
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    return got == [True]


# -- Call ----------------------------------------------------------------------------------
@pytest.mark.one_process_store  # probes the lock with a non-blocking acquire
def test_call_without_an_operation_has_no_name_and_no_document():
    app, _ = fresh()
    with app.test_request_context("/crm/1") as ctx:
        world = sim_of(app).namespaces.find("default")
        call = Call(ctx.request, world, None, None, 0.0)
        assert call.name is None
        with pytest.raises(LookupError) as raised:
            call.document()
        assert str(raised.value) == "this request has no declared operation"
        pipeline.unlock(None)
        pipeline.unlock(call)  # not locked: nothing to release
        pipeline.lock(call)
        assert call.locked and not held_elsewhere_free(world.lock)
        pipeline.unlock(call)
        assert not call.locked and held_elsewhere_free(world.lock)


def test_call_reads_the_document_once_and_keeps_its_error():
    reads = []

    def read():
        reads.append(1)
        return {"n": len(reads)}

    op = SimpleNamespace(name="op", reads=SimpleNamespace(read=read))
    call = Call(None, None, None, op, 0.0)  # type: ignore[arg-type]
    assert call.document() == {"n": 1}
    assert call.document() == {"n": 1}
    assert reads == [1]

    def fail():
        reads.append(2)
        raise BadBody("broken", "json")

    op = SimpleNamespace(name="op", reads=SimpleNamespace(read=fail))
    call = Call(None, None, None, op, 0.0)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(BadBody):
            call.document()
    assert reads == [1, 2]


def test_a_fault_answer_is_a_simulator_error_named_fault():
    response = Response("x", 503)
    answer = pipeline.FaultAnswer(response)
    assert str(answer) == "fault"
    assert answer.to_response() is response


class FakeTime:
    """pipeline.time, stood in: perf_counter gives the values listed, sleep records."""

    def __init__(self, *ticks):
        self.ticks = list(ticks)
        self.slept = []

    def perf_counter(self):
        return self.ticks.pop(0)

    def sleep(self, seconds):
        self.slept.append(seconds)


def test_duration_is_milliseconds_to_three_places_and_a_delay_sleeps_its_seconds(monkeypatch):
    app, client = fresh()
    add_fault(client, vendor="botw", delay_ms=60)
    fake = FakeTime(100.0, 100.2504567)
    monkeypatch.setattr(pipeline, "time", fake)
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201
    monkeypatch.undo()
    assert fake.slept == [0.06]
    assert journal(client)[0]["duration_ms"] == 250.457


def test_bodies_in_the_journal_are_kept_to_journal_body_bytes():
    app, client = fresh(journal_body_bytes=8)
    client.post("/crm/1?q=1", data={"email": "a@b.co"}, headers=H)
    [entry] = journal(client)
    assert entry["request"]["body"] == "email=a@…"
    assert entry["response"]["body"] == '{"status…'
    assert entry["request"]["query"] == {"q": "1"}


def test_a_request_without_a_query_string_is_journaled_with_an_empty_query():
    app, client = fresh()
    environ = EnvironBuilder(path="/crm/1", method="GET", headers=H).get_environ()
    environ.pop("QUERY_STRING", None)
    status = []
    body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    assert status == ["400 BAD REQUEST"], body
    [entry] = journal(client)
    assert entry["request"]["query"] == {}


def test_a_route_that_disowns_its_request_is_journaled_without_operation():
    app, client = fresh()
    r = client.post("/omoto/unknownthing.htm", data={"a": "b"})
    assert r.status_code == 404
    [entry] = journal(client)
    assert (entry["vendor"], entry["operation"]) == ("omoto", None)


def test_the_middleware_closes_the_answer_of_a_dropped_request():
    result = Result([b"x"])

    def inner(environ, start_response):
        environ["crmsim.drop"] = True
        return result

    with pytest.raises(BrokenPipeError):
        NamespaceMiddleware(inner)({"PATH_INFO": "/crm/1"}, lambda *a: None)
    assert result.closed


# -- the body the RSGI bridge read -----------------------------------------------------------
def _bridged_request(app, body, length):
    environ = EnvironBuilder("/crm/1", method="GET").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    environ[pipeline.BODY] = body
    # what Werkzeug would read instead: the stream, to its end
    environ["wsgi.input"] = io.BytesIO(b"from the stream")
    environ["wsgi.input_terminated"] = True
    return app.request_class(environ)


@pytest.mark.parametrize(
    ("body", "length", "taken"),
    [
        (b"", None, True),  # no body, no Content-Length: what the bridge read is all of it
        (b"abc", "3", True),
        (b"abc", None, False),  # a body without its length: read through Werkzeug
        (b"abc", "4", False),
    ],
)
def test_read_body_takes_the_bridged_body_when_whole(body, length, taken):
    app = create_app({"seed": 7})
    req = _bridged_request(app, body, length)
    pipeline.read_body(req, 1024)
    assert (req.get_data() == body) is taken
