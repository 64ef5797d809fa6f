"""The README's example: one-off answers, a slow vendor and a body cut short."""

import pytest
import requests

KEY = {"Authorization": "Bearer KEY"}


def add_lead(base_url, email):  # the consumer's own client code
    r = requests.post(f"{base_url}/123", data={"email": email}, headers=KEY, timeout=5)
    r.raise_for_status()
    return r.json()


def test_the_next_create_answers_what_the_test_says(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    crmsim.add_fault(
        operation="botw.create_contact",
        times=1,
        status=201,
        body={"status": "success", "unique_id": "PID-7", "email": "${request.body.email}"},
    )
    assert add_lead(crmsim.url("botw"), "ann@example.com")["unique_id"] == "PID-7"
    assert crmsim.state("botw")["contacts"] == []  # the rule answered, BOTW did nothing
    add_lead(crmsim.url("botw"), "bob@example.com")  # the rule is spent: BOTW answers
    assert [c["email"] for c in crmsim.state("botw")["contacts"]] == ["bob@example.com"]


def test_a_slow_vendor_that_cuts_a_body_short(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    crmsim.seed(42)  # the same delays on every run
    crmsim.update_settings(latency={"botw": {"lognormal": {"median": 30, "sigma": 0.5}}})
    crmsim.add_fault(vendor="botw", truncate=True, times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        add_lead(crmsim.url("botw"), "ann@example.com")
    [call] = crmsim.journal(operation="botw.create_contact")
    assert call["duration_ms"] >= 31.3  # seed 42's first draw: 31.3 ms
    # the client saw an error, yet BOTW stored the contact: a blind retry would duplicate it
    assert [c["email"] for c in crmsim.state("botw")["contacts"]] == ["ann@example.com"]
