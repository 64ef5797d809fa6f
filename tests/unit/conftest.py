"""Fixtures of the store's unit tests: a store on each engine."""

import uuid

import pytest

from simulator.store import Store
from simulator.store import redis as redis_engine
from simulator.store.tiny import Engine as TinyEngine


@pytest.fixture
def redis_client(redis_url):
    """A client of the session's redis-server; the database is emptied after the test."""
    client = redis_engine.connect(redis_url)
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(params=["redis", "tiny"])
def store(request):
    """A store on each engine (a test module may define its own ``store``)."""
    if request.param == "tiny":
        return Store(TinyEngine())
    client = request.getfixturevalue("redis_client")
    return Store(redis_engine.Engine(client, world=f"test-{uuid.uuid4().hex[:8]}"))
