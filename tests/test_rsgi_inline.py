"""The RSGI bridge (simulator/rsgi.py) runs quiet requests on granian's event loop and the
rest in its thread pool; a request that finds it would block after all (a rule added since
the bridge looked, the namespace's lock held) runs again in the pool, once, and nothing is
ever slept or waited for on the loop. Driven in-process: a fake RSGI scope and protocol on
an asyncio loop of the test's own, the real app behind it."""

import asyncio
import json
import threading
import time

import pytest
from helpers import held_elsewhere, rsgi_scope

from simulator import rsgi
from simulator.app import create_app
from simulator.rsgi import Bridge, quiet

# a shared world's lock is a lease in Redis: its requests always go to the pool
pytestmark = pytest.mark.one_process_store

H = {"authorization": "Bearer K"}
FORM = {**H, "content-type": "application/x-www-form-urlencoded"}
DEADLINE = 10.0


class Proto:
    """What granian hands ``__rsgi__``: the body on ``await proto()``, the answer's calls."""

    def __init__(self, body=b""):
        self.body = body
        self.answer = None

    async def __call__(self):
        return self.body

    def response_bytes(self, status, headers, data):
        self.answer = (status, dict(headers), data)

    def response_empty(self, status, headers):
        self.answer = (status, dict(headers), b"")


class Served:
    """The app behind a bridge, and where each request it served ran."""

    def __init__(self, inline=None):
        self.app = create_app({"seed": 7})
        self.sim = self.app.extensions["crmsim"]
        self.threads = []
        client = self.app.test_client()
        assert client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}}).status_code < 300
        self.client = client

        def spy(environ, start_response):
            self.threads.append(threading.current_thread().name)
            return self.app(environ, start_response)

        self.bridge = Bridge(
            spy, 2, lambda path: 1 << 20, None, inline or quiet(self.sim.namespaces)
        )

    async def send(self, method, path, body=b"", headers=None, query=""):
        headers = dict(headers or {})
        if body:
            headers["content-length"] = str(len(body))
        proto = Proto(body)
        await self.bridge.__rsgi__(rsgi_scope(method, path, headers, query), proto)
        return proto.answer

    def create(self, email):
        return self.send("POST", "/crm/1", f"email={email}".encode(), FORM)

    def journal(self):
        return self.client.get("/__sim/journal").get_json()["entries"]

    def close(self):
        self.bridge.pool.shutdown(wait=True)


@pytest.fixture
def served():
    s = Served()
    yield s
    s.close()


def test_a_quiet_request_and_the_health_check_run_on_the_loops_thread(served):
    async def go():
        return await served.create("a%40b.co"), await served.send("GET", "/__sim/health")

    (status, _, data), (health, _, _) = asyncio.run(go())
    assert (status, json.loads(data)["status"], health) == (201, "success", 200)
    loop_thread = threading.current_thread().name
    assert served.threads == [loop_thread, loop_thread]


def test_control_requests_other_than_health_run_in_the_pool(served):
    status, _, _ = asyncio.run(served.send("GET", "/__sim/journal"))
    assert status == 200
    assert [t.startswith("crmsim") for t in served.threads] == [True]


@pytest.mark.parametrize(
    "setting",
    [
        {"faults": {"vendor": "botw", "delay_ms": 800}},
        {"settings": {"latency": {"botw": 800}}},
    ],
)
def test_a_delay_holds_a_pool_thread_and_never_the_loop(served, setting):
    if "faults" in setting:
        assert served.client.post("/__sim/faults", json=setting["faults"]).status_code == 201
    else:
        assert served.client.put("/__sim/settings", json=setting["settings"]).status_code == 200

    async def go():
        slow = asyncio.ensure_future(served.create("slow%40b.co"))
        await asyncio.sleep(0)  # the create is in the pool, sleeping its 800 ms
        started = time.monotonic()
        health = await served.send("GET", "/__sim/health")
        return time.monotonic() - started, health, await slow

    took, (health, _, _), (status, _, _) = asyncio.run(go())
    assert (health, status) == (200, 201)
    assert took < 0.5  # answered while the create waited: the loop was free
    # the create ran in the pool, health on the loop (in either order)
    assert sorted(t.startswith("crmsim") for t in served.threads) == [False, True]


