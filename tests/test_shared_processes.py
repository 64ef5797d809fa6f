"""Shared worlds with real processes (issue 17): one ``redis-server`` and ``crmsim serve
--store redis://...`` processes, as a deployment runs them (docs/scale-out.md; the compose
file docs/scale-out.compose.yaml is this topology behind a proxy).

- the race: two crmsim processes with two workers each, 16 client threads per process of
  mixed writes on one BOTW listing and one AntCRM org; the final state, read through the
  other process, is what the acknowledged requests imply, in the journal's one order;
- failover: Redis killed mid-load and started again (empty), then paused (data kept):
  no 500, only the vendor's own 503, health degraded and back, nothing half-written;
- round trips: Redis commands per vendor request (``INFO commandstats``), the same at 10
  and at 1,000 stored records, and no KEYS/SCAN/HGETALL/SMEMBERS on a vendor request;
- the compose file linted, and its topology run as processes behind a round-robin proxy;
- a lease release that does not land (it carries the journal entry and the world's
  changes): the answer is a 503, not the success it computed, and the lease is given back.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import redis
import requests
from _redis import redis_server
from _serve import free_port, serving
from helpers import wait_until

LISTING = "100"
KEY = "K-shared"
AUTH = {"Authorization": f"Bearer {KEY}"}
LISTENER = "/antcrm/webhook/listener/wh-1"
SENDER = "owner@acme.vn"
BOTW_STATE = {"api_keys": {KEY: [LISTING]}}
ANTCRM_STATE = {
    "orgs": [{"org_id": "acme", "users": [SENDER], "sms_account_configured": True}],
    "listeners": [
        {
            "listener_id": "wh-1",
            "org_id": "acme",
            "default_tag": "webhook",
            "auto_email": {"enabled": True, "subject": "Welcome", "body": "Thanks!"},
        }
    ],
    "customers": [{"customerId": "PID-1", "org_id": "acme", "name": "Base", "tags": ["seed"]}],
}
# BOTW's own 503 (its transport errors keep its shape: docs/vendors/botw.md)
BOTW_503 = {"status": "error", "message": "Service Unavailable."}


def load_states(base: str) -> None:
    for vendor, state in (("botw", BOTW_STATE), ("antcrm", ANTCRM_STATE)):
        answer = requests.put(f"{base}/__sim/state/{vendor}", json=state, timeout=30)
        assert answer.status_code == 200, answer.text


def journal(base: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{base}/__sim/journal", timeout=60)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


# -- the race ------------------------------------------------------------------------------
THREADS = 16  # per process
REQUESTS = 30  # per thread
SHARED_EMAILS = [f"shared{k}@x.io" for k in range(3)]  # upserted by every thread


@dataclass
class Sent:
    marker: str  # X-Req: names the request in the journal
    thread: int
    op: str
    method: str
    path: str
    status: int
    body: Any
    params: dict[str, Any] = field(default_factory=dict)


class Client:
    """One thread's requests: each carries ``X-Req`` and is recorded with its answer."""

    def __init__(self, index: int, bases: tuple[str, str]) -> None:
        self.index = index
        self.home, self.other = bases
        self.session = requests.Session()
        self.sent: list[Sent] = []
        self.live: dict[str, str] = {}  # own email -> the last acknowledged last_name

    def send(self, op: str, method: str, path: str, base: str | None = None, **kw: Any) -> Sent:
        marker = f"{self.index}-{len(self.sent)}"
        headers = {"X-Req": marker, **kw.pop("headers", {})}
        answer = self.session.request(
            method, (base or self.home) + path, headers=headers, timeout=60, **kw
        )
        try:
            body = answer.json()
        except ValueError:
            body = answer.text
        params = kw.get("data") or kw.get("json") or kw.get("params") or {}
        sent = Sent(marker, self.index, op, method, path, answer.status_code, body, params)
        self.sent.append(sent)
        return sent

    def run(self, count: int) -> None:
        rng = random.Random(self.index)
        ops = ["create"] * 5 + ["dup", "upsert", "upsert", "update", "delete", "search"]
        ops += ["ant-add", "ant-add", "ant-dup", "ant-tag", "ant-tag", "ant-sms"]
        for i in range(count):
            op = rng.choice(ops)
            if op in ("update", "delete", "search") and not self.live:
                op = "create"
            getattr(self, "op_" + op.replace("-", "_"))(i, rng)

    # BOTW, on listing LISTING
    def op_create(self, i: int, rng: random.Random) -> None:
        email = f"u{self.index}-{i}@x.io"
        form = {"email": email, "first_name": f"F{self.index}-{i}", "last_name": "L0"}
        sent = self.send("create", "POST", f"/crm/{LISTING}", data=form, headers=AUTH)
        if sent.status == 201:
            self.live[email] = "L0"

    def op_dup(self, i: int, rng: random.Random) -> None:  # BW-CREATE-4: no duplicate check
        form = {"email": "dup@x.io", "first_name": f"D{self.index}-{i}"}
        self.send("dup", "POST", f"/crm/{LISTING}", data=form, headers=AUTH)

    def op_upsert(self, i: int, rng: random.Random) -> None:  # BW-PUT-3, colliding emails
        form = {"email": rng.choice(SHARED_EMAILS)}
        field_ = rng.choice(["first_name", "last_name"])  # a lost update loses one of them
        form[field_] = f"S{self.index}-{i}"
        self.send("upsert", "PUT", f"/crm/{LISTING}", data=form, headers=AUTH)

    def op_update(self, i: int, rng: random.Random) -> None:
        email = rng.choice(sorted(self.live))
        form = {"email": email, "last_name": f"L{i}"}
        sent = self.send("update", "PUT", f"/crm/{LISTING}", data=form, headers=AUTH)
        if sent.status == 200:
            self.live[email] = f"L{i}"

    def op_delete(self, i: int, rng: random.Random) -> None:
        email = rng.choice(sorted(self.live))
        sent = self.send("delete", "DELETE", f"/crm/{LISTING}", data={"email": email}, headers=AUTH)
        if sent.status == 202:
            del self.live[email]

    def op_search(self, i: int, rng: random.Random) -> None:
        """Through the other process: what this thread's process acknowledged is there."""
        email = rng.choice(sorted(self.live))
        sent = self.send(
            "search",
            "GET",
            f"/crm/{LISTING}",
            base=self.other,
            params={"email": email},
            headers=AUTH,
        )
        results = sent.body["data"]["results"] if sent.status == 200 else []
        assert [(r["contact_email"], r["contact_last_name"]) for r in results] == [
            (email, self.live[email])
        ], sent

    # AntCRM, on org acme
    def listener(self, op: str, items: list[dict[str, Any]]) -> None:
        self.send(op, "POST", LISTENER, json={"senderUser": SENDER, "data": items})

    def op_ant_add(self, i: int, rng: random.Random) -> None:
        data = {"name": f"N{self.index}-{i}", "emails": [{"value": f"a{self.index}-{i}@x.io"}]}
        self.listener("ant-add", [{"actionType": "add-contact", "data": data}])

    def op_ant_dup(self, i: int, rng: random.Random) -> None:  # AC-DUP-1: one record
        data = {"name": f"M{self.index}-{i}", "emails": [{"value": "antshared@x.io"}]}
        self.listener("ant-dup", [{"actionType": "add-contact", "data": data}])

    def op_ant_tag(self, i: int, rng: random.Random) -> None:  # tags add: none may be lost
        data = {"customerId": "PID-1", "tag": f"t{self.index}-{i}"}
        self.listener("ant-tag", [{"actionType": "update-contact", "data": data}])

    def op_ant_sms(self, i: int, rng: random.Random) -> None:  # one outbox SMS each
        data = {"content": f"c{self.index}-{i}", "phones": ["0905000001"]}
        self.listener("ant-sms", [{"actionType": "send-sms", "data": data}])


