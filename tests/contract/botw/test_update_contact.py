"""BOTW PUT /crm/<listing>: update or create a contact."""

import pytest
from helpers import expect

from ._support import (
    BAD_EMAIL,
    BAD_PHONE,
    BLACKLISTED,
    CREATED,
    NOT_AN_ID,
    NOT_FOUND,
    REQUIRED,
    H,
    contacts,
    create_ok,
)

UPDATED = {"status": "success", "message": "Contact successfully updated."}


def test_update_contact_by_id_overwrites_given_fields_only(client, botw):
    create_ok(client, first_name="John", last_name="Doe", email="j@d.co", phone="5551234567")
    r = client.put("/crm/123", data={"id": "1", "first_name": "Jack", "last_name": ""}, headers=H)
    expect(r, 200, UPDATED)
    [c] = contacts(botw)
    assert (c["first_name"], c["last_name"], c["email"], c["phone"]) == (
        "Jack",
        "Doe",
        "j@d.co",
        "5551234567",
    )


def test_update_contact_normalises_new_phone(client, botw):
    create_ok(client, email="j@d.co")
    client.put("/crm/123", data={"id": "1", "phone": "+44 (20) 7946-0958"}, headers=H)
    assert contacts(botw)[0]["phone"] == "442079460958"


def test_update_contact_unknown_id_with_email_creates_with_new_id(client, botw):
    create_ok(client, email="a@b.co")
    r = client.put("/crm/123", data={"id": "99", "email": "new@b.co"}, headers=H)
    expect(r, 201, CREATED)
    assert [c["contact_id"] for c in contacts(botw)] == [1, 2]


def test_update_contact_unknown_id_without_email_or_phone_is_404(client, botw):
    r = client.put("/crm/123", data={"id": "99", "first_name": "x"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert contacts(botw) == []


@pytest.mark.parametrize("contact_id", NOT_AN_ID, ids=lambda s: ascii(s)[:12])
def test_update_contact_id_is_matched_exactly(client, botw, contact_id):
    create_ok(client, email="a@b.co")
    r = client.put("/crm/123", data={"id": contact_id, "first_name": "x"}, headers=H)
    expect(r, 404, NOT_FOUND)
    r = client.put("/crm/123", data={"id": contact_id, "email": "new@b.co"}, headers=H)
    expect(r, 201, CREATED)  # an unknown id with an email: a new contact (BW-PUT-2)
    assert [(c["contact_id"], c["first_name"]) for c in contacts(botw)] == [(1, None), (2, None)]


def test_update_contact_id_of_another_listing_is_not_found(client, botw):
    create_ok(client, listing="456", email="a@b.co")
    r = client.put("/crm/123", data={"id": "1", "first_name": "x"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert contacts(botw)[0]["first_name"] is None


def test_update_contact_without_id_requires_email_or_phone(client, botw):
    r = client.put("/crm/123", data={"first_name": "x"}, headers=H)
    expect(r, 400, REQUIRED)


def test_update_contact_without_id_upserts_by_email_then_phone(client, botw):
    create_ok(client, email="first@b.co")
    create_ok(client, phone="5551112222")
    r = client.put("/crm/123", data={"email": "FIRST@b.co", "last_name": "A"}, headers=H)
    expect(r, 200, UPDATED)
    r = client.put(
        "/crm/123",
        data={"email": "other@b.co", "phone": "(555) 111-2222", "last_name": "B"},
        headers=H,
    )
    expect(r, 200, UPDATED)
    by_id = {c["contact_id"]: c for c in contacts(botw)}
    assert by_id[1]["last_name"] == "A"
    assert (by_id[2]["last_name"], by_id[2]["email"]) == ("B", "other@b.co")
    r = client.put("/crm/123", data={"email": "third@b.co"}, headers=H)
    expect(r, 201, CREATED)
    assert len(contacts(botw)) == 3


def test_update_contact_upsert_picks_oldest_match(client, botw):
    create_ok(client, email="dup@b.co")
    create_ok(client, email="dup@b.co")
    client.put("/crm/123", data={"email": "dup@b.co", "first_name": "Old"}, headers=H)
    assert [c["first_name"] for c in contacts(botw)] == ["Old", None]


def test_update_contact_blacklisted_changes_nothing(client, botw):
    create_ok(client, email="a@b.co")
    r = client.put("/crm/123", data={"id": "1", "email": "spam@example.com"}, headers=H)
    expect(r, 400, BLACKLISTED)
    assert contacts(botw)[0]["email"] == "a@b.co"


def test_update_contact_validates_formats(client, botw):
    create_ok(client, email="a@b.co")
    assert (
        client.put("/crm/123", data={"id": "1", "email": "bad"}, headers=H).get_json() == BAD_EMAIL
    )
    assert client.put("/crm/123", data={"id": "1", "phone": "1"}, headers=H).get_json() == BAD_PHONE
