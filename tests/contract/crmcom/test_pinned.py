"""CRM.COM rules that earlier tests left loose (issue 15): each test here fails on one
behaviour change of the backend (exact error descriptions, the most selective list filter,
guards that only a direct caller of the backend can reach)."""

import base64
import copy
import json
import math
import string

import pytest
from helpers import expect

from simulator.store import redis as redis_engine
from simulator.store.tiny import Table as IndexedTable
from simulator.vendors.crmcom import errors
from simulator.vendors.crmcom.parsing import ContactRequest, _date_of_birth, _identifier_object
from simulator.world import DEFAULT

from ._support import BASE, LOGIN, NOW, STATE, get, invalid, mandatory, not_found, not_unique, post


def raised(call, *args, **kwargs):
    with pytest.raises(errors.CrmcomError) as info:
        call(*args, **kwargs)
    return info.value.body()


# -- list: exact descriptions (CC-L1) ------------------------------------------------------------
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"offset": "0"}, mandatory("number_of_results")),
        ({"number_of_results": "5"}, mandatory("offset")),
        (
            {"number_of_results": "x", "offset": "0"},
            invalid("number_of_results", "must be an integer"),
        ),
        (
            {"number_of_results": "0", "offset": "0"},
            invalid("number_of_results", "must be at least 1"),
        ),
        ({"number_of_results": "5", "offset": "x"}, invalid("offset", "must be an integer")),
        ({"number_of_results": "5", "offset": "-1"}, invalid("offset", "must be at least 0")),
    ],
)
def test_list_paging_errors_name_the_parameter(client, token, params, expected):
    assert expect(get(client, "/contact_information/list", token=token, **params), 200) == expected


def test_list_asks_the_most_selective_filter_for_candidates(client, crm, monkeypatch):
    people = [
        {"type": "PERSON", "first_name": "Ann", "last_name": "Lee", "number": f"CI{n:06d}"}
        for n in range(1, 41)
    ]
    people[7]["demographics"] = {"passport_number": "P8"}
    crm.put_state({"users": [LOGIN], "contacts": people}, vendor="crmcom")
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    calls = []
    real_doc = IndexedTable.get

    def counting_doc(self, doc_id):
        calls.append(doc_id)
        return real_doc(self, doc_id)

    monkeypatch.setattr(IndexedTable, "get", counting_doc)
    for params in (
        {"name": "Ann Lee", "passport_number": "P8"},
        {"passport_number": "P8", "name": "Ann Lee"},
    ):
        calls.clear()
        body = expect(
            get(
                client,
                "/contact_information/list",
                token=token,
                number_of_results="50",
                offset="0",
                **params,
            ),
            200,
        )
        assert [c["number"] for c in body["data"]] == ["CI000008"]
        assert len(calls) <= 2  # the one passport holder, not the forty Ann Lees


# -- guards a direct caller of the backend reaches (HTTP refuses these bodies before) ---------
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_udf_float_must_be_finite(value):
    request = ContactRequest({"udf_float_2": value}, creating=False)
    assert raised(request.changes) == invalid("udf_float_2", "must be a finite number")


# -- state ------------------------------------------------------------------------------------
def test_loaded_date_of_birth_needs_integers(client, crm):
    """JSON Schema calls 1.0 an integer; a date of birth made of it is still refused."""
    contact = {
        "type": "PERSON",
        "first_name": "Ann",
        "last_name": "Lee",
        "demographics": {"date_of_birth": {"day": 1.0, "month": 1, "year": 1980}},
    }
    r = client.put("/__sim/state/crmcom", json={**STATE, "contacts": [contact]})
    assert r.status_code == 400
    assert r.get_json()["errors"] == [
        {"pointer": "/contacts/0/demographics/date_of_birth", "message": "not a valid date"}
    ]


# -- get_pending: the eligible list is cached per provider and moved forward, not rebuilt -----
def pending_request(n, created):
    return {
        "number": f"PR{n:03d}",
        "provider_id": "PROV1",
        "subscription_number": "S1",
        "account_number": "AR1",
        "type": "ACTIVATE_SUBSCRIPTION",
        "life_cycle_state": "PENDING",
        "created_date": created,
        "scheduled_date": created,
        "executed_date": None,
    }