def run_clients(bases: list[str], threads: int, count: int) -> list[Client]:
    clients = [
        Client(p * threads + t, (bases[p], bases[1 - p]))
        for p in range(len(bases))
        for t in range(threads)
    ]
    errors: list[BaseException] = []

    def work(client: Client) -> None:
        try:
            client.run(count)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
        finally:
            client.session.close()

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 120
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(w.is_alive() for w in workers), "client threads still running after 120 s"
    if errors:
        raise errors[0]
    return clients


def botw_expected(entries: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """BOTW's contacts of the listing after the journal's acknowledged requests, in its
    order (BW-CREATE-4, BW-PUT-3, BW-PUT-4, BW-DEL-2), as (email, first, last) by creation."""
    contacts: list[dict[str, Any]] = []
    for entry in entries:
        if entry["vendor"] != "botw" or entry["response"]["status"] >= 300:
            continue
        method, form = entry["request"]["method"], entry["request"]["body"] or {}
        email = form.get("email")
        if method == "POST":
            contacts.append({"email": email, **_names(form)})
        elif method == "PUT":
            found = [c for c in contacts if c["email"] == email]
            if found:
                found[0].update({k: v for k, v in _names(form).items() if v})
            else:
                contacts.append({"email": email, **_names(form)})
        elif method == "DELETE":
            contacts = [c for c in contacts if c["email"] != email]
    return [(c["email"], c["first_name"], c["last_name"]) for c in contacts]


def _names(form: dict[str, Any]) -> dict[str, Any]:
    return {"first_name": form.get("first_name"), "last_name": form.get("last_name")}


def test_two_processes_race_on_one_listing_and_one_org() -> None:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server())
        bases = [
            stack.enter_context(serving("--store", url, "--workers", "2", "--seed", "7"))[0]
            for _ in range(2)
        ]
        load_states(bases[0])
        settings = requests.put(
            f"{bases[0]}/__sim/settings", json={"journal_limit": 10000}, timeout=30
        )
        assert settings.status_code == 200, settings.text

        started = time.monotonic()
        clients = run_clients(bases, THREADS, REQUESTS)
        elapsed = time.monotonic() - started
        sent = [s for c in clients for s in c.sent]
        assert len(sent) == 2 * THREADS * REQUESTS

        # every answer is one the vendor documents for these requests: no 5xx at all
        allowed = {"create": {201}, "dup": {201}, "upsert": {200, 201}, "update": {200}}
        allowed |= {"delete": {202}, "search": {200}}
        allowed |= {op: {200} for op in ("ant-add", "ant-dup", "ant-tag", "ant-sms")}
        wrong = [s for s in sent if s.status not in allowed[s.op]]
        assert not wrong, wrong[:5]

        # the journal, read through the other process: every request once, in one order
        entries = [e for e in journal(bases[1]) if e["vendor"] in ("botw", "antcrm")]
        assert len(entries) == len(sent)
        ids = [e["id"] for e in entries]
        assert ids == list(range(ids[0], ids[0] + len(ids))), "journal ids not consecutive"
        where = {e["request"]["headers"]["X-Req"]: e for e in entries}
        assert len(where) == len(sent), "a request journaled twice"
        for s in sent:  # the journal says what the client was told
            assert where[s.marker]["response"]["status"] == s.status, s
        for c in clients:  # a thread's requests in the order it sent them (real time)
            order = [where[s.marker]["id"] for s in c.sent]
            assert order == sorted(order), f"thread {c.index} out of order in the journal"

        state = requests.get(f"{bases[1]}/__sim/state", timeout=60).json()

        # BOTW: the state is the journal's acknowledged requests applied in its order
        contacts = sorted(state["botw"]["contacts"], key=lambda c: c["contact_id"])
        got = [(c["email"], c["first_name"], c["last_name"]) for c in contacts]
        assert got == botw_expected(entries)
        assert len({c["contact_id"] for c in contacts}) == len(contacts)
        assert len({c["unique_id"] for c in contacts}) == len(contacts)
        emails = Counter(e for e, _f, _l in got)
        for c in clients:
            for email, last in c.live.items():
                assert emails[email] == 1, email
                assert [g for g in got if g[0] == email][0][2] == last
        assert emails["dup@x.io"] == sum(1 for s in sent if s.op == "dup")
        upserted = {s.params["email"] for s in sent if s.op == "upsert"}
        for email in upserted:  # colliding upserts made one contact, one 201 among them
            assert emails[email] == 1, email
            assert (
                sum(
                    1
                    for s in sent
                    if s.op == "upsert" and s.params["email"] == email and s.status == 201
                )
                == 1
            )

        # AntCRM: one record per distinct email, no tag lost, the outbox exact
        customers = {c["customerId"]: c for c in state["antcrm"]["customers"]}
        created = [
            o["id"]
            for e in entries
            if e["vendor"] == "antcrm"
            for o in e["outcomes"] or []
            if o["result"] == "created"
        ]
        assert len(set(created)) == len(created)
        assert set(customers) == {"PID-1", *created}
        adds = [s for s in sent if s.op == "ant-add"]
        dups = [s for s in sent if s.op == "ant-dup"]
        by_email = Counter(em["value"] for c in customers.values() for em in c["emails"])
        for s in adds:
            assert by_email[s.params["data"][0]["data"]["emails"][0]["value"]] == 1
        if dups:
            assert by_email["antshared@x.io"] == 1
            (shared,) = [
                c
                for c in customers.values()
                if c["emails"][:1] == [{"type": None, "value": "antshared@x.io"}]
            ]
            kinds = Counter(h["type"] for h in shared["history"])
            assert kinds == {
                "created": 1,
                **({"duplicate": len(dups) - 1} if len(dups) > 1 else {}),
            }
        assert len(created) == len(adds) + min(1, len(dups))
        tags_in_order = [
            e["request"]["body"]["data"][0]["data"]["tag"]
            for e in entries
            if e["request"]["headers"]["X-Req"] in {s.marker for s in sent if s.op == "ant-tag"}
        ]
        assert customers["PID-1"]["tags"] == ["seed", *tags_in_order]

        outbox = requests.get(f"{bases[0]}/__sim/outbox", timeout=60).json()["entries"]
        out_ids = [o["id"] for o in outbox]
        assert out_ids == list(range(1, len(outbox) + 1))
        mails = sorted((o["to"], o["customerId"]) for o in outbox if o["kind"] == "email")
        assert mails == sorted((customers[c]["emails"][0]["value"], c) for c in created)
        sms = Counter(o["content"] for o in outbox if o["kind"] == "sms")
        assert sms == Counter(
            s.params["data"][0]["data"]["content"] for s in sent if s.op == "ant-sms"
        )
        assert len(outbox) == len(created) + sum(sms.values())

        print(f"race: {len(sent)} requests through 2 processes in {elapsed:.1f} s")


