"""BOTW GET /crm/<listing>: search contacts."""

import pytest
from helpers import expect

from simulator.schemas import default_schemas_dir, load

from ._support import BAD_EMAIL, NOT_AN_ID, contacts, create_ok, search

NONE_FOUND = {"status": "error", "message": "No contacts found."}


# -- GET search (BW-GET-1 to BW-GET-4) ----------------------------------------------------
def test_search_contacts_requires_a_parameter(client, botw):
    for params in ({}, {"unknown": "x"}, {"email": ""}):
        r = search(client, **params)
        expect(
            r, 400, {"status": "error", "message": "At least one query parameter must be provided."}
        )


def test_search_contacts_result_shape(client, botw):
    botw.freeze("2021-01-01T00:00:00Z")
    create_ok(
        client,
        first_name="John",
        last_name="Doe",
        email="johndoe@example.com",
        phone="+1 (555) 123-4567",
    )
    r = search(client, email="JohnDoe@example.com")
    assert r.status_code == 200
    body = r.get_json()
    uid = contacts(botw)[0]["unique_id"]
    assert body == {
        "status": "success",
        "message": "1 record(s) found.",
        "data": {
            "results": [
                {
                    "contact_id": 1,
                    "contact_unique_id": uid,
                    "contact_first_name": "John",
                    "contact_last_name": "Doe",
                    "contact_email": "johndoe@example.com",
                    "contact_phone": "15551234567",
                    "contact_created_date": "2021-01-01 00:00:00",
                    "contact_ip_address": "127.0.0.1",
                    "contact_source": "api",
                    "contact_status": "active",
                }
            ]
        },
    }
    schemas = load(default_schemas_dir())
    assert schemas.validate("botw/search_contacts.response.json", body) == []


def test_search_contacts_absent_values_are_null(client, botw):
    create_ok(client, phone="5551234567")
    result = search(client, phone="5551234567").get_json()["data"]["results"][0]
    assert result["contact_first_name"] is None and result["contact_email"] is None


def test_search_contacts_none_found(client, botw):
    r = search(client, email="nobody@x.co")
    expect(r, 404, NONE_FOUND)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"id": "2"}, [2]),
        ({"first_name": "JOHN"}, [1, 2]),
        ({"last_name": "doe"}, [1, 3]),
        ({"name": "john"}, [1, 2]),
        ({"name": "Doe"}, [1, 3]),
        ({"name": "john doe"}, [1]),
        ({"name": "jo"}, []),
        ({"email": "J@X.CO"}, [1]),
        ({"phone": "555.111.1111"}, [1, 3]),
        ({"first_name": "john", "last_name": "smith"}, [2]),
        ({"phone": "5551111111", "last_name": "doe"}, [1, 3]),
        ({"id": "1", "email": "k@x.co"}, []),
    ],
)
def test_search_contacts_matching(client, botw, params, expected):
    create_ok(client, first_name="John", last_name="Doe", email="j@x.co", phone="5551111111")
    create_ok(client, first_name="john", last_name="Smith", email="k@x.co", phone="5552222222")
    create_ok(client, first_name="Jane", last_name="DOE", email="l@x.co", phone="(555) 111-1111")
    r = search(client, **params)
    if expected:
        body = r.get_json()
        assert r.status_code == 200
        assert [c["contact_id"] for c in body["data"]["results"]] == expected
        assert body["message"] == f"{len(expected)} record(s) found."
    else:
        expect(r, 404, NONE_FOUND)


@pytest.mark.parametrize("contact_id", NOT_AN_ID, ids=lambda s: ascii(s)[:12])
def test_search_contacts_id_is_matched_exactly(client, botw, contact_id):
    create_ok(client, email="a@b.co")
    expect(search(client, id=contact_id), 404, NONE_FOUND)
    assert search(client, id=" 1 ").status_code == 200  # blanks around it are trimmed


def test_search_contacts_is_scoped_by_listing(client, botw):
    create_ok(client, listing="456", email="a@b.co")
    assert search(client, "123", email="a@b.co").status_code == 404
    assert search(client, "456", email="a@b.co").status_code == 200


def test_search_contacts_validates_formats(client, botw):
    assert search(client, email="nope").get_json() == BAD_EMAIL