@pytest.fixture
def rebuilds(client, sim, monkeypatch):
    """Loads 20 requests created before the window and 3 inside it (the first of those
    leaves the window a minute after NOW); counts the rebuilds of the eligible list."""
    requests = [pending_request(n, "2024-05-01T00:00:00Z") for n in range(20)]
    requests += [
        pending_request(20, "2024-05-25T12:00:30Z"),
        pending_request(21, "2024-05-30T00:00:00Z"),
        pending_request(22, "2024-05-31T00:00:00Z"),
    ]
    sim.freeze(NOW)
    sim.put_state({**copy.deepcopy(STATE), "provisioning_requests": requests}, vendor="crmcom")
    calls = []
    for table in (IndexedTable, redis_engine.Table):  # either engine (--store-engine)
        real_ordered = table.ordered

        def counting_ordered(self, index, group, *args, real=real_ordered, **kwargs):
            if index == "pending":
                calls.append(group)
            return real(self, index, group, *args, **kwargs)

        monkeypatch.setattr(table, "ordered", counting_ordered)
    return calls


def pending_numbers(client, token):
    body = expect(
        get(
            client,
            "/provisioning/generic_provisioning_requests/get_pending",
            token=token,
            provisioning_provider_identifier="id=PROV1",
            number_of_results="50",
            offset="0",
        ),
        200,
    )
    [group] = body["data"]["subscriptions_set"]
    return [r["number"] for r in group["pending_provisioning_requests_set"]]


def test_pending_at_the_same_instant_reuses_the_list(client, sim, rebuilds):
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    assert pending_numbers(client, token) == ["PR020", "PR021", "PR022"]
    assert pending_numbers(client, token) == ["PR020", "PR021", "PR022"]
    assert rebuilds == ["PROV1"]


def test_pending_a_minute_later_drops_what_left_the_window_without_a_rebuild(client, sim, rebuilds):
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    assert pending_numbers(client, token) == ["PR020", "PR021", "PR022"]
    sim.advance(60)
    assert pending_numbers(client, token) == ["PR021", "PR022"]
    assert pending_numbers(client, token) == ["PR021", "PR022"]
    assert rebuilds == ["PROV1"]
    sim.freeze(NOW)  # the clock moved back: rebuilt
    assert pending_numbers(client, token) == ["PR020", "PR021", "PR022"]
    assert rebuilds == ["PROV1", "PROV1"]


# -- update: fields_set is a parameter value, checked before the lookup and the write (CC-ORDER-1)
@pytest.mark.parametrize("number", ["CI000111", "CI999999"])
def test_update_checks_fields_set_before_looking_or_writing(client, crm, token, number):
    before = crm.state("crmcom")["contacts"]
    body = {
        "token": token,
        "contact_information_identifier": {"number": number},
        "notes": "changed",
        "fields_set": ["name"],
    }
    assert expect(post(client, "/contact_information/update", body), 200) == invalid(
        "fields_set", "must be a comma-separated string"
    )
    assert crm.state("crmcom")["contacts"] == before


def test_date_of_birth_part_given_as_null_is_missing():
    """Reached by a direct caller only: over HTTP the mandatory pass reports it first."""
    assert raised(_date_of_birth, {"day": None, "month": 1, "year": 1980}, "dob") == mandatory(
        "dob.day"
    )


# -- update: uniqueness (CC-UNIQ-1) -------------------------------------------------------------
def twins(crm):
    """Two loaded contacts sharing a passport number (a state may hold that), and a third."""
    people = [
        {
            "number": f"CI00000{n}",
            "type": "PERSON",
            "first_name": "Ann",
            "last_name": "Lee",
            "demographics": {"passport_number": passport, "id_number": f"ID{n}"},
        }
        for n, passport in [(1, "P1"), (2, "P1"), (3, "P3")]
    ]
    crm.put_state({**copy.deepcopy(STATE), "contacts": people}, vendor="crmcom")


def test_update_keeping_a_shared_value_is_not_a_clash(client, crm, token):
    twins(crm)
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    body = {
        "token": token,
        "contact_information_identifier": {"number": "CI000001"},
        "notes": "kept",
        "fields_set": "notes",
    }
    assert expect(post(client, "/contact_information/update", body), 200)["data"] == {
        "notes": "kept"
    }