# -- failover ------------------------------------------------------------------------------
@dataclass
class Answer:
    n: int  # the how-manieth request of its thread
    email: str
    status: int
    body: Any
    retry_after: str | None
    seconds: float


class Load:
    """Client threads sending BOTW creates (each a new email) until stopped, bounded in
    count; every answer is kept, a transport error is a failure of the test."""

    def __init__(self, base: str, threads: int = 1, limit: int = 4000, name: str = "f") -> None:
        self.base = base
        self.name = name
        self.limit = limit
        self.answers: list[Answer] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)
        ]

    def __enter__(self) -> Load:
        for w in self._workers:
            w.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for w in self._workers:
            w.join(timeout=60)
        assert not any(w.is_alive() for w in self._workers), "load threads still running"

    def _run(self, thread: int) -> None:
        session = requests.Session()
        try:
            for n in range(self.limit):
                if self.stop.is_set():
                    return
                email = f"{self.name}{thread}-{n}@x.io"
                started = time.monotonic()
                answer = session.post(
                    f"{self.base}/crm/{LISTING}", data={"email": email}, headers=AUTH, timeout=60
                )
                try:
                    body = answer.json()
                except ValueError:
                    body = answer.text
                took = time.monotonic() - started
                retry = answer.headers.get("Retry-After")
                with self._lock:
                    self.answers.append(Answer(n, email, answer.status_code, body, retry, took))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.errors.append(e)
        finally:
            session.close()

    def mark(self) -> int:
        with self._lock:
            return len(self.answers)

    def since(self, mark: int, status: int) -> int:
        with self._lock:
            return sum(1 for a in self.answers[mark:] if a.status == status)

    def running(self) -> bool:
        if self.errors:
            raise self.errors[0]
        return True


