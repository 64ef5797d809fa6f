"""The vendor lane (simulator/lane.py) answers as Flask's request cycle does.

Two apps with the same seed, clock and state, each behind the RSGI bridge: one with the
lane, one without. The same requests, every vendor's operations with their errors and the
forms real clients send, go to both twice (a route is kept, and so taken by the lane, once
Flask has served it). Every answer must be the same bytes with the same headers, and in
the end the journals, states and outboxes the same; the lane must have answered the
second pass's requests it may take, and none of the others. Then the same with requests
Hypothesis varies from those (method, namespace, content type and charset, credentials,
query, a body cut short, spoilt, padded, sent chunked or as a multipart form)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import threading
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from helpers import held_elsewhere, rsgi_scope, wait_until
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import pipeline
from simulator.app import create_app
from simulator.fake import credentials, fake_state
from simulator.lane import Lane
from simulator.rsgi import Bridge, quiet

pytestmark = pytest.mark.one_process_store  # a shared world's requests never take the lane

CREDS = credentials(1)
BOTW = {"authorization": f"Bearer {CREDS['botw']['api_key']}"}
FORM = {**BOTW, "content-type": "application/x-www-form-urlencoded"}
LISTING = CREDS["botw"]["listings"][0]
CAMPAIGN = CREDS["omoto"]["campaigns"][0]["api_key"]
LISTENER = f"/antcrm/webhook/listener/{CREDS['antcrm']['listener_id']}"
SENDER = CREDS["antcrm"]["sender"]
JSON = {"content-type": "application/json"}
CC = "/crmapi/rest/v2"
WEB_KEY = base64.b64encode(f"{CREDS['crmcom']['web_api_key']}:".encode()).decode()


def ant(*items: dict[str, Any], sender: str = SENDER) -> bytes:
    return json.dumps({"senderUser": sender, "data": list(items)}).encode()


# (method, path, query, headers, body); "{token}" is CRM.COM's token, got first
REQUESTS: list[tuple[str, str, str, dict[str, str], bytes]] = [
    (
        "POST",
        f"{CC}/authentication/web_api_key/token",
        "",
        {"authorization": f"Basic {WEB_KEY}", **JSON},
        b"{}",
    ),
    # BOTW
    ("POST", f"/crm/{LISTING}", "", FORM, b"first_name=Ann&email=ann%40example.com&phone=5550001"),
    (
        "POST",
        f"/crm/{LISTING}",
        "",
        {**FORM, "content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
        "first_name=Zoë&email=zoe%40example.com".encode(),
    ),
    (
        "POST",
        f"/crm/{LISTING}",
        "",
        {**FORM, "authorization": "Bearer nope"},
        b"email=x%40example.com",
    ),
    (
        "POST",
        f"/crm/{LISTING}",
        "",
        {**FORM, "authorization": BOTW["authorization"].lower()},
        b"email=y%40example.com",
    ),
    (
        "POST",
        f"/crm/{LISTING}",
        "",
        {"content-type": FORM["content-type"]},
        b"email=y%40example.com",
    ),
    ("POST", f"/crm/{LISTING}", "", FORM, b"email=not-an-email&phone=1"),
    ("POST", f"/crm/{LISTING}", "", FORM, b"email=a%40example.com&email=b%40example.com"),
    ("POST", f"/crm/{LISTING}", "", FORM, b"%FF=1"),
    ("POST", f"/crm/{LISTING}", "", {**BOTW, **JSON}, b'{"email": "j@example.com"}'),
    ("POST", f"/crm/{LISTING}", "", BOTW, b""),
    ("POST", "/crm/999999", "", FORM, b"email=c%40example.com"),
    ("PUT", f"/crm/{LISTING}", "", FORM, b"email=ann%40example.com&last_name=Lee"),
    ("PUT", f"/crm/{LISTING}", "", FORM, b"email=new%40example.com"),
    ("GET", f"/crm/{LISTING}", "email=ann%40example.com", BOTW, b""),
    ("GET", f"/crm/{LISTING}", "email=ann%40example.com&email=x", BOTW, b""),
    ("GET", f"/crm/{LISTING}", "", BOTW, b""),
    ("DELETE", f"/crm/{LISTING}", "", FORM, b"email=new%40example.com"),
    ("DELETE", f"/crm/{LISTING}", "phone=5550001", BOTW, b""),
    ("HEAD", f"/crm/{LISTING}", "email=ann%40example.com", BOTW, b""),
    ("PATCH", f"/crm/{LISTING}", "", FORM, b"email=p%40example.com"),
    ("POST", f"/__ns/team/crm/{LISTING}", "", FORM, b"email=team%40example.com"),
    ("GET", f"/__ns/team/crm/{LISTING}", "email=team%40example.com", BOTW, b""),
    ("POST", "/crm", "", FORM, b"email=q%40example.com"),
    # a namespace with no state: the vendor refuses, with the hint beside its answer
    ("POST", f"/__ns/bare/crm/{LISTING}", "", FORM, b"email=bare%40example.com"),
    # strict_contract: a violation is crmsim's 422, answered by Flask
    ("POST", f"/__ns/strict/crm/{LISTING}", "", FORM, b"email=not-an-email"),
    ("POST", f"/__ns/strict/crm/{LISTING}", "", FORM, b"email=fine%40example.com"),
    # Omoto
    (
        "POST",
        "/omoto/receivecustomerinfo.htm",
        f"key={CAMPAIGN}",
        JSON,
        json.dumps(
            [
                {
                    "personalinfo": {
                        "firstname": "Ann",
                        "email": "ann@example.com",
                        "mobileno": "9835132376",
                        "transactionid": "7",
                    },
                    "qualifyinginfo": [{"name": "unitname", "value": "book club"}],
                }
            ]
        ).encode(),
    ),
    (
        "POST",
        "/omoto/receivecustomerinfo.htm",
        f"key={CAMPAIGN}",
        {"content-type": "application/json; charset=utf-8"},
        b'[{"personalinfo": {"email": "b@example.com"}}]',
    ),
    ("POST", "/omoto/receivecustomerinfo.htm", "key=wrong", JSON, b"[]"),
    (
        "POST",
        "/omoto/receivecustomerinfo.htm",
        f"key={CAMPAIGN}",
        {"content-type": "text/plain"},
        b"[]",
    ),
    ("POST", "/omoto/receivecustomerinfo.htm", f"key={CAMPAIGN}", JSON, b"[{"),
    (
        "POST",
        "/omoto/receivecustomerinfo.htm",
        f"key={CAMPAIGN}",
        JSON,
        b'{"qualifyinginfo": [{}]}',
    ),
    (
        "POST",
        "/omoto/endpoint.htm",
        f"key={CAMPAIGN}",
        {"content-type": "application/x-www-form-urlencoded"},
        b"jsonheader=%7B%22processid%22%3A%2276%22%7D&jsonbody=%7B%22campaignid%22%3A154%2C%22npsrating%22%3A4%7D",
    ),
    (
        "POST",
        "/omoto/endpoint.htm",
        f"key={CAMPAIGN}",
        {"content-type": "application/x-www-form-urlencoded"},
        b"jsonheader=%7B",
    ),
    (
        "POST",
        "/omoto/nowhere.htm",
        f"key={CAMPAIGN}",
        {"content-type": "application/x-www-form-urlencoded"},
        b"jsonheader=1",
    ),
    # AntCRM
    (
        "POST",
        LISTENER,
        "",
        JSON,
        ant(
            {
                "actionType": "add-contact",
                "data": {
                    "name": "Ann",
                    "lastname": "Lee",
                    "emails": [{"value": "ann@example.com"}],
                    "phones": [{"value": "09001"}],
                },
            }
        ),
    ),
    (
        "POST",
        LISTENER,
        "",
        JSON,
        ant(
            {
                "actionType": "add-contact",
                "data": {"name": "Ann", "emails": [{"value": "ann@example.com"}]},
            },
            {
                "actionType": "add-note",
                "data": {"emails": [{"value": "ann@example.com"}], "note": "hello"},
            },
        ),
    ),
    (
        "POST",
        LISTENER,
        "",
        JSON,
        ant(
            {
                "actionType": "add-lead",
                "data": {"name": "Bo", "emails": [{"value": "bo@example.com"}]},
            },
            {"actionType": "nonsense"},
        ),
    ),
    (
        "POST",
        LISTENER,
        "",
        JSON,
        ant({"actionType": "add-contact", "data": {}}, sender="stranger@example.com"),
    ),
    ("POST", LISTENER, "", JSON, b'{"data": []}'),
    ("POST", LISTENER, "", JSON, b"not json"),
    ("POST", "/antcrm/webhook/listener/unknown", "", JSON, ant()),
    # CRM.COM
    ("GET", f"{CC}/contact_information/list", "token={token}&number_of_results=2", {}, b""),
    (
        "GET",
        f"{CC}/contact_information/show",
        "token={token}&contact_information_identifier=number=none",
        {},
        b"",
    ),
    (
        "GET",
        f"{CC}/contact_information/show",
        "token=bad&contact_information_identifier=number=1",
        {},
        b"",
    ),
    ("GET", f"{CC}/contact_information/show", "token={token}&token={token}", {}, b""),
    (
        "POST",
        f"{CC}/contact_information/create",
        "",
        JSON,
        b'{"token": "{token}", "type": "PERSON", "first_name": "Ann", "last_name": "Lee", '
        b'"email": "ann@example.com"}',
    ),
    (
        "POST",
        f"{CC}/contact_information/create",
        "",
        JSON,
        b'{"token": "{token}", "type": "PERSON"}',
    ),
    (
        "POST",
        f"{CC}/contact_information/update",
        "",
        JSON,
        b'{"token": "{token}", "contact_information_identifier": {"email": "ann@example.com"}, '
        b'"last_name": "Li"}',
    ),
    ("POST", f"{CC}/contact_information/update", "", JSON, b"[1]"),
    (
        "GET",
        f"{CC}/provisioning/generic_provisioning_requests/get_pending",
        "token={token}&provisioning_provider_identifier=id=PROV1&number_of_results=5",
        {},
        b"",
    ),
    (
        "GET",
        f"{CC}/provisioning/generic_provisioning_requests/get_pending",
        "token={token}&provisioning_provider_identifier=id=PROV1&number_of_results=51",
        {},
        b"",
    ),
    ("POST", f"{CC}/authentication/token/release", "", JSON, b""),
]
# requests the lane leaves to Flask however often they come
NOT_LANE = {
    ("HEAD", f"/crm/{LISTING}"),
    ("PATCH", f"/crm/{LISTING}"),
    ("POST", "/crm"),
    ("POST", f"/__ns/strict/crm/{LISTING}"),
}
DEADLINE = 10.0
NAMESPACES = ("", "/__ns/team", "/__ns/bare", "/__ns/strict")


class Proto:
    """What granian hands ``__rsgi__``: the body (in two chunks when it is sent chunked)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.answer: tuple[int, list[tuple[str, str]], bytes] | None = None

    async def __call__(self) -> bytes:
        return self.body

    def __aiter__(self) -> Any:
        async def chunks() -> Any:
            half = len(self.body) // 2
            for chunk in (self.body[:half], self.body[half:]):
                yield chunk

        return chunks()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.answer = (status, list(headers), data)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.answer = (status, list(headers), b"")