def test_update_checks_every_uniqueness_field_after_an_unchanged_one(client, crm, token):
    twins(crm)
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    body = {
        "token": token,
        "contact_information_identifier": {"number": "CI000001"},
        "demographics": {"id_number": "ID3"},
    }
    assert expect(post(client, "/contact_information/update", body), 200) == not_unique("id_number")


def test_identifier_object_of_nulls_only_is_missing():
    """Reached by a direct caller only: over HTTP the mandatory pass reports it first."""
    assert raised(_identifier_object, {"name": None}, "category_identifier") == mandatory(
        "category_identifier"
    )


# -- the mandatory pass comes before the value pass, wherever the parameter is (CC-ORDER-1) ----
PERSON = {"type": "PERSON", "first_name": "Ann", "last_name": "Lee"}


@pytest.mark.parametrize(
    "body, param",
    [
        ({"title": 5, "category_identifier": {}}, "category_identifier"),
        ({"title": 5, "owned_by_group_identifier": {"name": None}}, "owned_by_group_identifier"),
        (
            {"demographics": {"gender": "X", "country_of_residence_identifier": {}}},
            "demographics.country_of_residence_identifier",
        ),
        (
            {"demographics": {"gender": "X", "date_of_birth": {"day": 1, "month": 1}}},
            "demographics.date_of_birth.year",
        ),
        ({"phone_set": "nope", "phones_set": [{"type": "MOBILE"}]}, "phones_set[0].number"),
        ({"phones_set": ["nope", {"type": "MOBILE"}]}, "phones_set[1].number"),
        (
            {"addresses_set": [{"type": 5, "country_identifier": {}}]},
            "addresses_set[0].country_identifier",
        ),
    ],
)
def test_create_reports_a_missing_parameter_before_a_bad_value(client, token, body, param):
    r = expect(post(client, "/contact_information/create", {"token": token, **PERSON, **body}), 200)
    assert r == mandatory(param)


def test_identifier_value_may_contain_an_equals_sign(client, token):
    body = expect(
        get(
            client,
            "/contact_information/show",
            token=token,
            contact_information_identifier="number=CI=1",
        ),
        200,
    )
    assert body == not_found("contact information", "number", "CI=1")


# -- paging values: leading zeros, and huge values saturate (never fail to parse) ---------------
def many(crm, count):
    people = [
        {"type": "PERSON", "first_name": "Ann", "last_name": "Lee", "number": f"CI{n:06d}"}
        for n in range(1, count + 1)
    ]
    crm.put_state({"users": [LOGIN], "contacts": people}, vendor="crmcom")
    return expect(post(crm.client, "/authentication/token", LOGIN), 200)["data"]["token"]


def listed(client, token, number_of_results, offset):
    body = expect(
        get(
            client,
            "/contact_information/list",
            token=token,
            number_of_results=number_of_results,
            offset=offset,
        ),
        200,
    )
    assert body["status"]["code"] == "OK", body
    return [c["number"] for c in body["data"]]


def test_paging_values_with_many_leading_zeros_are_their_value(client, crm):
    token = many(crm, 5)
    zeros = "0" * 30
    assert listed(client, token, zeros + "2", zeros + "3") == ["CI000004", "CI000005"]
    assert listed(client, token, "2", zeros) == ["CI000001", "CI000002"]


@pytest.mark.parametrize("offset", ["9" * 19, "9" * 5000])
def test_an_offset_beyond_any_count_is_an_empty_page(client, crm, offset):
    token = many(crm, 200)
    assert listed(client, token, "50", offset) == []


# -- a new contact's id is never one already stored ---------------------------------------------
def first_new_id(client, sim, contacts):
    sim.put_state({"users": [LOGIN], "contacts": contacts}, vendor="crmcom")
    assert client.put("/__sim/seed", json={"seed": 11}).status_code == 200
    token = expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"]
    body = {"token": token, **PERSON, "fields_set": "id"}
    return expect(post(client, "/contact_information/create", body), 200)["data"]["id"]