def health(base: str) -> str:
    answer = requests.get(f"{base}/__sim/health", timeout=30)
    assert answer.status_code == 200, answer.text  # degraded is still 200
    status: str = answer.json()["status"]
    return status


def refused(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return False
    return True


def assert_vendor_answers(answers: list[Answer], allowed: set[int]) -> None:
    """No 500, nothing but ``allowed`` and BOTW's own 503 (with Retry-After)."""
    assert answers
    for a in answers:
        assert a.status in allowed | {503}, a
        if a.status == 503:
            assert a.body == BOTW_503 and a.retry_after == "1", a


def contact_emails(base: str) -> Counter[str]:
    answer = requests.get(f"{base}/__sim/state/botw", timeout=60)
    assert answer.status_code == 200, answer.text
    return Counter(c["email"] for c in answer.json()["contacts"])


def test_redis_killed_mid_load_then_restarted_empty() -> None:
    port = free_port()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server(port=port))
        base, _proc = stack.enter_context(serving("--store", url, "--workers", "2"))
        load_states(base)
        load = stack.enter_context(Load(base))
        wait_until(lambda: load.running() and load.since(0, 201) >= 20, 30, "20 creates")

        pid = redis.Redis.from_url(url).info("server")["process_id"]
        os.kill(pid, signal.SIGKILL)  # a crash: no shutdown, nothing saved
        killed = load.mark()
        wait_until(lambda: refused(port), 10, "the killed redis-server's port closed")
        wait_until(lambda: load.running() and load.since(killed, 503) >= 5, 30, "503s")
        assert health(base) == "degraded"
        problem = requests.get(f"{base}/__sim/namespaces", timeout=30)
        assert problem.status_code == 503, problem.text  # the control plane: a problem document
        assert problem.headers["Content-Type"].startswith("application/problem+json")
        assert problem.json()["title"] == "Store unavailable"

        restarted = load.mark()
        stack.enter_context(redis_server(port=port))  # the same port, empty
        # the world is gone with Redis's data: BOTW knows no key (403) until it is loaded
        wait_until(lambda: load.running() and load.since(restarted, 403) >= 3, 30, "403s")
        assert health(base) == "ok"
        before_reload = load.mark()
        load_states(base)
        reloaded = load.mark()
        wait_until(lambda: load.running() and load.since(reloaded, 201) >= 20, 30, "creates")
        load.stop.set()
    # every server and thread stopped: check what was answered
    answers = load.answers
    assert_vendor_answers(answers, {201, 403})
    assert all(a.status == 201 for a in answers[:killed])
    # (the request in flight at the kill may have been carried out before it)
    assert all(a.status != 201 for a in answers[killed + 1 : before_reload])
    assert any(a.status == 503 for a in answers[killed:restarted])


