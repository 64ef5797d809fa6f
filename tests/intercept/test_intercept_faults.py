"""Fault rules surface as each client library's own errors, as a real connection would."""

import time

import anyio
import httpx
import pytest
import requests
from _intercept import AUTH, BOTW


def test_a_drop_raises_requests_connection_error(sim):
    sim.client.add_fault(vendor="botw", drop=True)
    with pytest.raises(requests.ConnectionError, match="crmsim dropped the connection"):
        requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH, timeout=5)
    [entry] = sim.client.journal()
    assert entry["response"]["status"] is None  # journaled as dropped
    assert entry["fault"] is not None


def test_a_drop_raises_httpx_connect_error(sim):
    sim.client.add_fault(vendor="botw", drop=True, times=1)
    with pytest.raises(httpx.ConnectError):
        httpx.get(BOTW, params={"email": "a@example.com"}, headers=AUTH)
    # only the first: the next call is answered
    assert httpx.get(BOTW, params={"email": "a@example.com"}, headers=AUTH).status_code == 404


def test_a_drop_raises_httpx_connect_error_in_async(sim):
    sim.client.add_fault(vendor="botw", drop=True)

    async def main():
        async with httpx.AsyncClient() as client:
            await client.get(BOTW, headers=AUTH)

    with pytest.raises(httpx.ConnectError):
        anyio.run(main)


def test_a_status_rule_answers_in_the_vendors_shape(sim):
    sim.client.add_fault(vendor="botw", status=503)
    r = requests.get(BOTW, params={"email": "a@example.com"}, headers=AUTH, timeout=5)
    assert r.status_code == 503
    assert r.json()["status"] == "error"


def test_a_truncated_body_is_each_clients_broken_read(sim):
    sim.client.add_fault(vendor="botw", truncate=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(BOTW, params={"email": "a@example.com"}, headers=AUTH, timeout=5)
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        httpx.get(BOTW, params={"email": "a@example.com"}, headers=AUTH)


def test_an_async_delay_leaves_the_event_loop_free(sim):
    sim.client.add_fault(vendor="botw", delay_ms=400)
    ticks = []

    async def main():
        async def tick():
            while True:
                ticks.append(time.perf_counter())
                await anyio.sleep(0.02)

        async with anyio.create_task_group() as tasks, httpx.AsyncClient() as client:
            tasks.start_soon(tick)
            started = time.perf_counter()
            r = await client.get(BOTW, params={"email": "a@example.com"}, headers=AUTH)
            tasks.cancel_scope.cancel()
            return r.status_code, time.perf_counter() - started

    status, took = anyio.run(main)
    assert status == 404
    assert took >= 0.4  # the delay happened
    # the loop kept running while the app slept in its worker thread
    assert len([t for t in ticks if t < ticks[0] + 0.35]) >= 3