def test_a_new_id_skips_one_a_loaded_contact_has(client, sim):
    sim.freeze(NOW)
    drawn = first_new_id(client, sim, [])
    assert first_new_id(client, sim, []) == drawn  # the draws repeat after a reseed
    holder = {**PERSON, "id": drawn, "number": "CI000001"}
    other = first_new_id(client, sim, [holder])
    assert other != drawn
    assert [c["id"] for c in sim.state("crmcom")["contacts"]] == [drawn, other]


# -- tokens (CC-T1) -----------------------------------------------------------------------------
def claims(token):
    header, payload, signature = token.split(".")
    assert "=" not in payload  # base64url without padding, as a JWT
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    decoded = json.loads(raw)
    assert raw == json.dumps(decoded, separators=(",", ":")).encode()  # compact, as a JWT
    return decoded


@pytest.mark.parametrize("unit", ["S", "Sa", "Sal", "Sale"])  # every padding length
def test_token_payload_is_unpadded_base64url(client, crm, unit):
    token = expect(post(client, "/authentication/token", {**LOGIN, "unit": unit}), 200)["data"][
        "token"
    ]
    assert claims(token)["oun"] == unit


def test_web_api_key_without_organisation_has_an_empty_org_claim(client, sim):
    sim.freeze(NOW)
    sim.put_state({"web_api_keys": [{"key": "K1"}]}, vendor="crmcom")
    header = {"Authorization": "Basic " + base64.b64encode(b"K1:").decode()}
    r = client.post(BASE + "/authentication/web_api_key/token", json={}, headers=header)
    assert claims(r.get_json()["data"]["token"])["org"] == ""
    assert claims(r.get_json()["data"]["token"])["usr"] == "K1"