@pytest.mark.parametrize(
    "pause_ms",
    [
        pytest.param(2000, id="requests-wait"),
        # past the client's 5 s socket timeout (simulator.store.redis.connect): requests fail,
        # and a lease whose taking or giving back failed is given back (no 30 s wait)
        pytest.param(6500, id="requests-fail"),
    ],
)
def test_redis_paused_mid_load_nothing_half_written(pause_ms: int) -> None:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server())
        bases = [
            stack.enter_context(serving("--store", url, "--workers", "2"))[0] for _ in range(2)
        ]
        load_states(bases[0])
        loads = [
            stack.enter_context(Load(b, threads=3, name=f"p{i}-")) for i, b in enumerate(bases)
        ]
        wait_until(lambda: all(x.running() and x.since(0, 201) >= 10 for x in loads), 30, "creates")

        admin = redis.Redis.from_url(url)
        marks = [x.mark() for x in loads]
        admin.execute_command("CLIENT", "PAUSE", pause_ms, "ALL")  # every command waits
        wait_until(
            lambda: all(x.since(m, 201) >= 10 for x, m in zip(loads, marks, strict=True)),
            15,
            "creates after the pause",
        )
        for x in loads:
            x.stop.set()
        for x in loads:
            x.__exit__()
        emails = contact_emails(bases[1])
        entries = [e for e in journal(bases[0]) if e["vendor"] == "botw"]
        assert health(bases[0]) == "ok"
    answers = [a for x in loads for a in x.answers]
    assert_vendor_answers(answers, {201})
    assert max(a.seconds for a in answers) >= 1.5, "no request waited for the pause"
    if pause_ms > 5000:
        assert any(a.status == 503 for a in answers), "no request failed"
    acknowledged = {a.email for a in answers if a.status == 201}
    errored = {a.email for a in answers if a.status == 503}
    assert max(emails.values()) == 1, "a create landed twice"
    assert acknowledged <= set(emails), "an acknowledged create is missing"
    assert set(emails) <= acknowledged | errored, "a contact no request created"
    # the store and the journal agree on every acknowledged create; a request that timed out
    # (503: "may or may not have been carried out") may have landed without its journal
    # entry: its insert reached Redis before the pause, its journal append did not
    journaled = Counter(
        e["request"]["body"]["email"] for e in entries if e["response"]["status"] == 201
    )
    assert max(journaled.values()) == 1
    assert acknowledged == set(journaled)
    assert set(journaled) <= set(emails)
    assert set(emails) - set(journaled) <= errored
    if pause_ms < 5000:
        assert journaled == emails


# -- round trips ---------------------------------------------------------------------------
SEED = 11
REPEAT = 20  # requests of each operation per measurement
SIZES = (10, 1000)  # stored records per vendor
# never on a vendor request: whole-keyspace or whole-collection reads
WHOLE_READS = {"keys", "scan", "hgetall", "hkeys", "hvals", "smembers", "sscan", "hscan", "zscan"}


# the most round trips any hot operation takes today (AntCRM's add-contact: the lease,
# the listener's lookups, the insert, the outbox, the journal, the release); the issue aims
# at 4: docs/scale-out.md, "Round trips per vendor request (served)"
ROUND_TRIPS = 8


@dataclass
class Measured:
    round_trips: float  # per request
    commands: float  # per request, as Redis counts them (a script's commands included)
    top: dict[str, float]  # commands sent per request, by name (EVALSHA: a script)
    names: set[str]  # every command seen, sent or run by a script


class Sends:
    """What this process sends to Redis while ``on``: round trips (one per packed send: a
    command, a script call or a pipeline) and top-level commands by name."""

    def __init__(self) -> None:
        self.on = False
        self.round_trips = 0
        self.names: Counter[str] = Counter()


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Sends:
    from redis.connection import AbstractConnection

    found = Sends()
    send, one, many = (
        AbstractConnection.send_packed_command,
        AbstractConnection.send_command,
        AbstractConnection.pack_commands,
    )

    def count(name: Any) -> None:
        text = name.decode() if isinstance(name, bytes) else str(name)
        found.names[text.split()[0].lower()] += 1

    def counted_send(self: Any, command: Any, check_health: bool = True) -> None:
        if found.on:
            found.round_trips += 1
        send(self, command, check_health)

    def counted_one(self: Any, *args: Any, **kwargs: Any) -> None:
        if found.on:
            count(args[0])
        one(self, *args, **kwargs)

    def counted_many(self: Any, commands: Any) -> Any:
        if found.on:
            for command in commands:
                count(command[0])
        return many(self, commands)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted_send)
    monkeypatch.setattr(AbstractConnection, "send_command", counted_one)
    monkeypatch.setattr(AbstractConnection, "pack_commands", counted_many)
    return found


