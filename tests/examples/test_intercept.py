"""The README's intercept example: the consumer's code keeps BOTW's real URL."""

import anyio
import httpx
import pytest
import requests

from simulator.intercept import intercept

BOTW = "https://api.botw.org/crm"  # the consumer's config: the real vendor, unchanged


def add_lead(listing, key, email):  # the consumer's own client code
    r = requests.post(
        f"{BOTW}/{listing}",
        data={"email": email},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )
    r.raise_for_status()


def test_add_lead_creates_a_contact(crmsim_intercept):
    crmsim_intercept.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    add_lead("123", "KEY", "ann@example.com")
    assert crmsim_intercept.state("botw")["contacts"][0]["email"] == "ann@example.com"


def test_a_dropped_connection_is_the_clients_own_error(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    crmsim.add_fault(vendor="botw", drop=True)
    with crmsim.intercept(), pytest.raises(requests.ConnectionError):
        add_lead("123", "KEY", "ann@example.com")


@intercept()  # no pytest needed: a fresh crmsim for each call, like moto's @mock_aws
def test_httpx_async_too():
    async def search():
        async with httpx.AsyncClient() as client:
            return await client.get(f"{BOTW}/123", params={"email": "x@example.com"})

    r = httpx.get(f"{BOTW}/123")  # no key: BOTW's own 403
    assert r.json()["message"] == "Invalid API key or unauthorized access."
    assert anyio.run(search).status_code == 403
