"""BOTW POST /crm/<listing>: create a contact."""

import pytest
from helpers import expect

from ._support import BAD_EMAIL, BAD_PHONE, BLACKLISTED, CREATED, KEY, REQUIRED, H, contacts


# -- POST create (BW-CREATE-1 to BW-CREATE-4) --------------------------------------------
def test_create_contact_stores_every_field(client, botw):
    botw.freeze("2024-06-01T12:00:00Z")
    r = client.post(
        "/crm/123",
        data={
            "first_name": "John",
            "last_name": "Doe",
            "email": " John@Example.com ",
            "phone": "+1 (555) 123-4567",
        },
        headers=H,
    )
    assert r.status_code == 201
    assert r.get_json() == CREATED
    assert r.mimetype == "application/json"
    [c] = contacts(botw)
    assert c["contact_id"] == 1
    assert c["listing_id"] == "123"
    assert c["unique_id"].startswith("l-") and c["unique_id"][2:].isdigit()
    assert (c["first_name"], c["last_name"]) == ("John", "Doe")
    assert c["email"] == "John@Example.com"
    assert c["phone"] == "15551234567"
    assert c["created_date"] == "2024-06-01 12:00:00"
    assert c["ip_address"] == "127.0.0.1"
    assert (c["source"], c["status"]) == ("api", "active")


def test_create_contact_with_phone_only(client, botw):
    assert client.post("/crm/123", data={"phone": "555-123-4567"}, headers=H).status_code == 201
    assert contacts(botw)[0]["email"] is None


@pytest.mark.parametrize("data", [{}, {"first_name": "J"}, {"email": "", "phone": "  "}])
def test_create_contact_requires_email_or_phone(client, botw, data):
    r = client.post("/crm/123", data=data, headers=H)
    expect(r, 400, REQUIRED)
    assert contacts(botw) == []


@pytest.mark.parametrize("email", ["plain", "a@b", "a b@c.de", "@b.co", "a@.co x"])
def test_create_contact_rejects_bad_email(client, botw, email):
    r = client.post("/crm/123", data={"email": email}, headers=H)
    expect(r, 400, BAD_EMAIL)


@pytest.mark.parametrize("phone", ["123456", "1234567890123456", "phone"])
def test_create_contact_rejects_bad_phone(client, botw, phone):
    r = client.post("/crm/123", data={"phone": phone}, headers=H)
    expect(r, 400, BAD_PHONE)


@pytest.mark.parametrize("phone", ["1234567", "123456789012345"])
def test_create_contact_phone_length_bounds_are_inclusive(client, botw, phone):
    assert client.post("/crm/123", data={"phone": phone}, headers=H).status_code == 201


def test_create_contact_checks_required_before_format_before_blacklist(client, botw):
    r = client.post("/crm/123", data={"first_name": "x"}, headers=H)
    assert r.get_json() == REQUIRED
    r = client.post("/crm/123", data={"email": "spam@example.com", "phone": "12"}, headers=H)
    assert r.get_json() == BAD_PHONE


@pytest.mark.parametrize(
    "data",
    [
        {"email": "  SPAM@example.COM"},
        {"phone": "15550000000"},
        {"email": "ok@x.co", "phone": "1 555 000 0000"},
    ],
)
def test_create_contact_blacklisted(client, botw, data):
    r = client.post("/crm/123", data=data, headers=H)
    expect(r, 400, BLACKLISTED)
    assert contacts(botw) == []


def test_create_contact_blacklist_is_per_listing(client, botw):
    assert client.post("/crm/456", data={"email": "spam@example.com"}, headers=H).status_code == 201


def test_create_contact_allows_duplicates(client, botw):
    for _ in range(2):
        assert client.post("/crm/123", data={"email": "a@b.co"}, headers=H).status_code == 201
    ids = [c["contact_id"] for c in contacts(botw)]
    assert ids == [1, 2]
    assert len({c["unique_id"] for c in contacts(botw)}) == 2


def test_create_contact_id_is_a_global_sequence_across_listings(client, botw):
    client.post("/crm/123", data={"email": "a@b.co"}, headers=H)
    client.post("/crm/456", data={"email": "a@b.co"}, headers=H)
    assert [(c["contact_id"], c["listing_id"]) for c in contacts(botw)] == [(1, "123"), (2, "456")]


def test_create_contact_continues_after_loaded_ids(client, botw):
    botw.put_state(
        {"api_keys": {KEY: ["123"]}, "contacts": [{"contact_id": 41, "listing_id": "123"}]}, "botw"
    )
    client.post("/crm/123", data={"email": "a@b.co"}, headers=H)
    assert [c["contact_id"] for c in contacts(botw)] == [41, 42]
