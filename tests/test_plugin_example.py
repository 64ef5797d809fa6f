"""The README's example: a consumer tests its own BOTW client with the crmsim plugin."""

import requests


def add_lead(base_url, key, listing, email):  # the consumer's own client code
    r = requests.post(
        f"{base_url}/{listing}",
        data={"email": email},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )
    r.raise_for_status()


def test_add_lead_creates_a_contact(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    add_lead(crmsim.url("botw"), "KEY", "123", "ann@example.com")
    [call] = crmsim.journal(operation="botw.create_contact")
    assert call["violations"] == []
    assert crmsim.state("botw")["contacts"][0]["email"] == "ann@example.com"
