"""The Redis engine's own promises (issue 17): one hash tag per world, a fixed number of
round trips per call whatever the table holds, no KEYS or SCAN on a request's path, writes
that land whole across clients, and a vendor backend that runs on it unchanged."""

import threading
import uuid

import pytest
import redis

from simulator.clock import Clock, Ids
from simulator.journal import Outbox
from simulator.store import Store
from simulator.store import redis as redis_engine
from simulator.store.codec import decode_key, encode_key
from simulator.store.tiny import Engine as TinyEngine
from simulator.vendors._base import Context


class Counting(redis.Connection):
    """A connection that counts what it sends: one count per round trip (a pipeline or a
    script is one)."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        Counting.sent += 1
        return super().send_packed_command(command, check_health)


@pytest.fixture
def client(redis_url):
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=Counting)
    client = redis.Redis(connection_pool=pool)
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
        pool.disconnect()


@pytest.fixture
def world():
    return f"w-{uuid.uuid4().hex[:8]}"


def people(store):
    return store.table(
        "people",
        indexes={"email": lambda d: [d.get("email")], "city": lambda d: [d.get("city")]},
        ordered={"by_age": lambda d: [(d["city"], d["age"])]},
    )


def round_trips(call):
    before = Counting.sent
    call()
    return Counting.sent - before


def test_every_key_of_a_world_carries_its_hash_tag_first(client, world):
    store = Store(redis_engine.Engine(client, world, "botw"))
    table = people(store)
    table.insert({"email": "a@x.co", "city": "Oslo", "age": 3})
    store.counters.next(("code", "o1"))
    store.documents.put("config", {"k": 1})
    store.log("journal", 10).append({"n": 1})
    keys = sorted(client.keys("*"))
    tag = b"{" + world.encode() + b"}"
    assert len(keys) == 9
    for key in keys:
        start = key.index(b"{")
        assert key[start : key.index(b"}", start) + 1] == tag, key
        assert key.startswith(b"crmsim:" + tag + b":botw:")
    # a world's name is escaped so that its tag is its own, and never empty
    assert redis_engine.world_tag("a}b{") == b"{a%7Db%7B}" and redis_engine.world_tag("") == b"{%}"


def test_the_order_encoding_sorts_as_python_does():
    values = [-(2**70), -300, -256, -255.5, -255, -1.5, -1, -0.001, 0, 0.5, 1, 2, 256, 2**70]
    assert sorted(map(encode_key, values)) == [encode_key(v) for v in values]
    texts = sorted(["", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "é", "\U0001f600"])
    assert sorted(map(encode_key, texts)) == [encode_key(t) for t in texts]
    tuples = [("a",), ("a", "a"), ("a", "b"), ("a", "b", "c"), ("b",)]
    assert sorted(map(encode_key, tuples)) == [encode_key(t) for t in tuples]
    assert [decode_key(encode_key(v)) for v in values + texts] == values + texts
    assert encode_key(True) == encode_key(1) == encode_key(1.0)  # equal keys, as in a dict


# Round trips of each call, whatever the table holds (EVALSHA is one; the first call of a
# script on a fresh server also loads it).
BUDGET = {
    "insert": 1,
    "get": 1,
    "get_many": 1,
    "contains": 1,
    "update": 2,
    "remove": 2,
    "lookup": 1,
    "lookup_ids": 1,
    "ordered": 1,
    "ordered_slice": 1,
    "ordered_count": 1,
    "len": 1,
    "allocate_id": 1,
    "counter next": 1,
    "counter raise_to": 1,
    "document get": 1,
    "document put": 1,
    "log append": 1,
    "log get": 1,
    "log window": 1,
}


def measure(store, n):
    """Round trips per call, with ``n`` records in the table."""
    table = people(store)
    for i in range(n):
        table.insert({"email": f"p{i}@x.co", "city": "Oslo", "age": i})
    log = store.log("journal", 1000, 10**6)
    counters, docs = store.counters, store.documents
    victims = iter(range(2, n + 1))
    calls = {
        "insert": lambda: table.insert({"email": "new@x.co", "city": "Oslo", "age": 7}),
        "get": lambda: table.get(1),
        "get_many": lambda: table.get_many(range(1, 101)),
        "contains": lambda: table.contains(1),
        "update": lambda: table.update(1, {"city": "Rome", "age": 99}),
        "remove": lambda: table.remove([next(victims)]),
        "lookup": lambda: table.lookup("email", "p3@x.co"),
        "lookup_ids": lambda: table.lookup_ids("city", "Oslo"),
        "ordered": lambda: table.ordered("by_age", "Oslo", lo=5, limit=10),
        "ordered_slice": lambda: table.ordered_slice("by_age", "Oslo", 0, 10),
        "ordered_count": lambda: table.ordered_count("by_age", "Oslo", lo=5),
        "len": lambda: len(table),
        "allocate_id": table.allocate_id,
        "counter next": lambda: counters.next(("code", "o1")),
        "counter raise_to": lambda: counters.raise_to("n", 40),
        "document get": lambda: docs.get("config"),
        "document put": lambda: docs.put("config", {"k": [1]}),
        "log append": lambda: log.append({"n": 1}, size=10),
        "log get": lambda: log.get(1),
        "log window": lambda: log.window(after=0, before=5),
    }
    for call in calls.values():
        call()  # scripts loaded, connections made
    return {name: round_trips(call) for name, call in calls.items()}


def test_round_trips_per_call_are_fixed_and_do_not_grow_with_the_table(client, world):
    small = measure(Store(redis_engine.Engine(client, world + "a")), 10)
    large = measure(Store(redis_engine.Engine(client, world + "b")), 2000)
    assert small == large == BUDGET


def test_no_keys_scan_or_whole_hash_read_on_a_requests_path(client, world):
    store = Store(redis_engine.Engine(client, world))
    measure(store, 50)
    client.config_resetstat()
    measure(Store(redis_engine.Engine(client, world + "x")), 50)
    stats = client.info("commandstats")
    used = {name.removeprefix("cmdstat_").split("|")[0] for name in stats}
    assert used & {"keys", "scan", "hgetall", "hkeys", "hvals", "smembers", "sort"} == set()
    assert {"evalsha", "hget", "zrangebylex"} <= used


def test_a_hash_index_key_is_a_field_until_a_second_document_shares_it(client, world):
    """One id: the field of the index's hash holds it; two or more: "*" and a sorted set
    of the ids; back to one: the field again, the sorted set gone; none: no field."""
    store = Store(redis_engine.Engine(client, world))
    table = people(store)
    index = b"crmsim:{" + world.encode() + b"}:store:t:people:h:city"
    field = encode_key("Oslo")
    a = table.insert({"email": "a@x.co", "city": "Oslo", "age": 1})
    assert client.hget(index, field) == b"%d" % a and not client.exists(index + b":" + field)
    b = table.insert({"email": "b@x.co", "city": "Oslo", "age": 2})
    assert client.hget(index, field) == b"*"
    assert client.zrange(index + b":" + field, 0, -1) == [b"%d" % a, b"%d" % b]
    table.update(a, {"city": "Rome"})
    assert client.hget(index, field) == b"%d" % b and not client.exists(index + b":" + field)
    assert table.lookup_ids("city", "Oslo") == [b] and table.lookup_ids("city", "Rome") == [a]
    table.remove([b])
    assert client.hget(index, field) is None and table.lookup("city", "Oslo") == []


def filled(n):
    source = Store(TinyEngine())
    table = people(source)
    for i in range(n):
        table.insert({"email": f"p{i}@x.co", "city": "Oslo" if i % 2 else "Rome", "age": i % 50})
    return source, table


@pytest.mark.parametrize("load", [7, 1000])
def test_a_copy_into_redis_is_bulk_commands_whatever_the_batch(client, world, monkeypatch, load):
    """Documents, index keys and entries go ``LOAD`` to a command (7: a key the whole
    table shares takes many ``ZADD``s, and a group many)."""
    monkeypatch.setattr(redis_engine, "LOAD", load)
    source, table = filled(2500)
    target = Store(redis_engine.Engine(client, world))
    source.copy_to(target)
    copied = people(target)
    n = 2500
    assert copied.lookup_ids("city", "Rome") == list(range(1, n + 1, 2))
    assert copied.lookup_ids("email", "p2499@x.co") == [2500] and len(copied) == n
    assert copied.ordered("by_age", "Oslo", lo=49) == [(49, i) for i in range(50, n + 1, 50)]
    assert copied.ordered_count("by_age", "Rome") == n // 2
    assert copied.get_many([1, n, n + 1])[:2] == table.get_many([1, n])
    assert copied.insert({"city": "x", "age": 1}) == n + 1


def test_a_copy_into_redis_costs_round_trips_per_megabyte_not_per_record(client, world):
    trips = []
    for n in (500, 5000):
        source, _ = filled(n)
        source.copy_to(Store(redis_engine.Engine(client, world + "warm", f"s{n}")))
        target = Store(redis_engine.Engine(client, world, f"s{n}"))
        trips.append(round_trips(lambda s=source, t=target: s.copy_to(t)))
    # the emptiness check, the data (under 1 MB: one send), the id counter raised
    assert trips == [3, 3]


def dump_keys(client, prefix):
    """Every key under ``prefix`` with its type and contents."""
    found = {}
    for key in client.scan_iter(match=prefix + b"*"):
        kind = client.type(key)
        if kind == b"hash":
            value = client.hgetall(key)
        elif kind == b"zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = client.get(key)
        found[key.removeprefix(prefix)] = (kind, value)
    return found


def test_a_copy_leaves_redis_as_inserting_each_record_would(client, world):
    """Keys, types and contents alike, fields and sorted sets of the hash indexes
    included (some keys unique, some shared by two, some by many)."""
    rows = [
        {"email": f"p{i % 40}@x.co", "city": f"c{i % 3}" if i % 5 else f"u{i}", "age": i % 7}
        for i in range(120)
    ]
    one_by_one = Store(redis_engine.Engine(client, world, "a"))
    for row in rows:
        people(one_by_one).insert(row)
    people(one_by_one).remove([5, 6])
    source = Store(TinyEngine())
    for row in rows:
        people(source).insert(row)
    people(source).remove([5, 6])
    source.copy_to(Store(redis_engine.Engine(client, world, "b")))
    tag = b"crmsim:{" + world.encode() + b"}:"
    inserted, copied = dump_keys(client, tag + b"a:"), dump_keys(client, tag + b"b:")
    assert copied == inserted
    kinds = {(key.split(b":")[2], kind) for key, (kind, _) in copied.items()}
    assert kinds == {(b"d", b"hash"), (b"id", b"string")} | {
        (index, kind) for index in (b"h", b"o") for kind in (b"hash", b"zset")
    }
    cities = copied[b"t:people:h:city"][1]
    assert cities[encode_key("c1")] == b"*" and cities[encode_key("u0")] == b"1"


def test_a_load_failing_midway_keeps_what_was_sent_and_the_client_usable(
    client, world, monkeypatch
):
    monkeypatch.setattr(redis_engine, "LOAD", 1)
    monkeypatch.setattr(redis_engine, "SEND_COMMANDS", 1)
    source = Store(TinyEngine())
    table = source.table("t", indexes={"k": lambda d: [d["k"]]})
    for value in ("x", "y", {"a set"}):  # the memory engine keeps it; JSON cannot
        table.insert({"k": "k", "v": value})
    target = Store(redis_engine.Engine(client, world))
    dest = target.table("t", indexes={"k": lambda d: [d["k"]]})
    with pytest.raises(TypeError):
        source.copy_to(target)  # "y" was sent, its reply not read yet
    assert [r["v"] for r in dest] == ["x", "y"]
    assert client.ping() and dest.get(1) == {"k": "k", "v": "x"}


def test_truncate_drops_every_key_of_the_table_and_only_those(client, world):
    store = Store(redis_engine.Engine(client, world))
    table, other = people(store), store.table("other", indexes={"k": lambda d: [d["k"]]})
    for i in range(30):
        table.insert({"email": f"p{i}@x.co", "city": f"c{i % 3}", "age": i})
    other.insert({"k": "x"})
    table.truncate()
    assert [k for k in client.keys("*") if b":t:people:" in k] == []
    assert other.lookup_ids("k", "x") == [1] and len(other) == 1


def test_two_clients_share_a_world_and_concurrent_writes_are_neither_lost_nor_doubled(
    redis_url, client, world
):
    clients = [redis_engine.connect(redis_url) for _ in range(2)]
    try:
        stores = [Store(redis_engine.Engine(c, world)) for c in clients]
        tables = [people(s) for s in stores]
        doc_id = tables[0].insert({"email": "a@x.co", "city": "c0", "age": 0})
        made: list[int] = []
        numbers: list[int] = []
        errors: list[BaseException] = []
        rounds = 40

        def work(n):
            table, counters = tables[n % 2], stores[n % 2].counters
            try:
                for i in range(rounds):
                    # each thread its own field, everyone the indexed city: a merge that
                    # lost an update would lose a field, an unguarded index a key
                    table.update(doc_id, {f"t{n}": i, "city": f"c{(n + i) % 5}"})
                    made.append(table.insert({"email": f"{n}-{i}@x.co", "city": "x", "age": i}))
                    numbers.append(counters.next("number"))
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads) and errors == []
        doc = tables[1].get(doc_id)
        assert {f"t{n}": doc[f"t{n}"] for n in range(6)} == {f"t{n}": rounds - 1 for n in range(6)}
        assert sorted(made) == list(range(2, 2 + 6 * rounds))
        assert sorted(numbers) == list(range(1, 1 + 6 * rounds))
        cities = [c for c in (f"c{k}" for k in range(5)) if tables[0].lookup_ids("city", c)]
        assert cities == [doc["city"]] and tables[0].lookup_ids("city", doc["city"]) == [doc_id]
        assert tables[0].ordered("by_age", doc["city"]) == [(0, doc_id)]
    finally:
        for c in clients:
            c.close()


def test_an_insert_whose_key_function_fails_writes_nothing(client, world):
    store = Store(redis_engine.Engine(client, world))
    table = store.table("t", indexes={"k": lambda d: [d["k"]]}, ordered={"o": lambda d: []})
    with pytest.raises(KeyError):
        table.insert({"no k": 1})
    assert client.keys("*") == [] and len(table) == 0


def test_a_vendor_backend_runs_on_the_redis_engine_unchanged(client, world, monkeypatch):
    """BOTW's backend loads and dumps a state through the Redis engine as through TinyDB."""
    from simulator.vendors import _base
    from simulator.vendors.botw.models import BotwBackend

    def backend(engine):
        monkeypatch.setattr(_base, "Store", lambda: Store(engine))
        clock = Clock()
        return BotwBackend(Context(clock, Ids(1), Outbox(10, clock)))

    state = {
        "api_keys": {"k1": ["L1"]},
        "blacklist": {},
        "contacts": [
            {
                "contact_id": n,
                "listing_id": "L1",
                "first_name": f"Ann{n}",
                "last_name": "Lee",
                "email": f"ann{n}@x.co",
                "phone": f"+1 555 01{n:02d}",
                "created_date": "2024-01-01 10:00:00",
            }
            for n in range(1, 40)
        ],
    }
    on_redis = backend(redis_engine.Engine(client, world, "botw"))
    on_redis.load_state(state)
    from simulator.store.tiny import Engine as TinyEngine

    on_tiny = backend(TinyEngine())
    on_tiny.load_state(state)
    assert on_redis.dump_state() == on_tiny.dump_state()
    assert [r.doc_id for r in on_redis.contacts.lookup("name", ("L1", "ann7 lee"))] == [7]


def test_calls_fail_fast_while_redis_is_gone_and_the_same_engine_serves_again_after():
    """Calls fail at once while Redis is down (no retries: a retried write could land
    twice), and the same engine works again once a server answers on the address (its
    scripts load again: NOSCRIPT)."""
    import time

    from _redis import redis_server

    with redis_server() as url:
        client = redis_engine.connect(url, timeout=2)
        table = people(Store(redis_engine.Engine(client, "w", "botw")))
        assert table.insert({"email": "a@x.co", "city": "Oslo", "age": 1}) == 1
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            table.insert({"email": "b@x.co", "city": "Oslo", "age": 2})
        with pytest.raises(redis.ConnectionError):
            table.get(1)
        assert time.monotonic() - started < 2
        with redis_server(port=port):  # a fresh server (no persistence): empty
            assert table.get(1) is None
            assert table.insert({"email": "b@x.co", "city": "Oslo", "age": 2}) == 1
            assert table.lookup_ids("email", "b@x.co") == [1]
    finally:
        client.close()