def hot_operations(size: int) -> dict[str, Any]:
    """Each hot operation as a function (test client, namespace prefix, n) -> status, and
    the state document of ``size`` records per vendor."""
    import base64

    from simulator.fake import credentials, fake_state

    creds = credentials(SEED)
    state = fake_state(SEED, size)
    botw = {"Authorization": f"Bearer {creds['botw']['api_key']}"}
    listing = creds["botw"]["listings"][0]
    contacts = [c for c in state["botw"]["contacts"] if c["listing_id"] == listing]
    numbers = [c["number"] for c in state["crmcom"]["contacts"]]
    basic = base64.b64encode(f"{creds['crmcom']['web_api_key']}:".encode()).decode()
    omoto_key = creds["omoto"]["campaigns"][0]["api_key"]
    ant = creds["antcrm"]
    crm = "/crmapi/rest/v2"
    tokens: dict[str, str] = {}

    def token(c: Any, ns: str) -> int:
        answer = c.post(
            f"{ns}{crm}/authentication/web_api_key/token",
            json={},
            headers={"Authorization": f"Basic {basic}"},
        )
        tokens[ns] = answer.json["data"]["token"]
        return answer.status_code  # type: ignore[no-any-return]

    def customer(n: int) -> list[dict[str, Any]]:
        info = {"firstname": "rt", "email": f"rt{n}@x.io", "transactionid": f"T{n}"}
        return [{"personalinfo": info, "qualifyinginfo": [{"name": "unit", "value": "x"}]}]

    def listener(n: int) -> dict[str, Any]:
        data = {"name": f"R{n}", "emails": [{"value": f"rt{n}@x.io"}], "passport": f"P{n}"}
        return {"senderUser": ant["sender"], "data": [{"actionType": "add-contact", "data": data}]}

    ops = {
        "BOTW create": lambda c, ns, n: (
            c.post(f"{ns}/crm/{listing}", data={"email": f"rt{n}@x.io"}, headers=botw).status_code
            == 201
        ),
        "BOTW search (email)": lambda c, ns, n: (
            c.get(
                f"{ns}/crm/{listing}",
                query_string={"email": contacts[n % len(contacts)]["email"]},
                headers=botw,
            ).status_code
            == 200
        ),
        "BOTW update (id)": lambda c, ns, n: (
            c.put(
                f"{ns}/crm/{listing}",
                data={"id": contacts[n % len(contacts)]["contact_id"], "first_name": f"U{n}"},
                headers=botw,
            ).status_code
            == 200
        ),
        "CRM.COM token": lambda c, ns, n: token(c, ns) == 200,
        "CRM.COM show": lambda c, ns, n: (
            c.get(
                f"{ns}{crm}/contact_information/show",
                query_string={
                    "token": tokens[ns],
                    "contact_information_identifier": f"number={numbers[n % len(numbers)]}",
                    "fields_set": "id,number,name",
                },
            ).json["status"]["code"]
            == "OK"
        ),
        "Omoto push": lambda c, ns, n: (
            c.post(
                f"{ns}/omoto/receivecustomerinfo.htm?key={omoto_key}", json=customer(n)
            ).status_code
            == 200
        ),
        "AntCRM add-contact (1 item)": lambda c, ns, n: (
            c.post(f"{ns}/antcrm/webhook/listener/{ant['listener_id']}", json=listener(n)).json
            == {"success": True}
        ),
    }
    return {"state": state, "ops": ops}


