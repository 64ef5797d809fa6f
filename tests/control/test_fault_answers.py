"""One-off answers (any status, a body templated from the request, for the first n
matches) and the answer-shaping faults (malformed, truncate, dribble) in-process.

The served behaviour of truncate and dribble (the connection, the pauses) is in
tests/test_transport_faults.py."""

import json
import socket
import types

import pytest
from werkzeug.test import EnvironBuilder

from simulator import create_app
from simulator.transport import BRIDGED, ENVIRON_KEY, Transport, malform

H = {"Authorization": "Bearer K"}
OMOTO = {"campaigns": [{"campaign_id": "1", "api_key": "OK"}]}
PUSH = "/omoto/receivecustomerinfo.htm?key=OK"
CREATED = {"status": "success", "message": "New contact successfully updated."}  # BW's words
WHOLE = json.dumps(CREATED).encode()


@pytest.fixture
def loaded(client, sim):
    sim.put_state({"botw": {"api_keys": {"K": ["1"]}}, "omoto": OMOTO})
    return client


def add(client, prefix="", **rule):
    r = client.post(prefix + "/__sim/faults", json=rule)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def create(client, email="ann@example.com", prefix="", **kwargs):
    return client.post(prefix + "/crm/1", data={"email": email}, headers=H, **kwargs)


# -- one-off answers ---------------------------------------------------------------------------
def test_the_next_create_answers_201_with_a_body_from_the_request(loaded, sim):
    rule = add(
        loaded,
        operation="botw.create_contact",
        status=201,
        body={"status": "success", "unique_id": "ID-1", "email": "${request.body.email}"},
        times=1,
    )
    r = create(loaded)
    assert (r.status_code, r.get_json()) == (
        201,
        {"status": "success", "unique_id": "ID-1", "email": "ann@example.com"},
    )
    assert r.mimetype == "application/json"
    assert sim.state("botw")["contacts"] == []  # the rule answered: the vendor did nothing
    r = create(loaded, "bob@example.com")  # the rule has fired its one time
    assert r.get_json() == CREATED
    first, second = sim.journal()
    assert (first["fault"], second["fault"]) == (rule["id"], None)
    assert first["response"]["body"]["email"] == "ann@example.com"


def test_every_part_of_the_request_can_be_referred_to(loaded, sim):
    sim.freeze("2024-06-01T12:00:00Z")
    add(
        loaded,
        vendor="botw",
        status=200,
        body={
            "method": "${request.method}",
            "path": "${request.path}",
            "q": "${request.query.q}",
            "trace": "${request.headers.x-trace}",
            "TRACE": "${request.headers.X-Trace}",
            "vendor": "${request.vendor}",
            "operation": "${request.operation}",
            "namespace": "${request.namespace}",
            "now": "${now}",
            "form": "${request.body}",
        },
    )
    r = loaded.post(
        "/crm/1?q=first&q=second",
        data={"email": "ann@example.com", "name": "Ann"},
        headers={**H, "X-Trace": "t-1"},
    )
    assert r.get_json() == {
        "method": "POST",
        "path": "/crm/1",
        "q": "first",
        "trace": "t-1",
        "TRACE": "t-1",
        "vendor": "botw",
        "operation": "botw.create_contact",
        "namespace": "default",
        "now": "2024-06-01T12:00:00Z",
        "form": {"email": "ann@example.com", "name": "Ann"},
    }


def test_a_whole_reference_keeps_its_type_and_text_takes_json_text(loaded):
    add(
        loaded,
        vendor="omoto",
        status=202,
        body={
            "all": "${request.body}",
            "first": "${request.body.0.personalinfo}",
            "age": "${request.body.0.personalinfo.age}",
            "line": "${request.body.0.personalinfo.firstname} is ${request.body.0.personalinfo.age}",  # noqa: E501
            "obj": "got ${request.body.0.personalinfo}",
            "literal": "$${request.body} and $${now}",
            "kept": [1, True, None, {"n": 2.5}],
        },
    )
    sent = [{"personalinfo": {"firstname": "Ann", "age": 41}}]
    r = loaded.post(PUSH, json=sent)
    assert r.status_code == 202
    assert r.get_json() == {
        "all": sent,
        "first": {"firstname": "Ann", "age": 41},
        "age": 41,
        "line": "Ann is 41",
        "obj": 'got {"firstname": "Ann", "age": 41}',
        "literal": "${request.body} and ${now}",
        "kept": [1, True, None, {"n": 2.5}],
    }


def test_what_the_request_lacks_is_null(loaded):
    add(
        loaded,
        vendor="botw",
        status=200,
        body={"x": "${request.body.nope}", "t": "<${request.query.q}>", "i": "${request.body.9}"},
    )
    r = create(loaded)
    assert r.get_json() == {"x": None, "t": "<null>", "i": None}


