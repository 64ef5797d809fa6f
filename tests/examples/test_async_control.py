"""The README's async example: the control plane from async code, the same methods awaited."""

import asyncio

import httpx

from simulator.client import AsyncClient


async def add_lead(client, base_url, email):  # the consumer's own async client code
    r = await client.post(
        f"{base_url}/123", data={"email": email}, headers={"Authorization": "Bearer KEY"}
    )
    r.raise_for_status()


def test_async_code_drives_crmsim(crmsim):  # crmsim: a served crmsim and a fresh namespace
    async def story():
        async with (
            AsyncClient(crmsim.server, crmsim.namespace) as sim,
            httpx.AsyncClient() as client,
        ):
            await sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
            base = await sim.vendor_url("botw")
            await asyncio.gather(*(add_lead(client, base, f"{n}@example.com") for n in "abc"))
            await sim.verify(operation="botw.create_contact", times=3)
            return (await sim.state("botw"))["contacts"]

    contacts = asyncio.run(story())
    assert {c["email"] for c in contacts} == {f"{n}@example.com" for n in "abc"}
