"""Shared vocabulary of the intercept tests: a BOTW key and listing, and its real URL."""

import pytest

BOTW = "https://api.botw.org/crm/123"
AUTH = {"Authorization": "Bearer KEY"}
STATE = {"botw": {"api_keys": {"KEY": ["123"]}}}


@pytest.fixture
def sim():
    """A standalone intercept (its own app and namespace) with BOTW's key loaded."""
    from simulator.intercept import intercept

    with intercept() as active:
        active.client.put_state(STATE)
        yield active
