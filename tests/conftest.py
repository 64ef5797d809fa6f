"""Shared fixtures: a fresh app per test, helpers for the control plane, a served instance."""

import os

import pytest
from _redis import redis_server
from _serve import serving
from hypothesis import HealthCheck, settings

from simulator import create_app

# ci: bounded and derandomized (the same examples on every run, so a landing run cannot fail
# on a draw no earlier run made); dev, the default, explores anew each time
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def app():
    """A fresh app; every vendor answer it gives is checked against its response schema."""
    app = create_app({"seed": 7, "validate_responses": True})
    yield app
    problems = app.extensions["crmsim"].response_problems
    assert problems == [], f"answers outside their response schemas: {problems}"


@pytest.fixture
def client(app):
    return app.test_client()


class Sim:
    """Control-plane helpers over a test client (or a namespace prefix of it)."""

    def __init__(self, client, prefix=""):
        self.client = client
        self.prefix = prefix

    def url(self, path):
        return self.prefix + path

    def put_state(self, doc, vendor=None):
        path = "/__sim/state" + (f"/{vendor}" if vendor else "")
        r = self.client.put(self.url(path), json=doc)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def state(self, vendor=None):
        path = "/__sim/state" + (f"/{vendor}" if vendor else "")
        return self.client.get(self.url(path)).get_json()

    def journal(self, **filters):
        return self.client.get(self.url("/__sim/journal"), query_string=filters).get_json()[
            "entries"
        ]

    def outbox(self, **filters):
        return self.client.get(self.url("/__sim/outbox"), query_string=filters).get_json()[
            "entries"
        ]

    def freeze(self, now):
        r = self.client.put(self.url("/__sim/clock"), json={"now": now})
        assert r.status_code == 200, r.get_json()

    def advance(self, seconds):
        r = self.client.post(self.url("/__sim/clock/advance"), json={"seconds": seconds})
        assert r.status_code == 200, r.get_json()


@pytest.fixture
def sim(client):
    return Sim(client)


@pytest.fixture(scope="session")
def redis_url():
    """A real ``redis-server`` without persistence for the session (one per xdist worker,
    started when a test first asks); its URL. Tests share it: each uses keys of its own."""
    with redis_server() as url:
        yield url


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "one_process_store: asserts what only the memory store does (its single seeded "
        "stream, its memory per namespace); skipped with --store-engine shared",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--store-engine") != "shared":
        return
    skip = pytest.mark.skip(
        reason="the memory store's behaviour: a shared world draws request n from stream n "
        "of its seed and keeps its worlds in Redis (tests/unit/test_shared.py)"
    )
    for item in items:
        if item.get_closest_marker("one_process_store"):
            item.add_marker(skip)


def pytest_addoption(parser):
    parser.addoption(
        "--store-engine",
        choices=("tiny", "redis", "shared"),
        default=os.environ.get("CRMSIM_TEST_STORE", "tiny"),
        help="the engine of the vendors' stores in in-process tests (docs/scale-out.md); "
        "shared: every app an in-process test makes serves its worlds from the session's "
        "redis-server (--store redis://...), emptied after each test",
    )


@pytest.fixture(autouse=True)
def _store_engine(request, monkeypatch):
    """With ``--store-engine redis``: every vendor store an in-process test makes lives in
    the session's redis-server (a world of its own per test, emptied after it)."""
    chosen = request.config.getoption("--store-engine")
    if chosen == "shared":
        import contextlib

        import redis

        from simulator import shared

        url = request.getfixturevalue("redis_url")
        monkeypatch.setenv("CRMSIM_STORE", url)
        made = shared.SharedNamespaces.__init__

        def fresh(self, config, vendors, store_url):
            # a new app starts on an empty Redis, as a new process starts empty (property
            # tests make an app per example, within one test)
            made(self, config, vendors, store_url)
            with contextlib.suppress(redis.RedisError):  # a test of Redis gone
                self.client.flushdb()

        monkeypatch.setattr(shared.SharedNamespaces, "__init__", fresh)
        try:
            yield
        finally:
            client = redis.Redis.from_url(url)
            client.flushdb()
            client.close()
        return
    if chosen != "redis":
        yield
        return
    import itertools
    import uuid

    from simulator.store import Store
    from simulator.store import redis as redis_engine
    from simulator.vendors import _base

    client = redis_engine.connect(request.getfixturevalue("redis_url"))
    world, names = uuid.uuid4().hex, itertools.count(1)
    monkeypatch.setattr(
        _base, "Store", lambda: Store(redis_engine.Engine(client, world, f"s{next(names)}"))
    )
    try:
        yield
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def served():
    """A real ``crmsim serve`` (the default server) on a free port; its base URL."""
    with serving("--threads", "16") as (base, _proc):
        yield base
