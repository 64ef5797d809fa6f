"""BOTW rules that earlier tests left loose: each test here fails on one behaviour change
(format checks on every method, what an upserting PUT keeps, what a loaded state keeps)."""

import pytest

KEY = "K"
H = {"Authorization": f"Bearer {KEY}"}
BAD_EMAIL = {"status": "error", "message": "Invalid email address."}
BAD_PHONE = {"status": "error", "message": "Invalid phone number."}
BLACKLISTED = {
    "status": "error",
    "message": "The provided email or phone number has been blacklisted.",
}


@pytest.fixture
def botw(sim):
    sim.put_state({"api_keys": {KEY: ["1"]}}, vendor="botw")
    return sim


@pytest.mark.parametrize(
    "query, expected",
    [("email=not-an-email", BAD_EMAIL), ("phone=12", BAD_PHONE)],
)
def test_delete_contact_checks_formats_before_looking(client, botw, query, expected):
    r = client.delete(f"/crm/1?{query}", headers=H)
    assert (r.status_code, r.get_json()) == (400, expected)


@pytest.mark.parametrize(
    "query, expected",
    [("email=not-an-email", BAD_EMAIL), ("phone=12", BAD_PHONE)],
)
def test_search_contacts_checks_formats_before_looking(client, botw, query, expected):
    r = client.get(f"/crm/1?{query}", headers=H)
    assert (r.status_code, r.get_json()) == (400, expected)


def test_update_contact_that_creates_keeps_every_field(client, botw):
    r = client.put(
        "/crm/1",
        data={"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"},
        headers=H,
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert r.status_code == 201, r.get_json()
    [contact] = botw.state("botw")["contacts"]
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
    sim.put_state({"api_keys": {KEY: ["1"]}, "contacts": [LOADED]}, vendor="botw")
    [contact] = sim.state("botw")["contacts"]
    assert (contact["source"], contact["status"]) == ("import", "inactive")
    [found] = client.get("/crm/1?email=old@example.com", headers=H).get_json()["data"]["results"]
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
    sim.put_state({"api_keys": {KEY: ["1"]}}, vendor="botw")
    client.put("/__sim/seed", json={"seed": 3})
    for i in range(5):
        client.post("/crm/1", data={"email": f"p{i}@example.com"}, headers=H)
    drawn = [c["unique_id"] for c in sim.state("botw")["contacts"]]
    client.post("/__sim/reset")
    client.put("/__sim/seed", json={"seed": 3})
    loaded = [
        {"contact_id": 100 + i, "listing_id": "1", "unique_id": u, "email": f"l{i}@example.com"}
        for i, u in enumerate(drawn)
    ]
    sim.put_state({"api_keys": {KEY: ["1"]}, "contacts": loaded}, vendor="botw")
    for i in range(5):
        assert client.post("/crm/1", data={"email": f"n{i}@example.com"}, headers=H).status_code
    unique = [c["unique_id"] for c in sim.state("botw")["contacts"]]
    assert len(unique) == 10
    assert len(set(unique)) == 10


def test_a_blacklist_of_phones_only_blocks_those_phones(client, sim):
    sim.put_state(
        {"api_keys": {KEY: ["1"]}, "blacklist": {"1": {"phones": ["+1 555 000 0000"]}}},
        vendor="botw",
    )
    r = client.post("/crm/1", data={"phone": "15550000000"}, headers=H)
    assert (r.status_code, r.get_json()) == (400, BLACKLISTED)
    assert client.post("/crm/1", data={"phone": "15550000001"}, headers=H).status_code == 201
    r = client.post("/crm/1", data={"email": "ok@example.com"}, headers=H)
    assert r.status_code == 201