def test_round_trips_per_vendor_request_do_not_grow_with_the_records(sends: Sends) -> None:
    from simulator.app import create_app

    with redis_server() as url:
        admin = redis.Redis.from_url(url)
        app = create_app({"store": url})
        client = app.test_client()
        plans = {size: hot_operations(size) for size in SIZES}
        for size, plan in plans.items():
            answer = client.put(f"/__ns/s{size}/__sim/state", json=plan["state"])
            assert answer.status_code == 200, answer.text
        # a load deletes the replaced stores in the background (SCAN): let it finish first
        janitor = app.extensions["crmsim"].shared._janitor_thread
        if janitor is not None:
            wait_until(lambda: not janitor.is_alive(), 30, "the old stores deleted")

        measured: dict[tuple[str, int], Measured] = {}
        for size, plan in plans.items():
            ns = f"/__ns/s{size}"
            for name, op in plan["ops"].items():
                assert op(client, ns, 10_000), (name, size)  # warm: scripts loaded
                admin.config_resetstat()
                sends.round_trips, sends.names, sends.on = 0, Counter(), True
                try:
                    ok = [op(client, ns, 10_001 + n) for n in range(REPEAT)]
                finally:
                    sends.on = False
                assert all(ok), (name, size)
                stats = admin.info("commandstats")
                calls = Counter(
                    {
                        k.removeprefix("cmdstat_"): v["calls"]
                        for k, v in stats.items()
                        if k.removeprefix("cmdstat_").split("|")[0] not in ("info", "config")
                    }
                )
                measured[name, size] = Measured(
                    sends.round_trips / REPEAT,
                    sum(calls.values()) / REPEAT,
                    {k: v / REPEAT for k, v in sends.names.items()},
                    set(calls) | set(sends.names),
                )
    rows = []
    for name in plans[SIZES[0]]["ops"]:
        small, large = (measured[name, size] for size in SIZES)
        top = ", ".join(f"{k} {v:g}" for k, v in sorted(small.top.items()))
        rows.append(
            f"{name}: {small.round_trips:g} / {large.round_trips:g} round trips ({top}); "
            f"{small.commands:g} / {large.commands:g} commands"
        )
    print("\n".join(["per request, at 10 / at 1,000 records:", *rows]))
    for name in plans[SIZES[0]]["ops"]:
        small, large = (measured[name, size] for size in SIZES)
        assert not WHOLE_READS & (small.names | large.names), (name, small.names | large.names)
        assert large.round_trips == small.round_trips, name
        assert small.round_trips <= ROUND_TRIPS, name
        # an index key that other records share costs a ZREM where a lone one costs an HDEL
        # (simulator/store/redis.py): the count of records changes nothing else
        assert large.commands <= small.commands * 1.1 + 1, (name, small, large)


# -- the compose file, and its topology as processes ----------------------------------------
ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docs" / "scale-out.compose.yaml"


def test_the_compose_file_is_valid_and_names_only_what_exists() -> None:
    import dataclasses
    import shlex

    import click
    import yaml
    from compose_spec import PyCompose

    from simulator.cli import main
    from simulator.config import Config

    text = COMPOSE.read_text()
    PyCompose.from_yaml(text)  # the Compose specification: unknown keys, wrong types refused
    doc = yaml.safe_load(text)
    services = doc["services"]
    assert set(services) == {"redis", "crmsim-1", "crmsim-2", "proxy"}
    for name, service in services.items():
        for needed in service.get("depends_on", []):
            assert needed in services, (name, needed)
        image = service.get("image", "")
        assert ("build" in service) != bool(image), name
        if image:  # a pinned release line, never latest
            assert ":" in image and not image.endswith(":latest"), name

    # crmsim: built from the project's Dockerfile; its arguments are crmsim serve's options
    dockerfile = (ROOT / "Dockerfile").read_text()
    (entrypoint,) = re.findall(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M)
    serve_args = yaml.safe_load(entrypoint)
    assert serve_args[:2] == ["crmsim", "serve"]
    serve = cast(click.Group, main).commands["serve"]
    settings = {"CRMSIM_" + f.name.upper() for f in dataclasses.fields(Config)}
    for name in ("crmsim-1", "crmsim-2"):
        service = services[name]
        build = service["build"]
        assert (
            COMPOSE.parent / build["context"] / build["dockerfile"]
        ).resolve() == ROOT / "Dockerfile"
        args = service["command"]
        params = serve.make_context("serve", [*serve_args[2:], *args]).params
        assert params["store"] == "redis://redis:6379/0" and params["workers"] == 2
        assert params["port"] == 8080 and params["host"] == "0.0.0.0"
        assert set(service["environment"]) <= settings, service["environment"]
        # one token for both: each would make up its own otherwise (--generate-control-token)
        assert service["environment"]["CRMSIM_CONTROL_TOKEN"].startswith("${CRMSIM_CONTROL_TOKEN:?")
    assert services["crmsim-1"] == services["crmsim-2"]

    # redis: the address the crmsim use, without persistence
    assert services["redis"]["command"][0] == "redis-server"
    assert "6379" not in shlex.join(services["redis"]["command"])  # the default port

    # the proxy: its configuration beside this file, round robin over both crmsim
    (volume,) = services["proxy"]["volumes"]
    source, target, _mode = volume.split(":")
    assert target == "/usr/local/etc/haproxy/haproxy.cfg"  # where the haproxy image reads it
    cfg = (COMPOSE.parent / source).read_text()
    assert re.search(r"^\s*balance roundrobin$", cfg, re.M)
    servers = re.findall(r"^\s*server (\S+) (\S+):(\d+) check$", cfg, re.M)
    assert servers == [("crmsim-1", "crmsim-1", "8080"), ("crmsim-2", "crmsim-2", "8080")]
    (check,) = re.findall(r"^\s*option httpchk GET (\S+)$", cfg, re.M)
    assert check == "/__sim/health"
    (bind,) = re.findall(r"^\s*bind :(\d+)$", cfg, re.M)
    assert services["proxy"]["ports"] == [f"{bind}:{bind}"]


