"""AntCRM fixtures: ``ant`` (the main world loaded)."""

import pytest

from ._support import load


@pytest.fixture
def ant(sim):
    load(sim)
    return sim
