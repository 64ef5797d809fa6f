"""CRM.COM fixtures: ``crm`` (the clock frozen and STATE loaded), ``token`` (a login token),
``schemas`` and ``prov`` (pending provisioning requests loaded)."""

import copy

import pytest

from ._support import BASE, LOGIN, NOW, PENDING_STATE_REQUESTS, STATE, post


@pytest.fixture
def crm(sim):
    sim.freeze(NOW)
    sim.put_state(copy.deepcopy(STATE), vendor="crmcom")
    return sim


@pytest.fixture
def token(client, crm):
    r = client.post(BASE + "/authentication/token", json=LOGIN)
    return r.get_json()["data"]["token"]


@pytest.fixture
def schemas(app):
    return app.extensions["crmsim"].schemas


@pytest.fixture
def prov(client, sim):
    sim.freeze(NOW)
    sim.put_state({**STATE, "provisioning_requests": PENDING_STATE_REQUESTS}, vendor="crmcom")
    return post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