def test_a_rule_added_after_the_bridge_looked_fires_once_from_the_pool():
    served = Served(inline=lambda path: True)  # the bridge's look found the namespace quiet
    try:
        rule = {"vendor": "botw", "status": 503, "times": 1}
        assert served.client.post("/__sim/faults", json=rule).status_code == 201

        async def go():
            return await served.create("a%40b.co"), await served.create("c%40d.co")

        (first, _, _), (second, _, _) = asyncio.run(go())
        assert (first, second) == (503, 201)  # the rule fired for the first request only
        loop_thread = threading.current_thread().name
        # each tried inline, and the first ran again in the pool (the rule is still there)
        assert served.threads[0] == served.threads[2] == loop_thread
        assert served.threads[1].startswith("crmsim")
        assert served.threads[3].startswith("crmsim")
        entries = [e for e in served.journal() if e["operation"] == "botw.create_contact"]
        assert [e["response"]["status"] for e in entries] == [503, 201]  # one entry each
    finally:
        served.close()


def test_a_held_namespace_lock_sends_the_request_to_the_pool_and_the_loop_goes_on(served):
    world = served.sim.namespaces.find("default")
    with held_elsewhere(world.lock, DEADLINE) as release:

        async def go():
            create = asyncio.ensure_future(served.create("a%40b.co"))
            await asyncio.sleep(0)  # the create tries inline, finds the lock held: the pool
            health = await served.send("GET", "/__sim/health")  # the loop is not blocked
            waiting = not create.done()
            release.set()
            return health, waiting, await asyncio.wait_for(create, DEADLINE)

        (health, _, _), waiting, (status, _, _) = asyncio.run(go())
    assert (health, waiting, status) == (200, True, 201)
    loop_thread = threading.current_thread().name
    # the create tried inline and found the lock held, then ran in the pool; health inline
    assert served.threads[0] == loop_thread
    assert sorted(t.startswith("crmsim") for t in served.threads) == [False, False, True]
    assert [e["operation"] for e in served.journal()].count("botw.create_contact") == 1


def test_which_requests_are_quiet(served):
    inline = quiet(served.sim.namespaces)
    assert (
        served.client.put("/__ns/slow/__sim/settings", json={"latency": {"botw": 5}}).status_code
        == 200
    )
    assert served.client.put("/__ns/calm/__sim/state/botw", json={"api_keys": {}}).status_code < 300
    assert [
        inline(path)
        for path in (
            "/crm/1",  # the default namespace: no rule, no latency
            "/__sim/health",
            "/__ns/nowhere/__sim/health",  # health never locks nor waits
            "/__sim/state",  # a control request: may be long
            "/__ns/calm/crm/1",
            "/__ns/slow/crm/1",  # a latency setting
            "/__ns/nowhere/crm/1",  # not made yet: its first request makes it, in the pool
            "/__ns/bad name/crm/1",
        )
    ] == [True, True, True, False, True, False, False, False]
    served.sim.namespaces.find("calm").shared = True  # its lock a lease in Redis
    assert inline("/__ns/calm/crm/1") is False


class ChunkedProto(Proto):
    """A protocol that hands its body in chunks too, and says which way it was read."""

    def __init__(self, body=b"", size=1000):
        super().__init__(body)
        self.size = size
        self.read = []

    async def __call__(self):
        self.read.append("whole")
        return self.body

    def __aiter__(self):
        self.read.append("chunks")
        return self.chunks()

    async def chunks(self):
        for at in range(0, len(self.body), self.size):
            yield self.body[at : at + self.size]


@pytest.mark.parametrize(
    ("length", "way"), [(rsgi.STREAMED - 1, "whole"), (rsgi.STREAMED, "chunks")]
)
def test_a_large_body_is_read_chunk_by_chunk_and_whole(served, length, way):
    # a state of this many bytes (a JSON string padded out): read in chunks from
    # STREAMED on, so that granian's allocator holds no whole body after the request
    state = json.dumps({"api_keys": {"K": ["1"]}, "contacts": []}).encode()
    body = state[:-1] + b', "x": "' + b"y" * (length - len(state) - 9) + b'"}'
    assert len(body) == length
    proto = ChunkedProto(body)
    headers = {"content-type": "application/json", "content-length": str(length)}
    asyncio.run(served.bridge.__rsgi__(rsgi_scope("PUT", "/__sim/state/botw", headers), proto))
    assert proto.read == [way]
    status, _, data = proto.answer
    assert status == 400, data  # the whole body reached the app: "x" is not a BOTW key
    assert b"x" in data