class Side:
    """An app behind the bridge, with the lane or without; which requests the lane took."""

    def __init__(self, lane: bool) -> None:
        self.app = create_app({"seed": 7, "validate_responses": True})
        sim = self.app.extensions["crmsim"]
        client = self.client = self.app.test_client()
        state = fake_state(1, 20)
        for namespace in NAMESPACES:
            clock = client.put(f"{namespace}/__sim/clock", json={"now": "2024-06-01T12:00:00Z"})
            assert clock.status_code == 200
            if namespace != "/__ns/bare":
                assert client.put(f"{namespace}/__sim/state", json=state).status_code == 200
        strict = client.put("/__ns/strict/__sim/settings", json={"strict_contract": True})
        assert strict.status_code == 200
        self.taken: list[tuple[str, str]] = []  # what the lane answered
        self.declined: list[tuple[str, str]] = []  # and what it left to Flask
        serve = Lane(self.app, sim).serve

        def counted(environ: dict[str, Any]) -> Any:
            answer = serve(environ)
            found = self.taken if answer is not None else self.declined
            found.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
            return answer

        self.bridge = Bridge(
            self.app,
            2,
            lambda _path: sim.config.max_body_bytes,
            None,
            quiet(sim.namespaces),
            lane=counted if lane else None,
        )
        self.loop = asyncio.new_event_loop()

    def send(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {"host": "127.0.0.1:8080", **headers}
        if body and "transfer-encoding" not in headers:
            headers["content-length"] = str(len(body))
        scope = rsgi_scope(method, path, headers, query)
        proto = Proto(body)
        self.loop.run_until_complete(self.bridge.__rsgi__(scope, proto))
        assert proto.answer is not None
        return proto.answer

    def world(self, namespace: str) -> dict[str, Any]:
        found = {}
        for what in ("state", "outbox", "journal?limit=1000"):
            doc = self.client.get(f"{namespace}/__sim/{what}").get_json()
            for entry in doc.get("entries", []) if isinstance(doc, dict) else []:
                entry.pop("duration_ms", None)
            found[what] = doc
        return found


@pytest.fixture
def sides() -> Any:
    both = Side(lane=True), Side(lane=False)
    yield both
    for side in both:
        side.bridge.pool.shutdown(wait=True)
        side.loop.close()


def corpus(token: str) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    return [
        (m, p, q.replace("{token}", token), h, b.replace(b"{token}", token.encode()))
        for m, p, q, h, b in REQUESTS
    ]


def test_lane_answers_journals_and_keeps_state_as_flask(
    sides: tuple[Side, Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    lane, flask = sides
    checked: list[Any] = []  # validate_responses: each answer checked, on both sides
    check_answer = pipeline.check_answer

    def spy(sim: Any, call: Any, response: Any) -> None:
        checked.append(sim)
        check_answer(sim, call, response)

    monkeypatch.setattr(pipeline, "check_answer", spy)
    answers = []
    first = REQUESTS[0]
    for side in sides:
        status, _headers, data = side.send(*first)
        assert status == 200, data
        answers.append(json.loads(data)["data"]["token"])
    assert answers[0] == answers[1]
    requests = corpus(answers[0])
    chunked = [
        (m, p, q, {**h, "transfer-encoding": "chunked"}, b) for m, p, q, h, b in requests if b
    ]
    for round_ in range(2):
        lane.taken.clear()
        for request in [*requests, *chunked]:
            got, wanted = lane.send(*request), flask.send(*request)
            assert got == wanted, (round_, request)
        if round_ == 1:
            sent = [(m, p) for m, p, *_ in [*requests, *chunked]]
            assert set(lane.taken) == {r for r in sent if r not in NOT_LANE}
            assert len(lane.taken) == len([r for r in sent if r not in NOT_LANE])
    for namespace in NAMESPACES:
        assert lane.world(namespace) == flask.world(namespace)
    sims = [side.app.extensions["crmsim"] for side in sides]
    assert sims[0].response_problems == sims[1].response_problems
    assert checked.count(sims[0]) == checked.count(sims[1]) > len(requests)
    for name in ("default", "team", "bare", "strict"):
        worlds = [side.app.extensions["crmsim"].namespaces.find(name) for side in sides]
        assert worlds[0].changes == worlds[1].changes  # what the snapshot thread saves
    assert not flask.taken


@pytest.mark.parametrize(
    "broken",
    [
        "simulator.vendors.botw.models.BotwBackend.create_contact",  # the view's work
        "simulator.pipeline.answer_call",  # the steps after the view
        "simulator.pipeline.after_answer",
    ],
)
def test_a_step_that_fails_answers_the_vendors_500_as_flask(
    sides: tuple[Side, Side], monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    def fail(*_args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(broken, fail)
    lane, flask = sides
    request = REQUESTS[1]
    for _ in range(3):  # a new host, then the route: kept from the third request on
        got, wanted = lane.send(*request), flask.send(*request)
        assert got == wanted
        assert got[0] == 500 and b"a bug" not in got[2]
    assert lane.taken == [("POST", f"/crm/{LISTING}")]
    assert lane.world("") == flask.world("")
    worlds = [side.app.extensions["crmsim"].namespaces.find("default") for side in sides]
    assert worlds[0].changes == worlds[1].changes


def test_a_namespace_held_by_another_thread_is_left_to_flask(sides: tuple[Side, Side]) -> None:
    lane, _flask = sides
    request = REQUESTS[1]
    for _ in range(3):
        assert lane.send(*request)[0] == 201
    assert lane.taken == [("POST", f"/crm/{LISTING}")]
    lane.taken.clear()
    world = lane.app.extensions["crmsim"].namespaces.find("default")
    answers: list[Any] = []
    sender = threading.Thread(target=lambda: answers.append(lane.send(*request)))
    with held_elsewhere(world.lock, DEADLINE):
        lane.declined.clear()
        sender.start()
        # the lane does not wait: it leaves the request to Flask's inline path, which
        # sends it to the pool, where it waits for the lock
        wait_until(lambda: lane.declined, DEADLINE, "the lane declining the request")
        assert lane.declined == [("POST", f"/crm/{LISTING}")]
        assert not answers
    sender.join(DEADLINE)
    assert answers[0][0] == 201
    assert lane.taken == []


@pytest.mark.parametrize("added", ["before_request", "teardown_appcontext", "signal"])
def test_hooks_or_signals_crmsim_did_not_install_leave_requests_to_flask(
    sides: tuple[Side, Side], added: str
) -> None:
    from flask import request_started

    lane, _flask = sides
    app = lane.app
    seen: list[str] = []

    def started(_sender: Any, **_kw: Any) -> None:
        seen.append(added)

    # as a plugin would (the hooks before any vendor request: Flask collects them then)
    if added == "signal":
        request_started.connect(started, app)
    elif added == "before_request":
        app.before_request_funcs.setdefault(None, []).append(lambda: started(app))
    else:
        app.teardown_appcontext_funcs.append(lambda _exc: started(app))
    try:
        for _ in range(3):
            assert lane.send(*REQUESTS[1])[0] == 201
    finally:
        request_started.disconnect(started, app)
    assert lane.taken == []
    assert len(seen) >= 3  # Flask ran it for every request


def test_a_lane_request_leaves_no_cyclic_garbage(sides: tuple[Side, Side]) -> None:
    """A request and its environ hold each other until Flask's request context breaks the
    cycle; the lane breaks it too. Cyclic garbage costs collector passes on the event loop,
    and a cycle alive at a full pass is frozen for good (simulator/serve.py, steady_gc)."""
    lane, _flask = sides
    request = REQUESTS[1]
    for _ in range(3):
        assert lane.send(*request)[0] == 201
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert lane.send(*request)[0] == 201
        garbage = gc.collect()
    finally:
        gc.enable()
    assert len(lane.taken) == 21
    assert garbage == 0


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=UTF-8",
    "application/json;charset=utf-8",
    "Application/JSON",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "text/plain",
    "multipart/form-data; boundary=x",
]


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, str, str, dict[str, str], bytes]:
    """A request of the corpus as another client might send it: another method, namespace,
    content type or credentials, a body cut short, spoilt or padded, a query with more."""
    method, path, query, headers, body = draw(st.sampled_from(REQUESTS[1:]))
    method = draw(st.sampled_from([method] * 4 + ["GET", "POST", "PUT", "DELETE", "HEAD"]))
    path = draw(st.sampled_from(NAMESPACES)) + path
    headers = dict(headers)
    if draw(st.booleans()):
        headers["content-type"] = draw(st.sampled_from(CONTENT_TYPES))
    if "authorization" in headers and draw(st.booleans()):
        scheme, _, key = headers["authorization"].partition(" ")
        headers["authorization"] = draw(
            st.sampled_from([f"{scheme.lower()} {key}", f"{scheme}  {key} ", scheme, ""])
        )
    if draw(st.booleans()):
        query = draw(st.sampled_from([f"{query}&x=1", f"{query}&{query}", "", "%ZZ=1"]))
    if body and draw(st.booleans()):
        at = draw(st.integers(0, len(body)))
        body = draw(
            st.sampled_from(
                [body[:at], body[:at] + b"\xff" + body[at + 1 :], body + b" ", body + b"&x=1"]
            )
        )
    if headers.get("content-type") == FORM["content-type"] and draw(st.booleans()):
        headers["content-type"], body = multipart(body)  # as curl -F sends a form
    if body and draw(st.booleans()):
        headers["transfer-encoding"] = "chunked"
    return method, path, query, headers, body


def multipart(form: bytes) -> tuple[str, bytes]:
    """The fields of a URL-encoded form as a multipart/form-data body, and its type."""
    parts = [
        b'--b0undary\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (unquote_to_bytes(name), unquote_to_bytes(value))
        for name, _, value in (pair.partition(b"=") for pair in form.split(b"&") if pair)
    ]
    return "multipart/form-data; boundary=b0undary", b"".join(parts) + b"--b0undary--\r\n"


@settings(max_examples=15)  # each example two apps, their states loaded: about 0.4 s
@given(st.lists(variants(), min_size=1, max_size=30))
def test_the_lane_answers_any_variant_of_a_request_as_flask(
    requests: list[tuple[str, str, str, dict[str, str], bytes]],
) -> None:
    sides = Side(lane=True), Side(lane=False)
    lane, flask = sides
    try:
        tokens = [json.loads(side.send(*REQUESTS[0])[2])["data"]["token"] for side in sides]
        assert tokens[0] == tokens[1]
        sent = [
            (m, p, q.replace("{token}", tokens[0]), h, b.replace(b"{token}", tokens[0].encode()))
            for m, p, q, h, b in requests
        ]
        # the corpus first, so that its routes are the lane's (kept once Flask served them)
        for request in [*corpus(tokens[0]), *sent, *sent]:
            assert lane.send(*request) == flask.send(*request), request
        for namespace in NAMESPACES:
            assert lane.world(namespace) == flask.world(namespace)
        for name in ("default", "team", "bare", "strict"):
            worlds = [side.app.extensions["crmsim"].namespaces.find(name) for side in sides]
            assert (worlds[0] is None) == (worlds[1] is None)
            if worlds[0] is not None:
                assert worlds[0].changes == worlds[1].changes
        assert not flask.taken
        import os

        if os.environ.get("LANE_STATS"):
            print("TAKEN", len(lane.taken), "OF", len(sent) * 2 + len(REQUESTS))
    finally:
        for side in sides:
            side.bridge.pool.shutdown(wait=True)
            side.loop.close()