def test_a_token_drawn_twice_is_drawn_again(client, crm):
    """Same seed, same instant: the second token would repeat the first; it never does."""
    tokens = []
    for _ in range(2):
        assert client.put("/__sim/seed", json={"seed": 5}).status_code == 200
        tokens.append(expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"])
    assert tokens[0] != tokens[1]
    stored = [t["token"] for t in crm.state("crmcom")["tokens"]]
    assert stored == tokens


def test_token_signature_uses_the_whole_base64url_alphabet(client, crm):
    signatures = [
        expect(post(client, "/authentication/token", LOGIN), 200)["data"]["token"].split(".")[2]
        for _ in range(12)
    ]
    used = set("".join(signatures))
    assert used <= set(string.ascii_letters + string.digits + "-_")
    assert used & set("-_")  # 12 x 43 draws: seeded, and certain in practice


# -- dump_state shares nothing with the store (snapshots, persistence) -------------------------
def test_a_dumped_state_changed_in_place_leaves_the_store_alone(app, client, crm, token):
    world = app.extensions["crmsim"].namespaces.get(DEFAULT)
    dumped = world.dump_state("crmcom")
    louis = dumped["contacts"][0]
    louis["category"]["name"] = "changed"
    louis["demographics"]["date_of_birth"]["day"] = 2
    louis["addresses_set"][0]["country"]["two_character_code"] = "GR"
    louis["phones_set"][0]["number"] = "000"
    assert world.dump_state("crmcom") == STATE | {"tokens": world.dump_state("crmcom")["tokens"]}


def test_a_vendor_nothing_loaded_dumps_the_defaults(client):
    client.get(BASE + "/contact_information/show")  # builds the backend without a state
    assert client.get("/__sim/state/crmcom").get_json() == {
        "users": [],
        "web_api_keys": [],
        "tokens": [],
        "token_ttl_seconds": 7200,
        "uniqueness_fields": ["passport_number", "id_number"],
        "contacts": [],
        "provisioning_providers": [],
        "provisioning_requests": [],
    }


# -- load_state reports every problem, each once, in document order ----------------------------
def test_every_problem_of_a_state_is_reported(client, sim):
    sim.freeze(NOW)
    user = {"username": "u", "password": "p", "organisation": "O"}
    token = {"token": "t1", "issued_at": "2024-06-01T00:00:00Z"}
    person = {"type": "PERSON", "first_name": "A", "last_name": "B"}
    req = {
        "number": "R1",
        "provider_id": "PROV1",
        "subscription_number": "S",
        "type": "ACTIVATE_SUBSCRIPTION",
    }
    bad_dob = {"date_of_birth": {"day": 31, "month": 2, "year": 2000}}
    doc = {
        "users": [user, user, {**user, "password": "x"}, {**user, "organisation": "P"}],
        "web_api_keys": [{"key": "K"}, {"key": "K"}, {"key": "K", "organisation": "O"}],
        "tokens": [
            token,
            token,
            {
                "token": "t2",
                "issued_at": "2024-02-30T00:00:00Z",
                "released_at": "2024-04-31T00:00:00Z",
            },
            {"token": "t1", "issued_at": "2023-02-29T00:00:00Z"},
            {**token, "token": "t2"},  # the refused t2 was not stored: no clash
        ],
        "contacts": [
            {**person, "id": "A" * 32, "number": "N1"},
            {**person, "id": "A" * 32},
            {**person, "number": "N1"},
            {**person, "number": "N1"},
            {**person, "demographics": bad_dob, "id": "B" * 32, "number": "N5"},
            {**person, "id": "A" * 32},
            {**person, "id": "B" * 32, "number": "N5"},  # the refused one was not stored
        ],
        "provisioning_providers": [
            {"id": "PROV1", "name": "One", "alternative_code": "G1"},
            {"id": "PROV2", "name": "One"},
            {"id": "PROV3", "name": "Three", "alternative_code": "G1"},
            {"id": "PROV1", "name": "Four"},
            {"id": "PROV2", "name": "Five"},  # the refused PROV2 was not stored
        ],
        "provisioning_requests": [
            req,
            req,
            {
                **req,
                "number": "R2",
                "provider_id": "NOPE",
                "created_date": "2024-02-30T00:00:00Z",
                "scheduled_date": "2024-13-01T00:00:00Z",
                "executed_date": "2024-01-01T25:00:00Z",
            },
            {**req, "provider_id": "NOPE"},
            {**req, "number": "R3", "created_date": "2024-02-30T00:00:00Z"},
            {**req, "number": "R4", "provider_id": "NOPE"},
            {**req, "number": "R3"},  # the refused R3 and R4 were not stored
            {**req, "number": "R4"},
        ],
    }
    r = client.put("/__sim/state/crmcom", json=doc)
    assert r.status_code == 400
    twice = "this {} is used twice"
    instant = "not a valid date and time"
    nope = "no provisioning provider has id 'NOPE'"
    expected = [
        ("/users/1/username", "this username is used twice in the organisation"),
        ("/users/2/username", "this username is used twice in the organisation"),
        ("/web_api_keys/1/key", twice.format("key")),
        ("/web_api_keys/2/key", twice.format("key")),
        ("/tokens/1/token", twice.format("token")),
        ("/tokens/2/issued_at", instant),
        ("/tokens/2/released_at", instant),
        ("/tokens/3/issued_at", instant),
        ("/tokens/3/token", twice.format("token")),
        ("/contacts/1/id", twice.format("id")),
        ("/contacts/2/number", twice.format("number")),
        ("/contacts/3/number", twice.format("number")),
        ("/contacts/4/demographics/date_of_birth", "not a valid date"),
        ("/contacts/5/id", twice.format("id")),
        ("/provisioning_providers/1/name", twice.format("name")),
        ("/provisioning_providers/2/alternative_code", twice.format("alternative_code")),
        ("/provisioning_providers/3/id", twice.format("id")),
        ("/provisioning_requests/1/number", twice.format("number")),
        ("/provisioning_requests/2/created_date", instant),
        ("/provisioning_requests/2/scheduled_date", instant),
        ("/provisioning_requests/2/executed_date", instant),
        ("/provisioning_requests/2/provider_id", nope),
        ("/provisioning_requests/3/provider_id", nope),
        ("/provisioning_requests/3/number", twice.format("number")),
        ("/provisioning_requests/4/created_date", instant),
        ("/provisioning_requests/4/scheduled_date", instant),  # defaults to created_date
        ("/provisioning_requests/5/provider_id", nope),
    ]
    assert r.get_json()["errors"] == [{"pointer": p, "message": m} for p, m in expected]
