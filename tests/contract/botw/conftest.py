"""BOTW fixtures: ``botw`` (keys and a blacklist loaded)."""

import pytest

from ._support import KEY


@pytest.fixture
def botw(sim):
    sim.put_state(
        {
            "api_keys": {KEY: ["123", "456"], "OTHER": ["789"]},
            "blacklist": {"123": {"emails": ["Spam@Example.com"], "phones": ["+1 555 000 0000"]}},
        },
        vendor="botw",
    )
    return sim
