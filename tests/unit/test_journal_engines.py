"""The journal and the outbox on every store engine (issue 17): an entry read back decodes as
the one appended (raw bytes, truncated bodies, outcomes, datetimes), the bounds hold, and an
entry is amended through the store (``serve --shadow``'s drift), never through the dict
``append`` returned."""

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import redis
from helpers import wait_until

from simulator.clock import Clock
from simulator.journal import ENTRY_OVERHEAD, Log, Outbox, Outcome, Raw, outcomes_size, render
from simulator.shadow import Shadow
from simulator.store import Store
from simulator.store import redis as redis_engine
from simulator.store.memory import MemoryLog
from simulator.verify import matches_stored

AT = datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def journal(store):
    """A log as a world makes one: ``limit``, ``max_bytes``, then the engine's capped log."""
    return lambda limit=100, max_bytes=None: Log(limit, max_bytes, partial(store.log, "journal"))


def ids(entries):
    return [e["id"] for e in entries]


def realistic(keep=64):
    """A journal entry as ``pipeline.record`` builds it, with the awkward parts: a body that
    is not UTF-8, one cut at ``keep`` bytes in the middle of a character, a NUL in JSON,
    repeated query names, outcomes, violations and a fault."""
    body = json.dumps({"name": "Zoë\u0000", "items": [{"n": i} for i in range(20)]}).encode()
    sent = Raw(
        [("HTTP_X_API_KEY", "k"), ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", "9")],
        body,
        "application/json",
        "a=1&a=2&b=",
        True,
        keep=len(body),
    )
    answered = Raw(
        [("Content-Type", "text/plain; charset=latin-1"), ("X-Dup", "1"), ("X-Dup", "2")],
        b"caf\xe9 \xff\xfe \x00 ok",
        "text/plain",
    )
    return {
        "at": AT,
        "vendor": "antcrm",
        "operation": "antcrm.listener",
        "request": {"method": "POST", "path": "/listener/L1", "raw": sent},
        "response": {"status": 200, "raw": answered},
        "duration_ms": 1.234,
        "violations": [{"pointer": "/x", "message": "bad", "keyword": "type"}],
        "fault": "F1",
        "outcomes": [
            Outcome("add-contact", "created", "PID-1", None),
            Outcome(None, "ignored", None, "the item is not an object"),
        ],
    }


def truncated():
    """An entry whose request body was kept cut at 7 bytes (inside 'é'), with its hash."""
    data = "abcdeé".encode() * 50
    entry = realistic()
    entry["request"] = {
        "method": "PUT",
        "path": "/p",
        "raw": Raw([("HTTP_HOST", "h")], data, "application/json", "", True, keep=6),
    }
    entry["outcomes"] = None
    return entry, data


def size_of(entry):
    raw = entry["request"]["raw"], entry["response"]["raw"]
    return ENTRY_OVERHEAD + raw[0].size() + raw[1].size() + outcomes_size(entry["outcomes"])


# -- what is read back is what was appended ------------------------------------------------
def test_a_realistic_entry_renders_the_same_after_the_store(journal):
    log = journal()
    entry = realistic()
    expected = render({"id": 1, **entry, "_bytes": size_of(entry)})
    appended = log.append(entry, size_of(entry))
    assert appended["id"] == 1 and appended["request"]["raw"] is entry["request"]["raw"]
    assert log.get(1) == expected == [*log][0] == log.query(lambda e: True)[0]
    assert expected["at"] == "2024-06-01T12:30:15.123456Z"
    assert expected["request"]["query"] == {"a": ["1", "2"], "b": ""}
    assert expected["request"]["body"]["name"] == "Zoë\u0000"
    assert expected["response"]["body"] == "caf\ufffd \ufffd\ufffd \x00 ok"
    assert expected["response"]["headers"] == {
        "Content-Type": "text/plain; charset=latin-1",
        "X-Dup": "2",
    }
    assert expected["outcomes"][1] == {
        "item": 1,
        "actionType": None,
        "result": "ignored",
        "id": None,
        "detail": "the item is not an object",
    }
    assert log.bytes == size_of(entry)


def test_stored_entries_hold_raw_parts_and_outcomes_on_every_engine(journal):
    """What ``select`` hands out (to request patterns, to the shadow) has the same shape on
    every engine: ``Raw`` parts with their exact bytes, ``Outcome`` tuples, datetimes."""
    log = journal()
    entry = realistic()
    log.append(entry, 10)
    [stored] = log.select()
    for part in ("request", "response"):
        raw, original = stored[part]["raw"], entry[part]["raw"]
        assert isinstance(raw, Raw)
        assert (raw.headers, raw.data, raw.mimetype, raw.query) == (
            original.headers,
            original.data,
            original.mimetype,
            original.query,
        )
        assert (raw.environ_headers, raw.length, raw.sha256) == (
            original.environ_headers,
            original.length,
            original.sha256,
        )
    assert stored["outcomes"] == entry["outcomes"]
    assert all(isinstance(o, Outcome) for o in stored["outcomes"])
    assert stored["at"] == AT and stored["violations"] == entry["violations"]
    assert matches_stored({"method": "POST", "query": {"a": ["1", "2"]}}, stored)
    assert matches_stored({"headers": {"X-Api-Key": "k"}, "body": {"name": "Zoë\u0000"}}, stored)
    assert not matches_stored({"body": {"name": "Zoe"}}, stored)


def test_a_body_kept_truncated_keeps_its_length_hash_and_cut_bytes(journal):
    log = journal()
    entry, data = truncated()
    log.append(entry, size_of(entry))
    [stored] = log.select()
    raw = stored["request"]["raw"]
    assert raw.data == data[:6] and raw.data.endswith(b"\xc3")  # half of 'é'
    request = log.get(1)["request"]
    assert request["truncated"] is True and request["length"] == len(data) == 350
    assert request["sha256"] == hashlib.sha256(data).hexdigest()
    assert request["body"] == "abcde\ufffd…"


def test_an_entry_without_raw_parts_is_stored_as_given(journal):
    log = journal()
    log.append({"n": 1, "at": AT, "nested": {"l": [1, "x", None]}})
    assert log.get(1) == {
        "id": 1,
        "n": 1,
        "at": "2024-06-01T12:30:15.123456Z",
        "nested": {"l": [1, "x", None]},
    }


# -- bounds ---------------------------------------------------------------------------------
def test_the_bounds_hold_on_every_engine(journal):
    log = journal(limit=3, max_bytes=100)
    for n in range(5):
        log.append({"n": n}, 10)
    assert ids(log) == [3, 4, 5] and log.bytes == 30 and len(log) == 3
    log.append({"n": 5}, 85)  # one over the count, then 2 x 10 + 85 > 100: two go
    assert (ids(log), log.bytes) == ([5, 6], 95)
    log.append({"n": 6}, 500)  # alone over the bound: kept
    assert (ids(log), log.bytes) == ([7], 500)
    log.set_limit(10, max_bytes=1000)
    log.append({"n": 7}, 10)
    assert (ids(log), log.limit, log.max_bytes) == ([7, 8], 10, 1000)
    assert ids(log.select(after=7)) == [8] and ids(log.select(limit=1)) == [8]
    log.clear()
    assert (len(log), log.bytes, log.append({})["id"]) == (0, 0, 9)
    log.restart()
    assert log.append({})["id"] == 1


def test_realistic_entries_count_their_size_against_the_byte_bound(journal):
    entry = realistic()
    size = size_of(entry)
    log = journal(limit=100, max_bytes=3 * size)
    for _ in range(5):
        log.append(realistic(), size)
    assert ids(log) == [3, 4, 5] and log.bytes == 3 * size


def test_a_factory_is_called_on_first_use_with_the_bounds():
    made = []

    def make(limit, max_bytes):
        made.append((limit, max_bytes))
        return MemoryLog(limit, max_bytes)

    log = Log(7, 700, make)
    assert made == []
    log.append({"n": 1}, 10)
    log.append({"n": 2}, 10)
    assert made == [(7, 700)] and ids(log) == [1, 2] and log.bytes == 20


# -- amend -----------------------------------------------------------------------------------
def test_amend_writes_fields_through_the_store(journal):
    log = journal(limit=10, max_bytes=10_000)
    entry = realistic()
    returned = log.append({**entry, "shadow": "pending", "drift": None}, 100)
    held = log.select()[0]  # a reader's reference, rendered later
    drift = [{"kind": "status", "pointer": "/status", "real": 409, "crmsim": 201, "detail": "x"}]
    assert log.amend(1, {"shadow": "compared", "drift": drift}, size=150)
    got = log.get(1)
    assert (got["shadow"], got["drift"]) == ("compared", drift)
    assert got["request"] == render({"id": 1, **entry})["request"]  # the rest untouched
    assert log.bytes == 150 and log.select()[0]["_bytes"] == 150
    assert returned["shadow"] == held["shadow"] == "pending"  # a copy, or the old dict
    assert [*got][:4] == ["id", "at", "vendor", "operation"]  # the order kept
    assert log.amend(1, {"shadow": "again"})  # no size: it keeps counting 150
    assert log.bytes == 150 and log.get(1)["shadow"] == "again"


def test_amend_with_a_larger_size_evicts_what_no_longer_fits(journal):
    log = journal(limit=10, max_bytes=100)
    for n in range(3):
        log.append({"n": n}, 30)
    assert log.amend(3, {"big": True}, size=50)  # 30 + 30 + 50 > 100: the oldest goes
    assert (ids(log), log.bytes) == ([2, 3], 80)
    assert log.amend(2, {"n": 9}, size=0)  # counts nothing from now on
    assert (log.bytes, log.get(2)["n"]) == (50, 9)
    assert "_bytes" not in log.select()[0]


def test_amend_of_an_entry_not_kept_or_not_as_expected_changes_nothing(journal):
    log = journal(limit=2)
    for n in range(3):
        log.append({"n": n, "shadow": "pending", "at": AT})
    assert not log.amend(1, {"n": 99})  # evicted
    assert not log.amend(4, {"n": 99})  # not yet written
    assert not log.amend(3, {"n": 99}, expect={"shadow": "compared"})
    assert not log.amend(3, {"n": 99}, expect={"missing": None})
    assert log.amend(3, {"n": 99}, expect={"shadow": "pending", "at": AT})
    log.restart()
    log.append({"n": 0, "shadow": "pending", "at": AT + timedelta(seconds=1)})
    # the shadow's late result for the old entry 1 does not land on the new entry 1
    assert not log.amend(1, {"drift": []}, expect={"shadow": "pending", "at": AT})
    assert [e["n"] for e in log] == [0] and "drift" not in log.get(1)
    with pytest.raises(ValueError):
        log.amend(1, {"id": 7})
    with pytest.raises(ValueError):
        log.amend(1, {"_bytes": 7})


def test_amend_on_redis_is_two_round_trips_and_keeps_the_bytes_right(redis_url):
    class Counting(redis.Connection):
        sent = 0

        def send_packed_command(self, command, check_health=True):
            Counting.sent += 1
            return super().send_packed_command(command, check_health)

    pool = redis.ConnectionPool.from_url(redis_url, connection_class=Counting)
    client = redis.Redis(connection_pool=pool)
    try:
        store = Store(redis_engine.Engine(client, world=f"j-{uuid.uuid4().hex[:8]}"))
        log = store.log("journal", 10, 1000)
        for n in range(3):
            log.append({"n": n}, 100)
        log.amend(1, {"warm": 1})  # scripts loaded
        before = Counting.sent
        assert log.amend(2, {"x": "y" * 50}, size=400)
        assert Counting.sent - before == 2
        assert log.bytes == 600 and client.hget(log._meta, b"bytes") == b"600"
        # each stored entry starts with its size: eviction subtracts what it counts now
        assert [raw.split(b":", 1)[0] for raw in client.lrange(log._list, 0, -1)] == [
            b"100",
            b"400",
            b"100",
        ]
        log.set_limit(10, 500)
        assert [e["n"] for e in log.window()] == [1, 2] and log.bytes == 500
    finally:
        client.flushdb()
        client.close()
        pool.disconnect()


# -- serve --shadow settles its entries through the store ------------------------------------
class Real(BaseHTTPRequestHandler):
    """The "real vendor": a 409 with its own body, whatever is asked."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"status": "error", "x": 1}'
        self.send_response(409)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def real_vendor():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Real)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def botw_entry():
    sent = Raw(
        [("HTTP_X_API_KEY", "k")], b"email=a%40b.co", "application/x-www-form-urlencoded", "", True
    )
    answered = Raw(
        [("Content-Type", "application/json")], b'{"status": "success"}', "application/json"
    )
    return {
        "at": AT,
        "vendor": "botw",
        "operation": "botw.create_contact",
        "request": {"method": "POST", "path": "/crm/123", "raw": sent},
        "response": {"status": 201, "raw": answered},
        "duration_ms": 0.5,
        "violations": [],
        "fault": None,
        "outcomes": None,
    }


def test_the_shadows_drift_lands_in_the_stored_entry_on_every_engine(journal, real_vendor):
    log = journal(limit=10, max_bytes=100_000)
    world = SimpleNamespace(lock=threading.RLock(), journal=log)
    call = SimpleNamespace(
        vendor=SimpleNamespace(slug="botw"), fault=None, name="botw.create_contact", world=world
    )
    shadow = Shadow({"botw": real_vendor}, None, capacity=4, timeout=10)
    try:
        entry = botw_entry()
        shadow.mark(call, entry)  # as pipeline.record does, before the append
        assert (entry["shadow"], entry["drift"]) == ("pending", None)
        size = size_of(entry)
        appended = log.append(entry, size)
        assert log.get(1)["shadow"] == "pending"
        shadow.offer(call, appended)
        got = wait_until(
            lambda: (e := log.get(1))["shadow"] != "pending" and e, what="the comparison"
        )
        assert got["shadow"] == "compared"
        status = next(d for d in got["drift"] if d["kind"] == "status")
        assert (status["real"], status["crmsim"]) == (409, 201)
        drift_bytes = len(json.dumps(got["drift"]))
        assert log.bytes == size + drift_bytes  # the drift counts against the byte bound
        assert shadow.counts["compared"] == 1
        # a fault's answer is marked skipped with the entry and never queued
        faulted = {**botw_entry(), "fault": "F1"}
        shadow.mark(SimpleNamespace(**{**vars(call), "fault": "F1"}), faulted)
        shadow.offer(call, log.append(faulted, 10))
        assert log.get(2)["shadow"] == "skipped: a fault rule answered"
        assert shadow.counts["queued"] == 1 and shadow.counts["skipped"] == 1
    finally:
        shadow.close()


# -- the outbox --------------------------------------------------------------------------------
def test_the_outbox_on_every_engine(store):
    clock = Clock()
    clock.freeze(AT)
    outbox = Outbox(10, clock, 3000, partial(store.log, "outbox"))
    sent = outbox.send(
        "omoto", "survey-invite", email="a@b.co", info={"k": [1, None]}, stamp=("sent_at",)
    )
    assert sent["id"] == 1
    expected = {
        "id": 1,
        "at": "2024-06-01T12:30:15.123456Z",
        "vendor": "omoto",
        "kind": "survey-invite",
        "email": "a@b.co",
        "info": {"k": [1, None]},
        "sent_at": "2024-06-01T12:30:15.123456Z",
    }
    assert [*outbox] == [expected] and outbox.get(1) == expected
    first = outbox.bytes
    assert first > ENTRY_OVERHEAD
    for body in ("x" * 600, "y" * 600, "z" * 600):
        outbox.send("antcrm", "email", body=body)
    assert [e.get("body", "-")[0] for e in outbox] == ["y", "z"]  # 3,000 bytes hold two
    assert [e["kind"] for e in outbox.select(lambda e: e["vendor"] == "antcrm")] == ["email"] * 2
