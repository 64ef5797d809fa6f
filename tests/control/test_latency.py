"""Latency: delays drawn from distributions (fixed, uniform, lognormal) out of the
namespace's seeded fault source, and each vendor's default latency setting.

The distributions are checked statistically on many draws from ``draw_ms`` itself under a
fixed seed; the pipeline's sleeps are read from a stand-in ``pipeline.time`` (no waiting);
one served request is timed with a monotonic clock against the delay it must have drawn.
"""

import math
import random
import statistics
import time

import pytest
import requests

from simulator import create_app, pipeline
from simulator.faults import draw_ms

H = {"Authorization": "Bearer K"}
N = 4000
MINUTE = 60000  # no delay is longer (schemas/sim/latency.json)


def draws(delay, seed=1, n=N):
    rng = random.Random(seed)
    return [draw_ms(delay, rng) for _ in range(n)]


# -- the distributions, from the function ----------------------------------------------------
def test_a_number_and_fixed_are_that_many_milliseconds_without_a_draw():
    rng = random.Random(1)
    state = rng.getstate()
    assert draw_ms(250, rng) == 250.0
    assert draw_ms({"fixed": 12.5}, rng) == 12.5
    assert rng.getstate() == state  # nothing drawn: the stream of other draws is unchanged


def test_uniform_stays_in_its_bounds_and_spreads_evenly():
    found = draws({"uniform": {"min": 100, "max": 300}})
    assert min(found) >= 100 and max(found) <= 300
    assert 195 <= statistics.mean(found) <= 205
    q1, median, q3 = statistics.quantiles(found, n=4)
    assert (145 <= q1 <= 155, 195 <= median <= 205, 245 <= q3 <= 255) == (True, True, True)
    # min and max may come in either order
    assert 100 <= min(draws({"uniform": {"min": 300, "max": 100}}, n=200))


def test_lognormal_has_its_median_and_its_spread():
    found = draws({"lognormal": {"median": 120, "sigma": 0.5}})
    assert 114 <= statistics.median(found) <= 126
    logs = [math.log(ms) for ms in found]
    assert 0.47 <= statistics.stdev(logs) <= 0.53
    assert min(found) > 0
    # a long tail to the right: the mean is above the median (e^(sigma^2/2) = 1.13 times)
    assert 1.08 <= statistics.mean(found) / statistics.median(found) <= 1.18


def test_lognormal_sigma_zero_is_its_median():
    assert draws({"lognormal": {"median": 80, "sigma": 0}}, n=50) == [pytest.approx(80)] * 50


