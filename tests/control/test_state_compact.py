"""A large state load is compacted once its document is gone (``tiny.Table.compact``,
docs/serving.md "Memory per record"): the state, every lookup and every later write are as
they were without it."""

import pytest

from simulator import create_app
from simulator.fake import credentials, fake_state
from simulator.store import tiny
from simulator.world import World

SEED = 5
# a shared world's tables live in Redis: nothing there is compacted (World.compact)
pytestmark = pytest.mark.one_process_store


@pytest.fixture
def compacted(monkeypatch):
    """The documents each ``World.compact`` moved, with a low threshold."""
    monkeypatch.setattr(tiny, "COMPACT_AT", 20)
    moved: list[int] = []
    compact = World.compact

    def spy(self):
        moved.append(compact(self))
        return moved[-1]

    monkeypatch.setattr(World, "compact", spy)
    return moved


def _loaded(state, vendor, whole):
    client = create_app({"seed": 1}).test_client()
    # defaults of "now" (a CRM.COM request's created_date) the same in both loads
    client.put("/__sim/clock", json={"now": "2026-06-01T12:00:00Z"})
    if whole:
        r = client.put("/__sim/state", json=state)
    else:
        r = client.put(f"/__sim/state/{vendor}", json=state[vendor])
    assert r.status_code == 200, r.get_json()
    return client


@pytest.mark.parametrize("vendor", ["botw", "omoto", "antcrm", "crmcom"])
@pytest.mark.parametrize("whole", [True, False])
def test_a_compacted_load_answers_as_loaded(compacted, monkeypatch, vendor, whole):
    state = fake_state(SEED, 60, [vendor])
    with monkeypatch.context() as m:
        m.setattr(tiny, "COMPACT_AT", 10**9)
        plain = _loaded(state, vendor, whole).get(f"/__sim/state/{vendor}").get_json()
    assert compacted == [0]
    client = _loaded(state, vendor, whole)
    # it ran over the load's large tables (Omoto's have no index: its loads do not defer)
    assert compacted[-1] >= 20 or vendor == "omoto"
    assert client.get(f"/__sim/state/{vendor}").get_json() == plain
    world = client.application.extensions["crmsim"].namespaces.find("default")
    assert world.compact() == 0  # once per load


def test_lookups_and_writes_after_a_compacted_load(compacted):
    state = fake_state(SEED, 60, ["botw"])
    client = create_app({"seed": 1}).test_client()
    assert client.put("/__sim/state/botw", json=state["botw"]).status_code == 200
    assert compacted[-1] >= 60
    key = credentials(SEED)["botw"]["api_key"]
    contact = state["botw"]["contacts"][7]
    auth = {"Authorization": f"Bearer {key}"}
    r = client.get(f"/crm/{contact['listing_id']}?email={contact['email']}", headers=auth)
    assert (
        r.status_code == 200
        and r.get_json()["data"]["results"][0]["contact_email"] == contact["email"]
    )
    r = client.post(
        f"/crm/{contact['listing_id']}",
        data={"first_name": "New", "email": "new.one@example.com"},
        headers=auth,
    )
    assert r.status_code == 201, r.get_json()
    r = client.get(f"/crm/{contact['listing_id']}?email=new.one@example.com", headers=auth)
    assert r.status_code == 200
