"""requests, httpx and httpx's AsyncClient reach the vendors' real hosts in-process."""

import asyncio
import io

import anyio
import httpx
import pytest
import requests
from _intercept import AUTH, BOTW, STATE

from simulator.intercept import intercept


def created(sim):
    return [c["email"] for c in sim.client.state("botw")["contacts"]]


def test_requests_to_the_real_host_reach_botw(sim):
    r = requests.post(BOTW, data={"email": "ann@example.com"}, headers=AUTH, timeout=5)
    assert (r.status_code, r.json()["status"]) == (201, "success")
    assert created(sim) == ["ann@example.com"]
    [entry] = sim.client.journal(operation="botw.create_contact")
    assert entry["request"]["path"] == "/crm/123"
    assert entry["violations"] == []


def test_the_journal_keeps_the_real_host_and_query(sim):
    r = requests.get(BOTW, params={"email": "nobody@example.com"}, headers=AUTH, timeout=5)
    assert r.status_code == 404
    [entry] = sim.client.journal(operation="botw.search_contacts")
    headers = {k.lower(): v for k, v in entry["request"]["headers"].items()}
    assert headers["host"] == "api.botw.org"
    assert entry["request"]["query"] == {"email": "nobody@example.com"}


def test_httpx_sync_reaches_botw(sim):
    r = httpx.post(BOTW, data={"email": "bob@example.com"}, headers=AUTH)
    assert r.status_code == 201
    with httpx.Client() as client:  # a client made inside the block, and a query
        found = client.get(BOTW, params={"email": "bob@example.com"}, headers=AUTH)
    assert found.json()["data"]["results"][0]["contact_email"] == "bob@example.com"


def test_httpx_async_reaches_botw_under_asyncio(sim):
    async def main():
        async with httpx.AsyncClient() as client:
            return await client.post(BOTW, data={"email": "cy@example.com"}, headers=AUTH)

    assert asyncio.run(main()).status_code == 201
    assert created(sim) == ["cy@example.com"]


def test_httpx_async_reaches_botw_under_anyio(sim):
    async def main():
        async with httpx.AsyncClient() as client:
            r = await client.get(BOTW, params={"email": "x@example.com"}, headers=AUTH)
            return r.status_code, r.json()["status"]

    assert anyio.run(main) == (404, "error")


def test_a_client_made_before_the_block_is_intercepted_inside_it():
    session, client = requests.Session(), httpx.Client()
    try:
        with intercept() as sim:
            sim.client.put_state(STATE)
            assert session.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).ok
            assert client.post(BOTW, data={"email": "b@example.com"}, headers=AUTH).is_success
            assert created(sim) == ["a@example.com", "b@example.com"]
    finally:
        session.close()
        client.close()


def test_a_vendor_error_is_the_vendors_answer(sim):
    r = requests.post(BOTW, data={"email": "a@example.com"}, headers={}, timeout=5)
    assert r.status_code == 403  # BW-AUTH-1
    assert r.json() == {"status": "error", "message": "Invalid API key or unauthorized access."}
    assert r.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["requests", "requests-str", "requests-file", "httpx"])
def test_a_body_sent_in_pieces_arrives_whole(sim, method):
    pieces = [b"email=", b"dee%40example.com"]
    headers = {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}
    if method == "requests":
        r = requests.post(BOTW, data=iter(pieces), headers=headers, timeout=5)
    elif method == "requests-str":
        r = requests.post(BOTW, data=b"".join(pieces).decode(), headers=headers, timeout=5)
    elif method == "requests-file":
        r = requests.post(BOTW, data=io.BytesIO(b"".join(pieces)), headers=headers, timeout=5)
    else:
        r = httpx.post(BOTW, content=iter(pieces), headers=headers)
    assert r.status_code == 201
    assert created(sim) == ["dee@example.com"]


def test_the_async_control_plane(sim):
    async def main():
        async with sim.async_client() as control, httpx.AsyncClient() as client:
            await control.reset()
            await control.put_state(STATE)
            r = await client.post(BOTW, data={"email": "eve@example.com"}, headers=AUTH)
            return r.status_code, await control.journal(operation="botw.create_contact")

    status, journal = anyio.run(main)
    assert status == 201
    assert [e["response"]["status"] for e in journal] == [201]