def test_the_tail_is_capped_by_max_and_by_sixty_seconds():
    capped = draws({"lognormal": {"median": 100, "sigma": 2, "max": 400}})
    assert max(capped) == 400 and 100 < sorted(capped)[N // 2 + 200] < 400
    assert max(draws({"lognormal": {"median": 50000, "sigma": 3}}, n=200)) == MINUTE
    assert draw_ms(10**6, random.Random(1)) == MINUTE
    assert draw_ms({"fixed": 10**6}, random.Random(1)) == MINUTE
    big = {"uniform": {"min": 10**6, "max": 10**6 + 1}}
    assert draw_ms(big, random.Random(1)) == MINUTE


def test_draws_repeat_under_a_seed_and_differ_across_seeds():
    delay = {"lognormal": {"median": 120, "sigma": 0.5}}
    assert draws(delay, seed=3, n=20) == draws(delay, seed=3, n=20)
    assert draws(delay, seed=3, n=20) != draws(delay, seed=4, n=20)


# -- through the pipeline: what it sleeps ------------------------------------------------------
class Sleeps:
    """pipeline.time, stood in: perf_counter counts, sleep records the seconds asked."""

    def __init__(self):
        self.slept = []
        self.ticks = 0.0

    def perf_counter(self):
        self.ticks += 1.0
        return self.ticks

    def sleep(self, seconds):
        self.slept.append(seconds)


@pytest.fixture
def sleeps(monkeypatch):
    fake = Sleeps()
    monkeypatch.setattr(pipeline, "time", fake)
    return fake.slept


def fresh(seed=7, **settings):
    app = create_app({"seed": seed})
    client = app.test_client()
    client.put("/__sim/state", json={"botw": {"api_keys": {"K": ["1"]}}, "omoto": OMOTO})
    if settings:
        r = client.put("/__sim/settings", json=settings)
        assert r.status_code == 200, r.get_json()
    return client


OMOTO = {"campaigns": [{"campaign_id": "1", "api_key": "OK"}]}


def botw_create(client, email="a@b.co"):
    return client.post("/crm/1", data={"email": email}, headers=H).status_code


def omoto_push(client):
    return client.post(
        "/omoto/receivecustomerinfo.htm?key=OK", json=[{"personalinfo": {"firstname": "a"}}]
    ).status_code


LOGNORMAL = {"lognormal": {"median": 120, "sigma": 0.5}}


@pytest.mark.one_process_store
def test_a_vendors_latency_delays_each_of_its_requests_by_seeded_draws(sleeps):
    client = fresh(seed=5, latency={"botw": LOGNORMAL})
    assert [botw_create(client, f"{i}@b.co") for i in range(5)] == [201] * 5
    # the namespace's fault source: random.Random("faults:<seed>"), first draw first
    rng = random.Random("faults:5")
    assert sleeps == [draw_ms(LOGNORMAL, rng) / 1000 for _ in range(5)]
    assert len(set(sleeps)) == 5


def test_a_vendors_latency_leaves_other_vendors_and_the_control_plane_alone(sleeps):
    client = fresh(latency={"botw": {"fixed": 40}})
    assert omoto_push(client) == 200
    client.get("/__sim/health")
    assert sleeps == []
    assert botw_create(client) == 201
    assert sleeps == [0.04]


def test_latency_is_a_setting_put_whole_and_cleared_with_an_empty_map(sleeps):
    client = fresh(latency={"botw": 30, "omoto": {"uniform": {"min": 1, "max": 2}}})
    assert client.get("/__sim/settings").get_json()["latency"] == {
        "botw": 30,
        "omoto": {"uniform": {"min": 1, "max": 2}},
    }
    r = client.put("/__sim/settings", json={"latency": {"omoto": 5}})
    assert r.get_json()["latency"] == {"omoto": 5}  # botw's is gone: the map is replaced
    assert botw_create(client) == 201 and sleeps == []
    client.put("/__sim/settings", json={"latency": {}})
    assert omoto_push(client) == 200 and sleeps == []


def test_latency_draws_repeat_after_a_reset_which_keeps_the_setting(sleeps):
    client = fresh(seed=9, latency={"botw": LOGNORMAL})
    botw_create(client)
    botw_create(client, "b@b.co")
    first = list(sleeps)
    client.post("/__sim/reset")
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    sleeps.clear()
    botw_create(client)
    botw_create(client, "b@b.co")
    assert sleeps == first


def test_a_rules_own_delay_replaces_the_vendors_latency(sleeps):
    client = fresh(seed=2, latency={"botw": {"fixed": 500}})
    client.post("/__sim/faults", json={"vendor": "botw", "delay_ms": 20, "times": 1})
    assert botw_create(client) == 201
    assert botw_create(client, "b@b.co") == 201  # the rule has fired its one time
    assert sleeps == [0.02, 0.5]


def test_a_rule_without_a_delay_keeps_the_vendors_latency(sleeps):
    client = fresh(latency={"botw": {"fixed": 50}})
    client.post("/__sim/faults", json={"vendor": "botw", "status": 503})
    assert botw_create(client) == 503
    assert sleeps == [0.05]


@pytest.mark.one_process_store
def test_a_rules_delay_may_be_drawn_from_a_distribution(sleeps):
    client = fresh(seed=4)
    uniform = {"uniform": {"min": 10, "max": 20}}
    client.post("/__sim/faults", json={"vendor": "botw", "delay_ms": uniform})
    for i in range(20):
        botw_create(client, f"{i}@b.co")
    rng = random.Random("faults:4")
    assert sleeps == [draw_ms(uniform, rng) / 1000 for _ in range(20)]
    assert all(0.01 <= s <= 0.02 for s in sleeps)


@pytest.mark.parametrize(
    "latency",
    [
        {"nope": 10},
        {"botw": -1},
        {"botw": {"lognormal": {"median": 100}}},
        {"botw": {"uniform": {"min": 1}}},
        {"botw": {"fixed": 1, "uniform": {"min": 1, "max": 2}}},
        {"botw": {"normal": {"mean": 1}}},
        [],
    ],
)
def test_a_bad_latency_setting_is_refused_with_a_pointer(latency):
    client = fresh()
    r = client.put("/__sim/settings", json={"latency": latency})
    assert r.status_code == 400
    assert all(e["pointer"].startswith("/latency") for e in r.get_json()["errors"])
    assert client.get("/__sim/settings").get_json()["latency"] == {}


# -- served: a request takes at least the delay it drew -------------------------------------
def test_a_served_request_takes_at_least_its_drawn_latency(served):
    ns = f"{served}/__ns/latency-served"
    requests.put(f"{ns}/__sim/seed", json={"seed": 21}, timeout=5).raise_for_status()
    requests.put(f"{ns}/__sim/state/botw", json={"api_keys": {"K": ["1"]}}, timeout=5)
    delay = {"lognormal": {"median": 150, "sigma": 0.3}}
    requests.put(f"{ns}/__sim/settings", json={"latency": {"botw": delay}}, timeout=5)
    rng = random.Random("faults:21")
    try:
        for i in range(3):
            expected = draw_ms(delay, rng) / 1000
            started = time.monotonic()
            r = requests.post(f"{ns}/crm/1", data={"email": f"{i}@b.co"}, headers=H, timeout=10)
            took = time.monotonic() - started
            assert r.status_code == 201
            assert took >= expected, (took, expected)
    finally:
        requests.delete(f"{ns}/__sim", timeout=5)


def test_a_snapshot_keeps_the_latency_setting(tmp_path):
    from simulator.persist import Persister

    def persister(app):
        sim = app.extensions["crmsim"]
        return Persister(sim.namespaces, sim.schemas, tmp_path / "data.json", 1.0)

    app = create_app({"seed": 3})
    saver = persister(app)
    saver.load()
    app.test_client().put("/__ns/t1/__sim/settings", json={"latency": {"botw": LOGNORMAL}})
    assert saver.save() is True
    restored = create_app({"seed": 3})
    persister(restored).load()
    settings = restored.test_client().get("/__ns/t1/__sim/settings").get_json()
    assert settings["latency"] == {"botw": LOGNORMAL}


def test_a_rule_with_delay_ms_zero_exempts_what_it_selects(sleeps):
    client = fresh(latency={"botw": {"fixed": 500}})
    client.post("/__sim/faults", json={"operation": "botw.search_contacts", "delay_ms": 0})
    assert client.get("/crm/1?email=a@b.co", headers=H).status_code == 404
    assert sleeps == []
    assert botw_create(client) == 201
    assert sleeps == [0.5]


def test_a_rule_without_a_delay_sleeps_not_at_all(sleeps):
    client = fresh()
    r = client.post("/__sim/faults", json={"vendor": "botw", "status": 503, "times": 1})
    assert r.status_code == 201
    assert botw_create(client) == 503
    assert botw_create(client) == 201
    assert sleeps == []
