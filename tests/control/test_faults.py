"""Fault rules: status, body, rate limit, delay, drop; always, times, every, probability."""

import time

import pytest
import requests
from helpers import expect

H = {"Authorization": "Bearer K"}


@pytest.fixture
def botw(sim):
    sim.put_state({"api_keys": {"K": ["1"]}}, "botw")
    return sim


def create(client, email="a@b.co"):
    return client.post("/crm/1", data={"email": email}, headers=H)


def add(client, **rule):
    r = client.post("/__sim/faults", json=rule)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_status_fault_answers_in_the_vendor_shape_and_changes_nothing(client, botw):
    rule = add(client, vendor="botw", operation="botw.create_contact", status=500)
    r = create(client)
    expect(r, 500, {"status": "error", "message": "Internal server error."})
    assert botw.state("botw")["contacts"] == []
    [entry] = botw.journal()
    assert entry["fault"] == rule["id"]
    assert entry["operation"] == "botw.create_contact"
    # other operations are not selected
    assert client.get("/crm/1?email=a@b.co", headers=H).status_code == 404


def test_status_fault_with_custom_body_and_headers(client, botw):
    add(client, path="/crm/*", status=503, body={"oops": True}, headers={"X-Why": "maintenance"})
    r = create(client)
    assert (r.status_code, r.get_json(), r.headers["X-Why"]) == (503, {"oops": True}, "maintenance")


def test_rate_limit_answers_429_with_retry_after(client, botw):
    add(client, vendor="botw", rate_limit={"retry_after": 7})
    r = create(client)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert r.get_json() == {"status": "error", "message": "Too many requests."}


@pytest.mark.parametrize("headers_first", [True, False])
def test_a_rules_own_retry_after_wins_over_rate_limits(client, botw, headers_first):
    parts = [("headers", {"Retry-After": "60", "X-Why": "slow down"}), ("rate_limit", {})]
    add(client, vendor="botw", **dict(parts if headers_first else parts[::-1]))
    r = create(client)
    assert (r.status_code, r.headers["Retry-After"], r.headers["X-Why"]) == (429, "60", "slow down")


def test_times_fires_for_the_first_matches_only(client, botw):
    add(client, vendor="botw", method="POST", status=500, times=2)
    assert [create(client).status_code for _ in range(4)] == [500, 500, 201, 201]
    [rule] = client.get("/__sim/faults").get_json()["faults"]
    assert (rule["matched"], rule["fired"]) == (4, 2)
    assert len(botw.state("botw")["contacts"]) == 2


def test_every_nth_match(client, botw):
    add(client, vendor="botw", status=502, every=3)
    assert [create(client).status_code for _ in range(6)] == [201, 201, 502, 201, 201, 502]


def statuses_with_probability(client, seed):
    client.post("/__sim/reset")
    client.put("/__sim/seed", json={"seed": seed})
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    add(client, vendor="botw", status=500, probability=0.5)
    return [create(client, f"{i}@b.co").status_code for i in range(30)]


def test_probability_is_deterministic_per_seed(client):
    first = statuses_with_probability(client, 11)
    assert 0 < first.count(500) < 30
    assert statuses_with_probability(client, 11) == first
    assert statuses_with_probability(client, 12) != first


def test_fault_rules_do_not_change_generated_ids(client):
    def ids(with_rule):
        client.post("/__sim/reset")
        client.put("/__sim/seed", json={"seed": 3})
        client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
        if with_rule:
            add(
                client, vendor="botw", operation="botw.search_contacts", status=500, probability=0.5
            )
        for i in range(3):
            create(client, f"{i}@b.co")
            client.get(f"/crm/1?email={i}@b.co", headers=H)
        return [c["unique_id"] for c in client.get("/__sim/state/botw").get_json()["contacts"]]

    assert ids(True) == ids(False)


def test_first_matching_rule_wins_and_rules_can_be_removed(client, botw):
    first = add(client, vendor="botw", status=500)
    add(client, vendor="botw", status=503)
    assert create(client).status_code == 500
    assert client.delete(f"/__sim/faults/{first['id']}").status_code == 200
    assert create(client).status_code == 503
    assert client.delete("/__sim/faults/999").status_code == 404
    assert client.delete("/__sim/faults").status_code == 200
    assert create(client).status_code == 201
    assert client.get("/__sim/faults").get_json() == {"faults": []}


def test_delay_only_rule_lets_the_vendor_answer(client, botw):
    add(client, vendor="botw", delay_ms=150)
    started = time.perf_counter()
    r = create(client)
    assert r.status_code == 201
    assert time.perf_counter() - started >= 0.15
    assert botw.journal()[0]["fault"] == "1"


def test_fault_on_unmatched_paths_answers_a_problem(client):
    add(client, path="/nowhere", status=418)
    r = client.get("/nowhere")
    assert r.status_code == 418 and r.get_json()["title"] == "Fault"


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"status": 199},
        {"status": 600},
        {"status": 500, "drop": True},
        {"drop": True, "truncate": True},
        {"drop": True, "malformed": True},
        {"drop": True, "dribble": {"chunks": 2, "total_ms": 10}},
        {"dribble": {"chunks": 0, "total_ms": 10}},
        {"dribble": {"chunks": 2}},
        {"truncate": False},
        {"delay_ms": {"lognormal": {"median": 100}}},
        {"delay_ms": {"lognormal": {"median": 0, "sigma": 1}}},
        {"delay_ms": {"uniform": {"min": 1, "max": 2}, "fixed": 3}},
        {"delay_ms": {"fixed": 60001}},
        {"delay_ms": 60001},
        {"status": 201, "body": {"email": "${reqest.body.email}"}},
        {"status": 201, "body": ["${request.body.}"]},
        {"times": 0, "status": 500},
        {"probability": 2, "status": 500},
        {"vendor": "nope", "status": 500},
        {"status": 500, "bogus": 1},
    ],
)
def test_invalid_rules_are_problems(client, rule):
    r = client.post("/__sim/faults", json=rule)
    assert r.status_code == 400
    assert r.get_json()["errors"]
    assert client.get("/__sim/faults").get_json() == {"faults": []}


def test_reset_clears_fault_rules(client, botw):
    add(client, status=500)
    client.post("/__sim/reset")
    assert client.get("/__sim/faults").get_json() == {"faults": []}


def test_drop_in_the_test_client_raises_a_connection_error(client, botw):
    add(client, vendor="botw", drop=True)
    with pytest.raises(ConnectionError):
        create(client)
    [entry] = botw.journal()
    assert entry["response"]["status"] is None
    assert botw.state("botw")["contacts"] == []


def test_drop_on_a_served_instance_resets_the_connection(served):
    ns = f"{served}/__ns/drop-test"
    requests.post(f"{ns}/__sim/reset", timeout=5)
    requests.put(f"{ns}/__sim/state/botw", json={"api_keys": {"K": ["1"]}}, timeout=5)
    requests.post(
        f"{ns}/__sim/faults", json={"vendor": "botw", "drop": True, "times": 1}, timeout=5
    )
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{ns}/crm/1", data={"email": "a@b.co"}, headers=H, timeout=5)
    r = requests.post(f"{ns}/crm/1", data={"email": "a@b.co"}, headers=H, timeout=5)
    assert r.status_code == 201
    assert len(requests.get(f"{ns}/__sim/state/botw", timeout=5).json()["contacts"]) == 1
