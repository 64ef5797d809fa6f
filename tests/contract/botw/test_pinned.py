"""BOTW rules that earlier tests left loose: each test here fails on one behaviour change
(format checks on every method, what an upserting PUT keeps, what a loaded state keeps)."""

import pytest
from helpers import expect

from ._support import BAD_EMAIL, BAD_PHONE, BLACKLISTED

KEY_1 = "K"
H_1 = {"Authorization": f"Bearer {KEY_1}"}


@pytest.fixture
def listing_1(sim):
    """Listing 1 under key K (the conftest's ``botw`` is another)."""
    sim.put_state({"api_keys": {KEY_1: ["1"]}}, vendor="botw")
    return sim


@pytest.mark.parametrize(
    "query, expected",
    [("email=not-an-email", BAD_EMAIL), ("phone=12", BAD_PHONE)],
)
def test_delete_contact_checks_formats_before_looking(client, listing_1, query, expected):
    r = client.delete(f"/crm/1?{query}", headers=H_1)
    expect(r, 400, expected)


@pytest.mark.parametrize(
    "query, expected",
    [("email=not-an-email", BAD_EMAIL), ("phone=12", BAD_PHONE)],
)
def test_search_contacts_checks_formats_before_looking(client, listing_1, query, expected):
    r = client.get(f"/crm/1?{query}", headers=H_1)
    expect(r, 400, expected)


