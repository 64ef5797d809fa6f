"""BOTW DELETE /crm/<listing>: delete contacts."""

import pytest
from helpers import expect

from ._support import NOT_AN_ID, NOT_FOUND, H, contacts, create_ok

DELETED = {"status": "success", "message": "Contact deleted successfully."}


# -- DELETE (BW-DEL-1, BW-DEL-2) ----------------------------------------------------------
def test_delete_contact_requires_a_parameter(client, botw):
    r = client.delete("/crm/123", headers=H)
    expect(
        r,
        400,
        {"status": "error", "message": "At least one of id, email or phone must be provided."},
    )


def test_delete_contact_by_id(client, botw):
    create_ok(client, email="a@b.co")
    create_ok(client, email="b@b.co")
    r = client.delete("/crm/123", data={"id": "1"}, headers=H)
    expect(r, 202, DELETED)
    assert [c["contact_id"] for c in contacts(botw)] == [2]


def test_delete_contact_deletes_every_match(client, botw):
    create_ok(client, email="dup@b.co")
    create_ok(client, email="DUP@b.co", phone="5551234567")
    create_ok(client, email="keep@b.co")
    assert client.delete("/crm/123", data={"email": "dup@b.co"}, headers=H).status_code == 202
    assert [c["email"] for c in contacts(botw)] == ["keep@b.co"]


def test_delete_contact_parameters_are_anded(client, botw):
    create_ok(client, email="a@b.co", phone="5551234567")
    create_ok(client, email="a@b.co", phone="5559999999")
    r = client.delete("/crm/123", data={"email": "a@b.co", "phone": "555-999-9999"}, headers=H)
    assert r.status_code == 202
    assert [c["contact_id"] for c in contacts(botw)] == [1]
    r = client.delete("/crm/123", data={"id": "1", "phone": "5559999999"}, headers=H)
    expect(r, 404, NOT_FOUND)


def test_delete_contact_reads_query_and_body_prefers_body(client, botw):
    create_ok(client, email="a@b.co")
    create_ok(client, email="b@b.co")
    r = client.delete("/crm/123?email=a@b.co", headers=H)
    assert r.status_code == 202
    r = client.delete("/crm/123?email=nobody@b.co", data={"email": "b@b.co"}, headers=H)
    assert r.status_code == 202
    assert contacts(botw) == []


@pytest.mark.parametrize("contact_id", NOT_AN_ID, ids=lambda s: ascii(s)[:12])
def test_delete_contact_id_is_matched_exactly(client, botw, contact_id):
    create_ok(client, email="a@b.co")
    r = client.delete("/crm/123", data={"id": contact_id}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert len(contacts(botw)) == 1


def test_delete_contact_is_scoped_by_listing(client, botw):
    create_ok(client, listing="456", email="a@b.co")
    r = client.delete("/crm/123", data={"email": "a@b.co"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert len(contacts(botw)) == 1


def test_delete_contact_unknown_is_404(client, botw):
    r = client.delete("/crm/123", data={"id": "5"}, headers=H)
    expect(r, 404, NOT_FOUND)
    r = client.delete("/crm/123", data={"id": "abc"}, headers=H)
    expect(r, 404, NOT_FOUND)