@pytest.mark.parametrize(
    ("content_type", "data", "seen"),
    [
        ("application/json", b'{"a": [1, 2]}', {"a": [1, 2]}),
        ("application/vnd.x+json", b'{"a": 1}', {"a": 1}),
        ("application/json", b"{not json", "{not json"),
        ("text/plain", b"hello", "hello"),
        ("application/x-www-form-urlencoded", b"a=1&a=2&b=", {"a": "1", "b": ""}),
        ("application/json", b"", None),
    ],
)
def test_the_body_as_a_reference_sees_it(loaded, content_type, data, seen):
    add(loaded, path="/anywhere", status=200, body={"body": "${request.body}"})
    r = loaded.post("/anywhere", data=data, content_type=content_type)
    assert r.get_json() == {"body": seen}


def test_a_namespaced_request_refers_to_its_own_path_and_namespace(client):
    prefix = "/__ns/t1"
    client.put(prefix + "/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    add(client, prefix, vendor="botw", status=200, body="${request.namespace}:${request.path}")
    assert create(client, prefix=prefix).get_json() == "t1:/crm/1"


def test_an_unmatched_path_has_no_vendor_nor_operation(loaded):
    add(loaded, path="/nowhere", status=200, body=["${request.vendor}", "${request.operation}"])
    assert loaded.get("/nowhere").get_json() == [None, None]


def test_a_status_under_400_without_a_body_answers_none(loaded, sim):
    add(loaded, vendor="botw", status=204, times=1)
    r = create(loaded)
    assert (r.status_code, r.data) == (204, b"")
    add(loaded, vendor="botw", status=302, headers={"Location": "/elsewhere"}, times=1)
    r = create(loaded)
    assert (r.status_code, r.headers["Location"], r.data) == (302, "/elsewhere", b"")
    assert sim.state("botw")["contacts"] == []


def test_from_400_without_a_body_the_vendor_answers_its_own_error(loaded, sim):
    add(loaded, vendor="botw", status=400, times=1)
    r = create(loaded)
    assert r.status_code == 400 and r.get_json() is not None and r.data != b""
    assert sim.state("botw")["contacts"] == []


def test_a_body_without_references_is_answered_as_given(loaded):
    body = {"text": "costs $5 {not a ref}", "n": 1}
    add(loaded, vendor="botw", status=201, body=body)
    assert create(loaded).get_json() == body


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"a/b": "${reqest.body.email}"}, "/body/a~1b"),
        ({"a~b": ["ok ${now}", "${steps.0.x}"]}, "/body/a~0b/1"),
        ("${request.}", "/body"),
        ("$${literal} ${bad.ref}", "/body"),
        ("${}", "/body"),
    ],
)
def test_a_reference_that_can_never_have_a_value_is_refused(client, body, pointer):
    r = client.post("/__sim/faults", json={"status": 200, "body": body})
    assert r.status_code == 400
    [error] = r.get_json()["errors"]
    assert (error["pointer"], error["keyword"]) == (pointer, "reference")
    assert error["message"].endswith(
        " names nothing a request has; references start with request. (method, path, query, "
        "headers, body, vendor, operation, namespace) or are ${now}"
    )
    assert error["message"].startswith("${")
    assert client.get("/__sim/faults").get_json() == {"faults": []}