def test_update_contact_that_creates_keeps_every_field(client, listing_1):
    r = client.put(
        "/crm/1",
        data={"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"},
        headers=H_1,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert r.status_code == 201, r.get_json()
    [contact] = listing_1.state("botw")["contacts"]
    assert (contact["first_name"], contact["last_name"], contact["email"]) == (
        "Ann",
        "Lee",
        "ann@example.com",
    )
    assert contact["ip_address"] == "10.1.2.3"
    assert (contact["source"], contact["status"]) == ("api", "active")


LOADED = {
    "contact_id": 7,
    "listing_id": "1",
    "unique_id": "l-00000001",
    "email": "old@example.com",
    "source": "import",
    "status": "inactive",
}


def test_loaded_source_and_status_are_kept(client, sim):
    sim.put_state({"api_keys": {KEY_1: ["1"]}, "contacts": [LOADED]}, vendor="botw")
    [contact] = sim.state("botw")["contacts"]
    assert (contact["source"], contact["status"]) == ("import", "inactive")
    [found] = client.get("/crm/1?email=old@example.com", headers=H_1).get_json()["data"]["results"]
    assert (found["contact_source"], found["contact_status"]) == ("import", "inactive")


def test_loaded_duplicate_unique_ids_are_refused_with_a_message(client):
    twin = {**LOADED, "contact_id": 8, "email": "twin@example.com"}
    r = client.put("/__sim/state/botw", json={"contacts": [LOADED, twin]})
    assert r.status_code == 400
    [error] = r.get_json()["errors"]
    assert error["pointer"] == "/contacts/1/unique_id"
    assert "l-00000001" in error["message"]
    assert client.get("/__sim/state/botw").get_json()["contacts"] == []


def test_new_unique_ids_never_repeat_a_loaded_one(client, sim):
    """Seeded, the id source's first draws are known: load exactly those and create more."""
    sim.put_state({"api_keys": {KEY_1: ["1"]}}, vendor="botw")
    client.put("/__sim/seed", json={"seed": 3})
    for i in range(5):
        client.post("/crm/1", data={"email": f"p{i}@example.com"}, headers=H_1)
    drawn = [c["unique_id"] for c in sim.state("botw")["contacts"]]
    client.post("/__sim/reset")
    client.put("/__sim/seed", json={"seed": 3})
    loaded = [
        {"contact_id": 100 + i, "listing_id": "1", "unique_id": u, "email": f"l{i}@example.com"}
        for i, u in enumerate(drawn)
    ]
    sim.put_state({"api_keys": {KEY_1: ["1"]}, "contacts": loaded}, vendor="botw")
    for i in range(5):
        assert client.post("/crm/1", data={"email": f"n{i}@example.com"}, headers=H_1).status_code
    unique = [c["unique_id"] for c in sim.state("botw")["contacts"]]
    assert len(unique) == 10
    assert len(set(unique)) == 10


def test_a_blacklist_of_phones_only_blocks_those_phones(client, sim):
    sim.put_state(
        {"api_keys": {KEY_1: ["1"]}, "blacklist": {"1": {"phones": ["+1 555 000 0000"]}}},
        vendor="botw",
    )
    r = client.post("/crm/1", data={"phone": "15550000000"}, headers=H_1)
    expect(r, 400, BLACKLISTED)
    assert client.post("/crm/1", data={"phone": "15550000001"}, headers=H_1).status_code == 201
    r = client.post("/crm/1", data={"email": "ok@example.com"}, headers=H_1)
    assert r.status_code == 201


FULL_STATE = {
    "api_keys": {KEY_1: ["1", "2"], "OTHER": ["3"]},
    "blacklist": {
        "1": {"emails": ["spam@example.com"], "phones": ["15550000000"]},
        "2": {"emails": [], "phones": ["15551111111"]},
    },
    "contacts": [
        {
            "contact_id": 4,
            "listing_id": "1",
            "unique_id": "l-00000004",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@example.com",
            "phone": "15552223333",
            "created_date": "2024-01-02 03:04:05",
            "ip_address": "10.0.0.9",
            "source": "import",
            "status": "inactive",
        }
    ],
}


def test_a_full_state_reads_back_exactly_as_loaded(client):
    r = client.put("/__sim/state/botw", json=FULL_STATE)
    assert r.status_code == 200, r.get_json()
    assert client.get("/__sim/state/botw").get_json() == FULL_STATE
    r = client.get("/crm/1?id=4", headers=H_1)
    [found] = r.get_json()["data"]["results"]
    assert (found["contact_created_date"], found["contact_ip_address"]) == (
        "2024-01-02 03:04:05",
        "10.0.0.9",
    )


def test_loaded_contacts_get_the_documented_defaults(client, sim):
    sim.put_state(
        {"contacts": [{"contact_id": 1, "listing_id": "1", "email": "a@example.com"}]}, "botw"
    )
    [contact] = sim.state("botw")["contacts"]
    assert (contact["source"], contact["status"], contact["ip_address"]) == (
        "api",
        "active",
        None,
    )
    assert contact["unique_id"].startswith("l-") and len(contact["unique_id"]) == 10


def test_a_blacklist_of_emails_only_loads_and_blocks_those_emails(client, sim):
    sim.put_state(
        {"api_keys": {KEY_1: ["1"]}, "blacklist": {"1": {"emails": ["Spam@Example.com"]}}},
        vendor="botw",
    )
    assert sim.state("botw")["blacklist"] == {"1": {"emails": ["Spam@Example.com"], "phones": []}}
    r = client.post("/crm/1", data={"email": "spam@example.com"}, headers=H_1)
    expect(r, 400, BLACKLISTED)


def test_every_reused_contact_id_is_reported(client):
    contacts = [
        {"contact_id": 1, "listing_id": "1", "email": "a@example.com"},
        {"contact_id": 1, "listing_id": "1", "email": "b@example.com"},
        {"contact_id": 1, "listing_id": "1", "email": "c@example.com"},
    ]
    r = client.put("/__sim/state/botw", json={"contacts": contacts})
    assert r.status_code == 400
    assert [(e["pointer"], e["message"]) for e in r.get_json()["errors"]] == [
        ("/contacts/1/contact_id", "contact_id 1 is used twice"),
        ("/contacts/2/contact_id", "contact_id 1 is used twice"),
    ]


def test_update_contact_refuses_a_blacklisted_phone(client, sim):
    sim.put_state(
        {"api_keys": {KEY_1: ["1"]}, "blacklist": {"1": {"phones": ["+1 555 000 0000"]}}},
        vendor="botw",
    )
    r = client.put("/crm/1", data={"phone": "1 (555) 000-0000"}, headers=H_1)
    expect(r, 400, BLACKLISTED)
    assert sim.state("botw")["contacts"] == []


def test_name_search_never_matches_a_missing_half_of_the_name(client, sim):
    """A contact with a last name only has no full name: "None Lee" must not find it."""
    sim.put_state({"api_keys": {KEY_1: ["1"]}}, vendor="botw")
    client.post("/crm/1", data={"last_name": "Lee", "email": "lee@example.com"}, headers=H_1)
    assert client.get("/crm/1?name=lee", headers=H_1).status_code == 200
    for name in ("None Lee", "none lee"):
        assert client.get("/crm/1", query_string={"name": name}, headers=H_1).status_code == 404


def test_case_is_folded_by_lowercasing(client, sim):
    """Searches compare lowercased values: "STRASSE" is not "Straße" lowercased."""
    sim.put_state({"api_keys": {KEY_1: ["1"]}}, vendor="botw")
    client.post("/crm/1", data={"first_name": "Straße", "email": "straße@example.de"}, headers=H_1)
    assert client.get("/crm/1?first_name=STRASSE", headers=H_1).status_code == 404
    assert client.get("/crm/1?email=STRASSE@example.de", headers=H_1).status_code == 404
    assert client.get("/crm/1?first_name=STRAßE", headers=H_1).status_code == 200
    assert client.get("/crm/1?email=STRAßE@EXAMPLE.DE", headers=H_1).status_code == 200


def test_every_reused_unique_id_is_reported(client):
    contacts = [
        {"contact_id": i, "listing_id": "1", "unique_id": "l-1", "email": f"{i}@example.com"}
        for i in (1, 2, 3)
    ]
    r = client.put("/__sim/state/botw", json={"contacts": contacts})
    assert r.status_code == 400
    assert [e["pointer"] for e in r.get_json()["errors"]] == [
        "/contacts/1/unique_id",
        "/contacts/2/unique_id",
    ]
