"""Backends of one vendor over one store (issue 17, shared worlds): ``dump_config`` and
``load_config`` carry what a backend holds outside its store, and whatever a vendor request
changes lives in the store, so backend objects built over one store (one per process of a
shared world) dump the same state, answer the same, and see each other's writes.

Every test runs on the memory engine (the backends share one ``Store``) and on Redis (each
backend gets a ``Store`` and an engine of its own over the same keys, as two processes do).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.clock import Clock, Ids
from simulator.errors import VendorError
from simulator.fake import fake_state
from simulator.journal import Outbox
from simulator.store import Store
from simulator.store import redis as redis_engine
from simulator.store.tiny import Engine as TinyEngine
from simulator.vendors import VENDORS, _base
from simulator.vendors.antcrm.fake import credentials as antcrm_credentials
from simulator.vendors.botw import errors as botw_errors
from simulator.vendors.botw import parsing as botw
from simulator.vendors.botw.fake import credentials as botw_credentials
from simulator.vendors.crmcom import parsing as crmcom
from simulator.vendors.crmcom.fake import credentials as crmcom_credentials
from simulator.vendors.omoto import parsing as omoto
from simulator.vendors.omoto.fake import credentials as omoto_credentials

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SEED = 7
SIZE = 40


class Worlds:
    """Builds backends over stores named by (world, vendor): ``backend(slug, world)`` is a
    new backend object over that store, with a context of its own on the test's clock."""

    def __init__(self, engine: str, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
        self.engine = engine
        self.monkeypatch = monkeypatch
        self.client = client
        self.prefix = uuid.uuid4().hex[:8]
        self.clock = Clock()
        self.clock.freeze(T0)
        self._tiny: dict[tuple[str, str], Store] = {}

    def store(self, world: str, slug: str) -> Store:
        if self.engine == "tiny":
            key = (world, slug)
            if key not in self._tiny:
                self._tiny[key] = Store(TinyEngine())
            return self._tiny[key]
        return Store(redis_engine.Engine(self.client, f"{self.prefix}-{world}", slug))

    def backend(self, slug: str, world: str = "w", seed: int = SEED) -> Any:
        store = self.store(world, slug)
        ctx = _base.Context(self.clock, Ids(seed), Outbox(1000, self.clock))
        with self.monkeypatch.context() as m:
            m.setattr(_base, "Store", lambda: store)
            return VENDORS[slug].new_backend(ctx)

    def loaded(self, slug: str, doc: dict[str, Any], world: str = "w") -> Any:
        backend = self.backend(slug, world)
        backend.load_state(doc)
        backend.loaded = True
        return backend

    def beside(self, first: Any, slug: str, world: str = "w", seed: int = SEED + 1) -> Any:
        """A fresh backend over ``first``'s store, configured from ``first`` through JSON."""
        second = self.backend(slug, world, seed)
        second.load_config(json.loads(json.dumps(first.dump_config())))
        return second


@pytest.fixture(params=["tiny", "redis"])
def worlds(request, monkeypatch):
    if request.param == "tiny":
        yield Worlds("tiny", monkeypatch, None)
        return
    client = redis_engine.connect(request.getfixturevalue("redis_url"))
    try:
        yield Worlds("redis", monkeypatch, client)
    finally:
        client.flushdb()
        client.close()


# -- each vendor's fake state, with the configuration fake.py leaves at its defaults ------
def state_of(slug: str, size: int = SIZE) -> dict[str, Any]:
    doc = fake_state(SEED, size, [slug])[slug]
    if slug == "botw":
        doc["blacklist"] = {"1001": {"emails": ["Blocked@X.co"], "phones": ["+1 555 0100"]}}
    elif slug == "omoto":
        doc["response_endpoints"] = ["endpoint", "acme"]
    elif slug == "crmcom":
        doc["token_ttl_seconds"] = 600
        doc["uniqueness_fields"] = ["passport_number", "vat_registration_number"]
    elif slug == "antcrm":
        doc["listeners"][0]["allowed_ips"] = ["10.0.0.0/8", "127.0.0.1"]
        doc["listeners"][0]["auto_sms"] = {"enabled": True, "content": "Hi"}
    return doc


def outcome(call: Any) -> Any:
    """What a backend call answers: its result, or the vendor error it raises."""
    try:
        return ("ok", call())
    except VendorError as exc:
        return ("error", type(exc).__name__, str(exc))


# -- a run of operations per vendor, errors included --------------------------------------
def botw_ops(api: Any, clock: Clock) -> list[Any]:
    key = botw_credentials(SEED)["api_key"]
    contact = botw.create_contact({"first_name": "Ann", "email": "ann@x.co", "phone": "5551234"})
    blocked = botw.create_contact({"email": "blocked@x.co"})
    return [
        outcome(lambda: api.authorize(key, "1001")),
        outcome(lambda: api.authorize(key, "9999")),
        outcome(lambda: api.authorize("nope", "1001")),
        outcome(lambda: api.create_contact("1001", contact, "10.0.0.1")),
        outcome(lambda: api.create_contact("1001", blocked, None)),
        outcome(lambda: api.search_contacts("1001", botw.search_contacts({"email": "ANN@x.co"}))),
        outcome(
            lambda: api.update_contact(
                "1001", botw.update_contact({"email": "ann@x.co", "last_name": "Lee"}), None
            )
        ),
        outcome(lambda: api.search_contacts("1001", botw.search_contacts({"name": "ann lee"}))),
        outcome(lambda: api.delete_contact("1001", botw.delete_contact({"phone": "5551234"}))),
        outcome(lambda: api.search_contacts("1001", botw.search_contacts({"phone": "5551234"}))),
    ]


def omoto_ops(api: Any, clock: Clock) -> list[Any]:
    key = omoto_credentials(SEED)["campaigns"][0]["api_key"]
    header = {"processid": "76"}
    body = {"campaignid": "154", "npsrating": "9", "comment": "Good"}
    invitees = omoto.receive_customer_info([{"personalinfo": {"email": "a@x.co"}}])
    return [
        [api.has_endpoint(e) for e in ("endpoint", "acme", "receivecustomerinfo", "other")],
        outcome(lambda: api.authorize(key)["campaign_id"]),
        outcome(lambda: api.authorize("nope")),
        outcome(lambda: api.push_response("acme", key, omoto.push_response(header, body))),
        outcome(lambda: api.receive_customer_info(key, invitees)),
        [dict(e) for e in api.ctx.outbox],
    ]


def crmcom_ops(api: Any, clock: Clock) -> list[Any]:
    creds = crmcom_credentials(SEED)
    login = crmcom.Login(creds["username"], creds["password"], creds["organisation"], None)
    wrong = crmcom.Login(creds["username"], "wrong", creds["organisation"], None)
    create = crmcom.create_contact_information(
        {"type": "PERSON", "first_name": "Ann", "last_name": "Lee"}
    )
    twin = crmcom.create_contact_information(
        {
            "type": "PERSON",
            "first_name": "B",
            "last_name": "C",
            "demographics": {"passport_number": "X000000001"},
        }
    )

    def pending(identifier: str) -> Any:
        query = {
            "provisioning_provider_identifier": identifier,
            "number_of_results": "5",
            "offset": "1",
        }
        return api.get_pending_provisioning_requests(
            crmcom.get_pending_provisioning_requests(query)
        )

    clock.freeze(T0)
    token = api.authenticate(login)
    out = [
        token,
        outcome(lambda: api.authenticate(wrong)),
        outcome(lambda: api.authenticate_web_api_key(crmcom.KeyLogin(creds["web_api_key"], None))),
        outcome(lambda: api.authenticate_web_api_key(crmcom.KeyLogin("nope", None))),
        outcome(lambda: api.authorize(token)),
        outcome(lambda: api.create_contact_information(create)),
        outcome(lambda: api.create_contact_information(twin)),
        outcome(lambda: pending("id=PROV1")),
        outcome(lambda: pending("alternative_code=GP2")),
        outcome(lambda: pending("name=nobody")),
    ]
    clock.freeze(T0 + timedelta(seconds=601))  # past the loaded token_ttl_seconds
    out.append(outcome(lambda: api.authorize(token)))
    clock.freeze(T0)
    return out


def antcrm_ops(api: Any, clock: Clock) -> list[Any]:
    creds = antcrm_credentials(SEED)

    def send(ip: str | None, sender: str, *items: Any, listener: str = creds["listener_id"]) -> Any:
        document = {"senderUser": sender, "data": list(items)}
        return outcome(lambda: api.listener(listener_id=listener, client_ip=ip, document=document))

    add = {
        "actionType": "add-contact",
        "data": {"name": "Ann", "emails": ["ann@x.co"], "phones": ["0901"], "stage": "won"},
    }
    deal = {"actionType": "add-deal", "data": {"name": "D", "stage": "WON", "currency": "usd"}}
    sms = {"actionType": "send-sms", "data": {"content": "C", "phones": ["1", "2", "3", "4"]}}
    return [
        send("10.1.2.3", creds["sender"].upper(), add, deal),
        send("10.1.2.3", creds["sender"], add),
        send("192.168.0.1", creds["sender"], add),
        send("127.0.0.1", "stranger@x.co", add),
        send("127.0.0.1", creds["sender"], add, listener="nope"),
        send("127.0.0.1", creds["sender"], sms, sms),
        [dict(e) for e in api.ctx.outbox],
    ]


OPS = {"botw": botw_ops, "omoto": omoto_ops, "crmcom": crmcom_ops, "antcrm": antcrm_ops}
VENDOR_SLUGS = list(OPS)


# -- the contract: a configured fresh backend is the loaded one --------------------------
@pytest.mark.parametrize("slug", VENDOR_SLUGS)
def test_a_fresh_backend_given_the_config_dumps_the_same_state(worlds, slug):
    first = worlds.loaded(slug, state_of(slug))
    config = first.dump_config()
    assert json.loads(json.dumps(config)) == config
    assert config["loaded"] is True
    second = worlds.beside(first, slug)
    assert second.dump_state() == first.dump_state()
    assert second.dump_config() == config
    assert second.loaded is True


@pytest.mark.parametrize("slug", VENDOR_SLUGS)
def test_an_unloaded_backends_config_gives_an_empty_backend(worlds, slug):
    empty = worlds.backend(slug)
    second = worlds.beside(empty, slug)
    assert second.loaded is False
    assert second.dump_state() == empty.dump_state()


@pytest.mark.parametrize("slug", VENDOR_SLUGS)
def test_a_configured_backend_answers_every_operation_as_the_loaded_one(worlds, slug):
    """The same operations, from the same seed and instant, through a backend loaded from
    the state (world a) and through a fresh one configured beside a loaded one (world b):
    the same answers, errors, side effects and final state."""
    doc = state_of(slug)
    direct = worlds.loaded(slug, doc, world="a")
    configured = worlds.beside(worlds.loaded(slug, doc, world="b"), slug, world="b")
    direct.ctx.ids = Ids(SEED)
    configured.ctx.ids = Ids(SEED)
    expected = OPS[slug](direct, worlds.clock)
    assert OPS[slug](configured, worlds.clock) == expected
    assert any(o[0] == "error" for o in expected if isinstance(o, tuple))
    assert configured.dump_state() == direct.dump_state()


# -- writes through one backend object, seen through another -----------------------------
def test_botw_contacts_written_through_one_backend_are_found_through_the_other(worlds):
    b1 = worlds.loaded("botw", state_of("botw"))
    b2 = worlds.beside(b1, "botw")
    contact = botw.create_contact({"first_name": "Zed", "email": "zed@x.co"})
    created = b1.create_contact("1002", contact, None)
    [found] = b2.search_contacts("1002", botw.search_contacts({"email": "zed@x.co"}))
    assert found["contact_id"] == created
    assert b2.create_contact("1002", contact, None) == created + 1  # ids shared
    b2.update_contact("1002", botw.update_contact({"id": str(created), "last_name": "Q"}), None)
    assert b1.search_contacts("1002", botw.search_contacts({"name": "zed q"}))[0]["contact_id"] == (
        created
    )
    assert b1.delete_contact("1002", botw.delete_contact({"email": "zed@x.co"})) == 2
    with pytest.raises(botw_errors.NoContactsFound):
        b2.search_contacts("1002", botw.search_contacts({"email": "zed@x.co"}))
    assert b1.dump_state() == b2.dump_state()


def test_omoto_responses_pushed_through_either_backend_share_ids(worlds):
    b1 = worlds.loaded("omoto", state_of("omoto"))
    b2 = worlds.beside(b1, "omoto")
    key = omoto_credentials(SEED)["campaigns"][1]["api_key"]
    response = omoto.push_response({"processid": 76}, {"campaignid": "155", "npsrating": 3})
    first = b1.push_response("acme", key, response)
    second = b2.push_response("endpoint", key, response)
    assert (first, second) == (SIZE + 1, SIZE + 2)
    assert [r["endpoint"] for r in b1.dump_state()["responses"][-2:]] == ["acme", "endpoint"]
    assert b1.dump_state() == b2.dump_state()


def pending_numbers(api: Any, provider: str = "PROV1", size: int = 50) -> list[str]:
    query = {
        "provisioning_provider_identifier": f"id={provider}",
        "number_of_results": str(size),
        "offset": "0",
    }
    data = api.get_pending_provisioning_requests(crmcom.get_pending_provisioning_requests(query))
    return [
        r["number"]
        for group in data["subscriptions_set"]
        for r in group["pending_provisioning_requests_set"]
    ]


def test_crmcom_contacts_tokens_and_numbers_are_shared(worlds):
    b1 = worlds.loaded("crmcom", state_of("crmcom"))
    b2 = worlds.beside(b1, "crmcom")
    before = pending_numbers(b2)  # b2 has its get_pending cache now
    assert before
    creds = crmcom_credentials(SEED)
    token = b1.authenticate(
        crmcom.Login(creds["username"], creds["password"], creds["organisation"], None)
    )
    assert b2.authorize(token)["username"] == creds["username"]
    create = crmcom.create_contact_information(
        {"type": "COMPANY", "company_name": "Acme", "vat_registration_number": "VAT1"}
    )
    made = b1.create_contact_information(create)
    assert made["number"] == f"CI{SIZE + 1:06d}"
    shown = b2.show_contact_information(
        crmcom.show_contact_information({"contact_information_identifier": "number=CI000041"})
    )
    assert shown["id"] == made["id"]
    # the uniqueness check of b2 sees b1's contact; b2's next number follows b1's
    with pytest.raises(VendorError, match="vat_registration_number"):
        b2.create_contact_information(create)
    other = crmcom.create_contact_information({"type": "COMPANY", "company_name": "Other"})
    assert b2.create_contact_information(other)["number"] == f"CI{SIZE + 2:06d}"
    b2.release_token(token)
    with pytest.raises(VendorError, match="released"):
        b1.authorize(token)
    assert pending_numbers(b2) == before
    assert b1.dump_state() == b2.dump_state()


def test_crmcom_get_pending_cache_follows_requests_written_through_another_backend(worlds):
    """b2 cached the pending list; the store is emptied and loaded again with other
    requests through another backend object (another process's state load): b2's next
    page is the new one, not its cache."""
    b1 = worlds.loaded("crmcom", state_of("crmcom"))
    b2 = worlds.beside(b1, "crmcom")
    old = pending_numbers(b2)
    assert pending_numbers(b2) == old  # served from the cache
    b3 = worlds.backend("crmcom")
    for table in (b3.tokens, b3.contacts, b3.requests):
        table.truncate()
    doc = state_of("crmcom", size=12)
    b3.load_state(doc)
    reference = worlds.loaded("crmcom", doc, world="reference")
    expected = pending_numbers(reference)
    assert expected != old
    assert pending_numbers(b2) == expected
    # and when the clock moves on, b2's list moves from the new version
    worlds.clock.freeze(T0 + timedelta(days=8))
    assert pending_numbers(b2) == pending_numbers(reference) == []


def test_crmcom_get_pending_cache_follows_a_request_changed_through_another_backend(worlds):
    b1 = worlds.loaded("crmcom", state_of("crmcom"))
    b2 = worlds.beside(b1, "crmcom")
    old = pending_numbers(b2)
    [doc_id] = [r.doc_id for r in b1.requests if r["number"] == old[0]]
    b1.requests.update(doc_id, {"life_cycle_state": "COMPLETED"})
    b1._requests_changed()  # what every write to the requests table does
    now = pending_numbers(b2)
    assert now == pending_numbers(b1)
    assert old[0] not in now and now[: len(old) - 1] == old[1:]


def test_antcrm_codes_duplicates_and_trial_sms_are_shared(worlds):
    creds = antcrm_credentials(SEED)
    b1 = worlds.loaded("antcrm", state_of("antcrm"))
    b2 = worlds.beside(b1, "antcrm")

    def send(api: Any, *items: Any) -> list[Any]:
        document = {"senderUser": creds["sender"], "data": list(items)}
        return api.listener(
            listener_id=creds["listener_id"], client_ip="127.0.0.1", document=document
        )

    add = {"actionType": "add-contact", "data": {"name": "Ann", "emails": ["ann@x.co"]}}
    [created] = send(b1, add)
    assert created.result == "created"
    [duplicate] = send(b2, add)
    assert (duplicate.result, duplicate.id) == ("duplicate", created.id)
    other = {"actionType": "add-contact", "data": {"name": "Bob", "emails": ["bob@x.co"]}}
    [second] = send(b2, other)
    assert code_number(second.id) == code_number(created.id) + 1
    # the fake org has 5 trial SMS: three through each backend, five sent in all
    sms = {"actionType": "send-sms", "data": {"content": "C", "phones": ["1", "2", "3"]}}
    [first_sms] = send(b1, sms)
    [second_sms] = send(b2, sms)
    assert (first_sms.detail, second_sms.detail) == ("3 of 3 SMS sent", "2 of 3 SMS sent")
    [none] = send(b1, sms)
    assert none.result == "ignored"
    assert [o["trial_sms_remaining"] for o in b1.dump_state()["orgs"]] == [0]
    assert b1.dump_state() == b2.dump_state()
    # what was loaded stays the configuration: a third backend counts from the store
    b3 = worlds.beside(b2, "antcrm")
    assert b3.dump_config()["orgs"][0]["trial_sms_remaining"] == 5
    assert b3.dump_state() == b1.dump_state()


def code_number(code: str) -> int:
    return int(code.partition("-")[2])


def test_crmcom_get_pending_pages_are_kept_per_version_of_the_requests(worlds):
    """A page is answered again from what b2 kept while the requests stay at one version;
    the same requests (same rows, same order) loaded again with other content through
    another backend give b2 the new page, though its rows are the same ones."""
    b1 = worlds.loaded("crmcom", state_of("crmcom"))
    b2 = worlds.beside(b1, "crmcom")
    query = crmcom.get_pending_provisioning_requests(
        {"provisioning_provider_identifier": "id=PROV1", "number_of_results": "50", "offset": "0"}
    )
    first = b2.get_pending_provisioning_requests(query)
    assert b2.get_pending_provisioning_requests(query) is first  # kept, not read again
    numbers = pending_numbers(b2)
    assert numbers
    doc = state_of("crmcom")
    for r in doc["provisioning_requests"]:
        r["number"] = r["number"] + "-NEW"
    b3 = worlds.backend("crmcom")
    for table in (b3.tokens, b3.contacts, b3.requests):
        table.truncate()
    b3.load_state(doc)
    assert pending_numbers(b2) == [n + "-NEW" for n in numbers]
    again = b2.get_pending_provisioning_requests(query)
    assert again is not first and again != first
