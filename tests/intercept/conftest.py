"""The intercept tests' fixture: a standalone intercept with BOTW's key loaded."""

import pytest
from _intercept import STATE


@pytest.fixture
def sim():
    """A standalone intercept (its own app and namespace) with BOTW's key loaded."""
    from simulator.intercept import intercept

    with intercept() as active:
        active.client.put_state(STATE)
        yield active