# -- malformed ---------------------------------------------------------------------------------
def test_malformed_cuts_the_vendors_own_answer_which_still_happened(loaded, sim):
    rule = add(loaded, vendor="botw", malformed=True, times=1)
    whole = WHOLE
    r = create(loaded)
    assert r.status_code == 201 and r.mimetype == "application/json"
    assert r.data == whole[: len(whole) // 2]
    assert r.headers["Content-Length"] == str(len(whole) // 2)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.data)
    assert len(sim.state("botw")["contacts"]) == 1  # the vendor did create the contact
    [entry] = sim.journal()
    assert (entry["fault"], entry["response"]["body"]) == (rule["id"], whole[:34].decode())


def test_malformed_with_a_status_cuts_the_vendors_error(loaded):
    add(loaded, vendor="botw", status=503, malformed=True)
    r = create(loaded)
    whole = b'{"status": "error", "message": "Service unavailable."}'
    assert (r.status_code, r.data) == (503, whole[: len(whole) // 2])


def test_malformed_empty_answers_become_an_open_brace(loaded):
    add(loaded, vendor="botw", status=200, malformed=True)
    assert create(loaded).data == b"{"


@pytest.mark.parametrize(
    ("body", "cut"), [(b"", b"{"), (b"x", b"{"), (b"ab", b"a"), (b"abcde", b"ab")]
)
def test_malform_keeps_the_first_half(body, cut):
    assert malform(body) == cut


# -- truncate and dribble, in-process -----------------------------------------------------------
def test_in_process_truncate_gives_half_the_body_under_the_whole_length(loaded, sim):
    add(loaded, vendor="botw", truncate=True)
    r = create(loaded)
    whole = WHOLE
    assert (r.status_code, r.headers["Content-Length"]) == (201, str(len(whole)))
    assert r.data == whole[: len(whole) // 2]
    assert sim.journal()[0]["response"]["body"] == json.loads(whole)  # the answer as made


def test_in_process_truncate_of_an_empty_answer_announces_one_byte(loaded):
    add(loaded, vendor="botw", status=200, truncate=True)
    r = create(loaded)
    assert (r.headers["Content-Length"], r.data) == ("1", b"")


def test_in_process_dribble_arrives_whole(loaded):
    add(loaded, vendor="botw", dribble={"chunks": 3, "total_ms": 30})
    r = create(loaded)
    assert r.get_json() == CREATED


@pytest.mark.parametrize(
    ("transport", "pieces"),
    [
        (Transport(), [b"abcdef"]),
        (Transport(truncate=True), [b"abc"]),
        (Transport(chunks=3), [b"ab", b"cd", b"ef"]),
        (Transport(truncate=True, chunks=2), [b"a", b"bc"]),
        (Transport(chunks=8), [b"", b"a", b"b", b"c", b"", b"d", b"e", b"f"]),
    ],
)
def test_pieces_split_the_sent_bytes_evenly(transport, pieces):
    got = transport.pieces(b"abcdef")
    assert b"".join(got) == (b"abc" if transport.truncate else b"abcdef")
    assert len(got) == transport.chunks
    assert got == pieces


def test_a_dribble_pauses_total_over_chunks_before_each_piece():
    assert Transport.of(False, None) is None
    assert Transport.of(True, None) == Transport(truncate=True, chunks=1, pause=0.0)
    assert Transport.of(False, {"chunks": 4, "total_ms": 1000}) == Transport(False, 4, 0.25)
    assert Transport.of(True, {"chunks": 2, "total_ms": 300}) == Transport(True, 2, 0.15)


class StandInSocket:
    def __init__(self):
        self.shut = []

    def shutdown(self, how):
        self.shut.append(how)


@pytest.mark.parametrize("key", ["gunicorn.socket", "werkzeug.socket"])
def test_a_truncated_wsgi_answer_ends_the_connection_after_its_half(monkeypatch, key):
    import simulator.transport as transport_module

    slept = []
    monkeypatch.setattr(transport_module.time, "sleep", slept.append)
    sock = StandInSocket()
    closed = []

    class Result(list):
        def close(self):
            closed.append(True)

    sent = list(Transport(True, 2, 0.1).wsgi({key: sock}, Result([b"abc", b"def"])))
    assert (sent, slept) == ([b"", b"a", b"bc"], [0.1, 0.1])
    assert (sock.shut, closed) == ([socket.SHUT_WR], [True])


def test_an_untruncated_wsgi_answer_leaves_the_connection_alone():
    sock = StandInSocket()
    assert list(Transport(chunks=2).wsgi({"gunicorn.socket": sock}, [b"ab"])) == [b"", b"a", b"b"]
    assert sock.shut == []


def test_under_the_rsgi_bridge_the_wsgi_layer_leaves_the_body_whole():
    app = create_app({"seed": 1})
    client = app.test_client()
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    client.post("/__sim/faults", json={"vendor": "botw", "dribble": {"chunks": 2, "total_ms": 0}})
    builder = EnvironBuilder(path="/crm/1", method="POST", data={"email": "a@b.co"}, headers=H)
    environ = {**builder.get_environ(), BRIDGED: True}
    result = app(environ, lambda *a: None)
    assert isinstance(environ[ENVIRON_KEY], Transport)
    assert not isinstance(result, types.GeneratorType)  # the answer, not a dribbling one
    assert b"".join(result) == WHOLE
    unbridged = app(builder.get_environ(), lambda *a: None)  # gunicorn's, werkzeug's
    assert isinstance(unbridged, types.GeneratorType)
    assert list(unbridged) == [b"", WHOLE[: len(WHOLE) // 2], WHOLE[len(WHOLE) // 2 :]]


def test_a_scenarios_fault_body_keeps_its_request_references_for_the_rule(app):
    from simulator.scenarios import Runner, loads

    scenario = loads(
        """
name: one-off answer from a scenario
given: {botw: {api_keys: {K: ["1"]}}}
faults:
  - operation: botw.create_contact
    times: 1
    status: 201
    body: {status: success, email: "${request.body.email}"}
steps:
  - {method: POST, path: /crm/1, headers: {Authorization: Bearer K}, form: {email: a@b.co},
     expect: {status: 201, body: {status: success, email: a@b.co}}}
  - {method: POST, path: /crm/1, headers: {Authorization: Bearer K}, form: {email: c@d.co},
     expect: {status: 201, body: {message: New contact successfully updated.}}}
"""
    )
    result = Runner(app=app).run(scenario)
    assert result.ok, result.report()
