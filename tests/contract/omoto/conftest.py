"""Omoto fixtures: ``omoto`` (campaigns loaded), ``schemas`` (the schema files)."""

import pytest

from simulator.schemas import default_schemas_dir, load

from ._support import CAMPAIGNS, NOW


@pytest.fixture
def omoto(sim):
    sim.put_state({"campaigns": CAMPAIGNS}, "omoto")
    sim.freeze(NOW)
    return sim


@pytest.fixture(scope="module")
def schemas():
    return load(default_schemas_dir().resolve())
