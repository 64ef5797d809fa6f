"""simulator.client: one API, two transports. ``AsyncClient`` has exactly ``Client``'s methods
(names and signatures derived from the classes, not listed here), each a coroutine; both run
the same plans, over requests, an httpx.Client or an httpx.AsyncClient."""

import asyncio
import inspect
import json
import socket

import httpx
import pytest
import requests

from simulator.client import (
    AsyncClient,
    Call,
    Client,
    SimulatorProblem,
    SimulatorUnavailable,
    _Api,
    api,
)


def public(cls):
    return {n for n in dir(cls) if not n.startswith("_")}


def api_methods():
    return sorted(n for n, v in vars(_Api).items() if isinstance(v, api))


def test_the_two_clients_have_the_same_public_names():
    assert public(Client) == public(AsyncClient)
    assert set(api_methods()) <= public(Client)
    assert {"verify", "find_requests", "count_requests", "assert_no_unmatched"} <= public(Client)


def test_every_method_has_the_same_signature_and_the_async_ones_are_coroutines():
    sync, asynchronous = Client("http://x"), AsyncClient("http://x")
    try:
        for name in public(Client):
            s, a = getattr(sync, name), getattr(asynchronous, name)
            if not callable(s):
                assert not callable(a), name
                continue
            if name in api_methods():  # the very same signature, return type too
                assert inspect.signature(s) == inspect.signature(a), name
            else:  # namespace_client answers a client of its own kind
                assert inspect.signature(s).parameters == inspect.signature(a).parameters, name
            assert not inspect.iscoroutinefunction(s), name
            assert inspect.iscoroutinefunction(a) == (name in api_methods() or name == "close")
        assert [p for p in inspect.signature(Client).parameters] == [
            p for p in inspect.signature(AsyncClient).parameters
        ]
    finally:
        asyncio.run(asynchronous.close())


def test_the_api_is_written_once():
    # neither client defines an API method of its own: each only runs _Api's plans
    for cls in (Client, AsyncClient):
        assert not [n for n, v in vars(cls).items() if isinstance(v, api)], cls
    assert len(api_methods()) >= 25
    assert Client.verify.__doc__ == AsyncClient.verify.__doc__ == _Api.verify.__doc__


def test_a_plan_yields_its_calls_and_returns_what_it_makes_of_the_answers():
    plan = _Api.journal.plan(Client("http://x"), operation="botw.create_contact", limit=2)
    call = next(plan)
    assert call == Call("GET", "/journal", params={"operation": "botw.create_contact", "limit": 2})
    with pytest.raises(StopIteration) as done:
        plan.send({"entries": [{"id": 1}], "count": 1})
    assert done.value.value == [{"id": 1}]


def recorded(answers):
    """An httpx transport answering from ``answers`` ({(method, path): (status, body)})
    and the requests it got."""
    seen = []

    def handle(request):
        seen.append(request)
        status, body = answers[(request.method, request.url.path)]
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle), seen


def test_the_async_client_sends_what_the_sync_one_does():
    transport, seen = recorded(
        {
            ("PUT", "/__ns/t1/__sim/state/botw"): (200, {"contacts": []}),
            ("GET", "/__ns/t1/__sim/health"): (200, {"status": "ok", "vendors": {"botw": "/crm"}}),
        }
    )

    async def run():
        session = httpx.AsyncClient(transport=transport)
        sim = AsyncClient("http://sim:1/", "t1", session=session, token="tok")
        assert await sim.put_state({"api_keys": {}}, "botw") == {"contacts": []}
        assert await sim.vendor_url("botw") == "http://sim:1/__ns/t1/crm"
        assert await sim.vendor_url("botw") == "http://sim:1/__ns/t1/crm"  # asked once
        await sim.close()  # a given session is the caller's to close
        assert not session.is_closed
        await session.aclose()

    asyncio.run(run())
    assert [(r.method, r.url.path) for r in seen] == [
        ("PUT", "/__ns/t1/__sim/state/botw"),
        ("GET", "/__ns/t1/__sim/health"),
    ]
    assert json.loads(seen[0].content) == {"api_keys": {}}
    assert {r.headers["Authorization"] for r in seen} == {"Bearer tok"}


def test_a_problem_is_the_same_exception_on_both():
    answers = {("GET", "/__sim/journal/9"): (404, {"title": "No such journal entry"})}
    transport, _ = recorded(answers)

    async def run():
        async with AsyncClient("http://sim", session=httpx.AsyncClient(transport=transport)) as a:
            await a.journal_entry(9)

    with pytest.raises(SimulatorProblem) as failed:
        asyncio.run(run())
    assert failed.value.status == 404
    with pytest.raises(SimulatorProblem) as failed:
        Client("http://sim", session=httpx.Client(transport=recorded(answers)[0])).journal_entry(9)
    assert failed.value.problem == {"title": "No such journal entry"}


def test_a_non_json_error_keeps_its_reason_and_text():
    def handle(request):
        return httpx.Response(502, text="<html>bad gateway</html>")

    sim = Client("http://sim", session=httpx.Client(transport=httpx.MockTransport(handle)))
    with pytest.raises(SimulatorProblem) as failed:
        sim.health()
    assert failed.value.problem == {"title": "Bad Gateway", "detail": "<html>bad gateway</html>"}


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_simulator_is_unavailable_on_every_transport(closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(SimulatorUnavailable, match="not reachable"):
        Client(url, timeout=2).health()
    with httpx.Client() as session, pytest.raises(SimulatorUnavailable):
        Client(url, session=session, timeout=2).health()

    async def run():
        async with AsyncClient(url, timeout=2) as sim:
            await sim.health()

    with pytest.raises(SimulatorUnavailable):
        asyncio.run(run())


def test_the_async_client_against_a_served_crmsim(crmsim_server):
    async def run():
        async with AsyncClient(crmsim_server, "async-1") as sim:
            await sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
            base = await sim.vendor_url("botw")
            async with httpx.AsyncClient() as app:
                r = await app.post(
                    f"{base}/123",
                    data={"email": "ann@example.com"},
                    headers={"Authorization": "Bearer KEY"},
                )
                assert r.status_code == 201
            [entry] = await sim.verify(operation="botw.create_contact", times=1)
            assert entry["request"]["body"] == {"email": "ann@example.com"}
            assert await sim.count_requests(body={"email": {"$match": "^ann@"}}) == 1
            with pytest.raises(AssertionError, match="/body/email: not equal"):
                await sim.verify(body={"email": "bob@example.com"})
            await sim.assert_no_unmatched()
            other = sim.namespace_client("async-2")
            assert await other.journal() == []
            await sim.drop()
        return base

    base = asyncio.run(run())
    assert base.endswith("/__ns/async-1/crm")
    assert "async-1" not in Client(crmsim_server).namespaces()


def test_the_sync_client_on_an_httpx_session_against_a_served_crmsim(crmsim_server):
    with httpx.Client() as session, Client(crmsim_server, "httpx-sync", session=session) as sim:
        sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
        r = requests.get(sim.vendor_url("botw") + "/123/x", timeout=5)
        assert r.status_code == 404
        with pytest.raises(AssertionError, match="GET /crm/123/x -> 404"):
            sim.assert_no_unmatched()
        sim.drop()
        assert not session.is_closed  # given, so not closed by the client
