"""Which requests a fault rule selects, and how its seeded random source behaves.

Each test pins one selector or one property of the random source, so that ignoring a
selector or leaving the source unseeded fails here rather than passing silently.
"""

import pytest

from simulator import create_app

H = {"Authorization": "Bearer K"}
OMOTO = {"campaigns": [{"campaign_id": "1", "api_key": "OK"}]}


@pytest.fixture
def loaded(client, sim):
    sim.put_state({"botw": {"api_keys": {"K": ["1"]}}, "omoto": OMOTO})
    return client


def add(client, **rule):
    r = client.post("/__sim/faults", json=rule)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def botw_create(client):
    return client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code


def botw_search(client):
    return client.get("/crm/1?email=a@b.co", headers=H).status_code


def omoto_push(client):
    return client.post(
        "/omoto/receivecustomerinfo.htm?key=OK", json=[{"personalinfo": {"firstname": "a"}}]
    ).status_code


def test_vendor_selector_leaves_other_vendors_alone(loaded):
    add(loaded, vendor="omoto", status=503)
    assert botw_create(loaded) == 201
    assert omoto_push(loaded) == 503


def test_method_selector_leaves_other_methods_alone(loaded):
    add(loaded, vendor="botw", method="GET", status=503)
    assert botw_create(loaded) == 201
    assert botw_search(loaded) == 503


def test_path_selector_is_a_glob_on_the_path(loaded):
    add(loaded, path="/omoto/*", status=502)
    assert botw_create(loaded) == 201
    assert omoto_push(loaded) == 502
    add(loaded, path="/crm/2", status=502)  # another listing: not this request
    assert botw_create(loaded) == 201


def test_operation_selector_names_one_operation(loaded):
    add(loaded, operation="botw.search_contacts", status=504)
    assert botw_create(loaded) == 201
    assert botw_search(loaded) == 504


def test_probability_one_always_fires_and_zero_never(loaded):
    add(loaded, vendor="botw", method="POST", status=500, probability=1)
    add(loaded, vendor="botw", method="GET", status=500, probability=0)
    assert [botw_create(loaded) for _ in range(10)] == [500] * 10
    assert {botw_search(loaded) for _ in range(10)} == {404}  # no contact: the vendor answers


def draws(app):
    """Statuses of 40 creates under a 50% rule, in a fresh namespace of ``app``."""
    client = app.test_client()
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    add(client, vendor="botw", status=500, probability=0.5)
    return [botw_create(client) for _ in range(40)]


@pytest.mark.one_process_store
def test_fault_draws_are_seeded_on_a_fresh_namespace_without_reseeding():
    first = draws(create_app({"seed": 5}))
    assert 0 < first.count(500) < 40
    assert draws(create_app({"seed": 5})) == first
    assert draws(create_app({"seed": 6})) != first


def test_fault_draws_restart_with_a_reset(client):
    client.put("/__sim/seed", json={"seed": 9})
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    add(client, vendor="botw", status=500, probability=0.5)
    first = [botw_create(client) for _ in range(40)]
    assert 0 < first.count(500) < 40
    client.post("/__sim/reset")  # keeps the seed: the fault stream starts over
    assert draws(client.application) == first


def test_rule_ids_start_at_one_again_after_a_reset(client):
    assert [add(client, status=500)["id"] for _ in range(2)] == ["1", "2"]
    client.post("/__sim/reset")
    assert add(client, status=500)["id"] == "1"


def test_rule_ids_count_on_after_a_clear(client):
    add(client, status=500)
    client.delete("/__sim/faults")
    assert add(client, status=500)["id"] == "2"