class RoundRobin:
    """The compose file's proxy as a thread: each request to the next crmsim in turn, its
    answer passed back with ``X-Served-By`` (the backend's index)."""

    def __init__(self, backends: list[str]) -> None:
        import http.server

        turn = itertools.count()
        session = requests.Session()
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes

            def forward(self) -> None:
                with lock:
                    index = next(turn) % len(backends)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = session.request(
                    self.command,
                    backends[index] + self.path,
                    data=body,
                    headers=headers,
                    timeout=60,
                )
                self.send_response(answer.status_code)
                for k, v in answer.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("X-Served-By", str(index))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RoundRobin:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def test_the_compose_topology_as_processes() -> None:
    """redis-server, two ``crmsim serve --store ... --workers 2``, a round-robin proxy: each
    contact created through one crmsim is found by the next request, through the other."""
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server())
        bases = [
            stack.enter_context(serving("--store", url, "--workers", "2"))[0] for _ in range(2)
        ]
        proxy = stack.enter_context(RoundRobin(bases)).base
        load_states(proxy)
        session = stack.enter_context(requests.Session())
        served = Counter()
        for n in range(40):
            email = f"rr{n}@x.io"
            made = session.post(f"{proxy}/crm/{LISTING}", data={"email": email}, headers=AUTH)
            found = session.get(f"{proxy}/crm/{LISTING}", params={"email": email}, headers=AUTH)
            assert (made.status_code, found.status_code) == (201, 200), (made.text, found.text)
            assert made.headers["X-Served-By"] != found.headers["X-Served-By"]
            assert [r["contact_email"] for r in found.json()["data"]["results"]] == [email]
            served.update([made.headers["X-Served-By"], found.headers["X-Served-By"]])
        assert served == {"0": 40, "1": 40}
        assert health(proxy) == "ok"
        assert len(contact_emails(proxy)) == 40


# -- a release that does not land ----------------------------------------------------------
class LostReleases:
    """The shared store's lease release fails ``count`` times as Redis not answering would
    (the script never runs: the lease stays taken, the journal entry and the world's
    changes it carries are not written)."""

    def __init__(self, app: Any, count: int = 1) -> None:
        self.namespaces = app.extensions["crmsim"].shared
        self.release = self.namespaces.release
        self.count = count

    def __enter__(self) -> LostReleases:
        def release(**kw: Any) -> Any:
            if self.count > 0:
                self.count -= 1
                raise redis.TimeoutError("Timeout reading from socket")
            return self.release(**kw)

        self.namespaces.release = release
        return self

    def __exit__(self, *exc: object) -> None:
        self.namespaces.release = self.release


def test_a_vendor_answer_whose_release_failed_is_a_503_and_the_lease_is_given_back() -> None:
    from simulator.app import create_app

    with redis_server() as url:
        app = create_app({"store": url})
        client = app.test_client()
        load_states_client(client)
        with LostReleases(app):
            lost = client.post(f"/crm/{LISTING}", data={"email": "lost@x.io"}, headers=AUTH)
        assert (lost.status_code, lost.json) == (503, BOTW_503)  # not the 201 it computed
        assert lost.headers["Retry-After"] == "1"
        started = time.monotonic()
        made = client.post(f"/crm/{LISTING}", data={"email": "next@x.io"}, headers=AUTH)
        assert made.status_code == 201
        assert time.monotonic() - started < 5, "waited for the lost release's lease"
        # the 503 said "may or may not": the insert landed, the journal entry did not
        entries = client.get("/__sim/journal").json["entries"]
        assert [e["request"]["body"]["email"] for e in entries] == ["next@x.io"]


def test_a_control_write_whose_release_failed_is_a_503_and_did_not_happen() -> None:
    from simulator.app import create_app

    with redis_server() as url:
        app = create_app({"store": url})
        client = app.test_client()
        assert client.get("/__sim/clock").json["frozen"] is False
        with LostReleases(app):
            lost = client.put("/__sim/clock", json={"now": "2024-06-01T12:00:00Z"})
        assert lost.status_code == 503
        assert lost.mimetype == "application/problem+json"
        assert lost.json["title"] == "Store unavailable"
        started = time.monotonic()
        assert client.get("/__sim/clock").json["frozen"] is False  # as the 503 allows
        assert time.monotonic() - started < 5, "waited for the lost release's lease"
        frozen = client.put("/__sim/clock", json={"now": "2024-06-01T12:00:00Z"})
        assert frozen.status_code == 200
        assert client.get("/__sim/clock").json == {"now": "2024-06-01T12:00:00Z", "frozen": True}


def load_states_client(client: Any) -> None:
    for vendor, state in (("botw", BOTW_STATE), ("antcrm", ANTCRM_STATE)):
        answer = client.put(f"/__sim/state/{vendor}", json=state)
        assert answer.status_code == 200, answer.text
