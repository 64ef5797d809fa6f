"""Shared worlds (simulator/shared.py, docs/scale-out.md): two apps over one Redis are two
crmsim processes serving the same worlds. Every test here alternates between them."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis

from simulator.app import create_app

H = {"Authorization": "Bearer K"}
BOTW = {"api_keys": {"K": ["1"]}}


@pytest.fixture
def url(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture
def pair(url):
    """Two apps (as two processes would be) on one Redis; their test clients."""
    return create_app({"store": url}).test_client(), create_app({"store": url}).test_client()


def create(client, email, prefix=""):
    return client.post(f"{prefix}/crm/1", data={"email": email}, headers=H)


def contacts(client, prefix=""):
    return client.get(f"{prefix}/__sim/state/botw").get_json()["contacts"]


def test_a_write_through_one_process_is_read_through_the_other(pair):
    a, b = pair
    assert a.put("/__sim/state/botw", json=BOTW).status_code == 200
    assert create(a, "x@b.co").status_code == 201
    found = b.get("/crm/1?email=x@b.co", headers=H)
    assert found.status_code == 200
    assert [c["email"] for c in contacts(b)] == ["x@b.co"]
    # the journal is one: both requests and their order, read through either process
    ops = [e["operation"] for e in a.get("/__sim/journal").get_json()["entries"]]
    assert ops == ["botw.create_contact", "botw.search_contacts"]


def test_seeded_ids_do_not_depend_on_which_process_serves_each_request(url):
    def run(order):
        apps = [create_app({"store": url}).test_client() for _ in range(2)]
        apps[0].post("/__sim/reset")
        apps[0].put("/__sim/seed", json={"seed": 11})
        apps[1].put("/__sim/state/botw", json=BOTW)
        for i, which in enumerate(order):
            assert create(apps[which], f"{i}@b.co").status_code == 201
        return [c["unique_id"] for c in contacts(apps[0])]

    first = run([0, 0, 0, 0])
    assert len(set(first)) == 4
    assert run([0, 1, 1, 0]) == first
    assert run([1, 0, 1, 0]) == first


def test_a_fault_rule_that_fires_once_fires_once_across_processes(pair):
    a, b = pair
    a.put("/__sim/state/botw", json=BOTW)
    rule = a.post("/__sim/faults", json={"vendor": "botw", "status": 500, "times": 1})
    assert rule.status_code == 201
    statuses = [create(c, f"{i}@b.co").status_code for i, c in enumerate([b, a, b, a])]
    assert statuses == [500, 201, 201, 201]
    [seen] = a.get("/__sim/faults").get_json()["faults"]
    assert (seen["matched"], seen["fired"]) == (4, 1)


def test_clock_settings_and_seed_are_the_worlds(pair):
    a, b = pair
    a.put("/__sim/clock", json={"now": "2030-01-02T03:04:05Z"})
    a.put("/__sim/settings", json={"journal_limit": 7, "strict_contract": True})
    a.put("/__sim/seed", json={"seed": 99})
    assert b.get("/__sim/clock").get_json() == {"now": "2030-01-02T03:04:05Z", "frozen": True}
    settings = b.get("/__sim/settings").get_json()
    assert (settings["journal_limit"], settings["strict_contract"]) == (7, True)
    assert b.get("/__sim/seed").get_json() == {"seed": 99}
    b.post("/__sim/clock/advance", json={"seconds": 60})
    assert a.get("/__sim/clock").get_json()["now"] == "2030-01-02T03:05:05Z"


def test_an_unseeded_world_has_one_seed_for_every_process(pair):
    a, b = pair
    a.put("/__sim/state/botw", json=BOTW)
    assert a.get("/__sim/seed").get_json() == b.get("/__sim/seed").get_json()


def test_namespaces_are_listed_dropped_and_capped_across_processes(url):
    a = create_app({"store": url, "max_namespaces": 2}).test_client()
    b = create_app({"store": url, "max_namespaces": 2}).test_client()
    assert a.put("/__ns/one/__sim/state/botw", json=BOTW).status_code == 200
    assert b.put("/__ns/two/__sim/state/botw", json=BOTW).status_code == 200
    assert a.get("/__sim/namespaces").get_json() == {"namespaces": ["one", "two"]}
    # a third, through either process, is over the cap of the shared list
    refused = b.put("/__ns/three/__sim/state/botw", json=BOTW)
    assert refused.status_code == 429
    assert create(a, "x@b.co", "/__ns/one").status_code == 201
    # dropped through one process: gone for the other too, which then makes it anew, empty
    assert b.delete("/__ns/one/__sim").status_code == 200
    assert a.get("/__sim/namespaces").get_json() == {"namespaces": ["two"]}
    assert a.get("/__ns/one/__sim/state/botw").get_json()["contacts"] == []


def test_a_state_load_lands_whole_or_not_at_all(pair):
    a, b = pair
    a.put("/__sim/state/botw", json=BOTW)
    create(a, "kept@b.co")
    bad = {"api_keys": {"K": ["1"]}, "contacts": [{"listing_id": "1"}, {"nonsense": True}]}
    assert b.put("/__sim/state/botw", json=bad).status_code == 400
    assert [c["email"] for c in contacts(a)] == ["kept@b.co"]


def test_a_reset_through_one_process_empties_the_world_for_both(pair):
    a, b = pair
    a.put("/__sim/state/botw", json=BOTW)
    create(a, "x@b.co")
    assert b.post("/__sim/reset").status_code == 200
    assert contacts(a) == []
    assert a.get("/__sim/journal").get_json()["entries"] == []
    # the vendor is empty again: its keys went with the reset
    assert create(a, "y@b.co").status_code == 403


def test_a_replaced_store_is_deleted_from_redis(url, pair):
    a, _ = pair
    a.put("/__sim/state/botw", json=BOTW)
    for i in range(5):
        create(a, f"{i}@b.co")
    client = redis.Redis.from_url(url)

    def stores():
        return {k.split(b":")[2] for k in client.scan_iter(match=b"crmsim:{default}:botw*")}

    before = stores()
    assert len(before) == 1
    contact = {"listing_id": "1", "contact_id": 1, "email": "new@b.co"}
    assert a.put("/__sim/state/botw", json={**BOTW, "contacts": [contact]}).status_code == 200
    # the load filled a new store; the old one is deleted in the background
    from helpers import wait_until

    wait_until(lambda: len(stores()) == 1 and stores() != before, timeout=10)
    assert [c["email"] for c in contacts(a)] == ["new@b.co"]


def test_etags_count_writes_through_any_process(pair):
    a, b = pair
    a.put("/__sim/state/botw", json=BOTW)
    tag = a.get("/__sim/state").headers["ETag"]
    assert b.get("/__sim/state", headers={"If-None-Match": tag}).status_code == 304
    create(b, "x@b.co")
    assert a.get("/__sim/state", headers={"If-None-Match": tag}).status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redis_gone_is_the_vendors_own_503_and_a_degraded_health():
    app = create_app({"store": f"redis://127.0.0.1:{_closed_port()}/0"})
    client = app.test_client()
    r = create(client, "x@b.co")
    assert r.status_code == 503
    assert r.get_json() == {"status": "error", "message": "Service Unavailable."}
    assert r.headers["Retry-After"] == "1"
    control = client.get("/__sim/journal")
    assert control.status_code == 503
    assert control.mimetype == "application/problem+json"
    assert control.get_json()["title"] == "Store unavailable"
    health = client.get("/__sim/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert "Redis" in health.get_json()["reason"]


def test_a_namespace_held_too_long_is_a_503(url, monkeypatch):
    from simulator import shared

    monkeypatch.setattr(shared, "WAIT_S", 0.05)
    a = create_app({"store": url}).test_client()
    a.put("/__sim/state/botw", json=BOTW)
    holder = redis.Redis.from_url(url)
    holder.set(b"crmsim:{default}:lock", uuid.uuid4().hex, px=5000)
    r = create(a, "x@b.co")
    assert (r.status_code, r.get_json()["message"]) == (503, "Service Unavailable.")
    holder.delete(b"crmsim:{default}:lock")
    assert create(a, "x@b.co").status_code == 201


def test_a_lease_held_longer_than_its_time_is_extended_until_given_back(url, monkeypatch):
    from helpers import wait_until

    from simulator import shared

    monkeypatch.setattr(shared, "LEASE_MS", 300)
    monkeypatch.setattr(shared, "KEEPER", shared.Keeper())  # one that reads the new time
    sim = create_app({"store": url}).extensions["crmsim"]
    world = sim.namespaces.create("default")
    client = redis.Redis.from_url(url)
    key = b"crmsim:{default}:lock"
    world.lock.acquire()
    try:
        token = client.get(key)
        assert token is not None
        ttls = [client.pttl(key)]

        def renewals():
            ttls.append(client.pttl(key))
            return sum(1 for a, b in zip(ttls, ttls[1:], strict=False) if b > a)

        # held for several lease times: extended each time, never lost
        wait_until(lambda: renewals() >= 3, timeout=20, what="three renewals")
        assert client.get(key) == token
    finally:
        world.lock.release()
    assert client.get(key) is None
