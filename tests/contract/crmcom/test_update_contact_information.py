"""CRM.COM POST contact_information/update: absent, null and set fields, identifiers,
conditions, uniqueness."""

import pytest
from helpers import expect

from ._support import (
    ALLOWED,
    KOZIOR_ID,
    LOUIS,
    LOUIS_ID,
    OK_NULL,
    P,
    as_data,
    blank_demographics,
    conforms,
    contacts,
    invalid,
    louis_data,
    mandatory,
    not_found,
    not_unique,
    only_one,
    post,
    show,
)


# -- POST contact_information/update (CC-UPDATE-1 to CC-UPDATE-3) ---------------------------
def update(client, token, identifier, **body):
    return post(
        client,
        "/contact_information/update",
        {"token": token, "contact_information_identifier": identifier, **body},
    )


def test_update_contact_information_absent_untouched_null_clears(client, crm, token, sim, schemas):
    r = update(
        client,
        token,
        {"number": "CI000111"},
        middle_name="Maria",
        title=None,
        demographics={"passport_number": None, "gender": "FEMALE"},
    )
    expected = louis_data(
        middle_name="Maria",
        title=None,
        demographics={**LOUIS["demographics"], "passport_number": None, "gender": "FEMALE"},
    )
    expect(r, 200, {"status": OK_NULL, "data": expected})
    assert r.get_json()["data"]["name"] == "Louis Maria Kozior"
    conforms(schemas, "update_contact_information.response.json", r.get_json())
    stored = contacts(sim)[0]
    assert as_data(stored) == expected
    r = show(client, token=token, contact_information_identifier="number=CI000111")
    assert r.get_json()["data"] == expected


def test_update_contact_information_with_no_changes(client, crm, token, sim):
    before = contacts(sim)
    expect(update(client, token, {"id": LOUIS_ID}), 200, {"status": OK_NULL, "data": louis_data()})
    assert contacts(sim) == before


def test_update_contact_information_sets_are_added(client, crm, token, sim):
    r = update(
        client,
        token,
        {"number": "CI000111"},
        phone_set=[{"type": "MOBILE", "number": "999"}],
        demographics={"email_set": [{"type": "WORK", "email_address": "w@crm.com"}]},
        fields_set="phones_set,emails_set,addresses_set",
    )
    data = r.get_json()["data"]
    assert [p["number"] for p in data["phones_set"]] == ["123456", "999"]
    assert data["phones_set"][0] == LOUIS["phones_set"][0]
    assert [e["email_address"] for e in data["emails_set"]] == ["louis@crm.com", "w@crm.com"]
    assert data["addresses_set"] == LOUIS["addresses_set"]
    assert contacts(sim)[0]["phones_set"] == data["phones_set"]


def test_update_contact_information_null_set_clears_it(client, crm, token, sim):
    r = update(
        client,
        token,
        {"number": "CI000111"},
        phones_set=None,
        address_set=None,
        fields_set="phones_set,addresses_set,emails_set",
    )
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {"addresses_set": [], "phones_set": [], "emails_set": LOUIS["emails_set"]},
        },
    )
    r = update(
        client,
        token,
        {"number": "CI000111"},
        email_set=None,
        emails_set=[{"email_address": "n@crm.com"}],
        fields_set="emails_set",
    )
    [email] = r.get_json()["data"]["emails_set"]
    assert email["email_address"] == "n@crm.com"


def test_update_contact_information_null_demographics_clears_them(client, crm, token):
    r = update(client, token, {"number": "CI000111"}, demographics=None, fields_set="demographics")
    expect(r, 200, {"status": OK_NULL, "data": {"demographics": blank_demographics()}})


def test_update_contact_information_date_of_birth(client, crm, token):
    r = update(
        client,
        token,
        {"number": "CI000111"},
        demographics={"date_of_birth": {"day": 29, "month": 2, "year": 2024}},
        fields_set="demographics",
    )
    assert r.get_json()["data"]["demographics"]["date_of_birth"] == {
        "day": 29,
        "month": 2,
        "year": 2024,
    }
    r = update(
        client,
        token,
        {"number": "CI000111"},
        demographics={"date_of_birth": None},
        fields_set="demographics",
    )
    assert r.get_json()["data"]["demographics"]["date_of_birth"] is None
    assert r.get_json()["data"]["demographics"]["passport_number"] == "P111"


@pytest.mark.parametrize(
    "identifier",
    [
        {"id": LOUIS_ID},
        {"number": "CI000111"},
        {"id_number": "ID111"},
        {"passport_number": "P111"},
        {"social_security_number": "SSN111"},
        {"number": "CI000111", "id": None},
    ],
)
def test_update_contact_information_by_each_identifier(client, crm, token, identifier):
    r = update(client, token, identifier, notes="updated", fields_set="id,notes")
    expect(r, 200, {"status": OK_NULL, "data": {"id": LOUIS_ID, "notes": "updated"}})


def test_update_contact_information_company_identifiers(client, crm, token):
    for identifier in ({"vat_registration_number": "VAT112"}, {"registration_number": "REG112"}):
        r = update(client, token, identifier, fields_set="id")
        expect(r, 200, {"status": OK_NULL, "data": {"id": KOZIOR_ID}})
    r = update(client, token, {"social_security_number": "SSN112"})
    expect(r, 200, not_found("contact information", "social_security_number", "SSN112"))


@pytest.mark.parametrize("identifier", [None, {}, {"number": None}, "absent"])
def test_update_contact_information_identifier_is_mandatory(client, crm, token, identifier):
    body = {"token": token, "notes": "x"}
    if identifier != "absent":
        body[P] = identifier
    expect(post(client, "/contact_information/update", body), 200, mandatory(P))


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ({"number": "CI000111", "id": LOUIS_ID}, only_one(P)),
        ({"number": "CI000111", "passport_number": "P111", "id_number": "ID111"}, only_one(P)),
        ("number=CI000111", invalid(P, "must be an object naming one field")),
        (["number", "CI000111"], invalid(P, "must be an object naming one field")),
        ({"name": "Louis"}, invalid(P, f"names an unknown field 'name' (allowed: {ALLOWED})")),
        ({"number": 111}, invalid(P, "has a value for 'number' that is not a string")),
        ({"number": ""}, invalid(P, "has an empty value for 'number'")),
        ({"number": {"x": 1}}, invalid(P, "has a value for 'number' that is not a string")),
    ],
)
def test_update_contact_information_bad_identifier(client, crm, token, identifier, expected):
    expect(update(client, token, identifier), 200, expected)


def test_update_contact_information_not_found(client, crm, token, sim):
    before = contacts(sim)
    expect(
        update(client, token, {"number": "CI000999"}, notes="x"),
        200,
        not_found("contact information", "number", "CI000999"),
    )
    assert contacts(sim) == before


@pytest.mark.parametrize(
    ("identifier", "body", "param"),
    [
        ({"number": "CI000111"}, {"first_name": None}, "first_name"),
        ({"number": "CI000111"}, {"last_name": None}, "last_name"),
        ({"number": "CI000111"}, {"last_name": " "}, "last_name"),
        ({"number": "CI000111"}, {"type": "COMPANY"}, "company_name"),
        ({"number": "CI000112"}, {"company_name": None}, "company_name"),
        ({"number": "CI000112"}, {"type": "PERSON", "first_name": "A"}, "last_name"),
        ({"number": "CI000111"}, {"type": None}, "type"),
        ({"number": "CI000111"}, {"type": ""}, "type"),
        ({"number": "CI000111"}, {"phone_set": [{}]}, "phone_set[0].number"),
    ],
)
def test_update_contact_information_mandatory_on_condition(
    client, crm, token, sim, identifier, body, param
):
    before = contacts(sim)
    expect(update(client, token, identifier, **body), 200, mandatory(param))
    assert contacts(sim) == before


def test_update_contact_information_mandatory_before_values_before_lookup(client, crm, token):
    # the body's mandatory parameters are checked before the identifier's value ...
    expect(update(client, token, {"number": "CI1", "id": "X"}, type=None), 200, mandatory("type"))
    # ... the identifier's value before the body's values ...
    expect(update(client, token, {"a": "1", "b": "2"}, title=5), 200, only_one(P))
    # ... and every value before the lookup
    expect(
        update(client, token, {"number": "CI000999"}, title=5),
        200,
        invalid("title", "must be a string"),
    )


def test_update_contact_information_change_type(client, crm, token):
    r = update(
        client,
        token,
        {"number": "CI000111"},
        type="COMPANY",
        company_name="Louis Co",
        fields_set="type,name",
    )
    expect(r, 200, {"status": OK_NULL, "data": {"type": "COMPANY", "name": "Louis Co"}})


def test_update_contact_information_uniqueness(client, crm, token, sim):
    r = update(client, token, {"number": "CI000112"}, demographics={"passport_number": "P111"})
    expect(r, 200, not_unique("passport_number"))
    r = update(
        client,
        token,
        {"number": "CI000111"},
        demographics={"passport_number": "P111", "id_number": "ID111"},
        fields_set="number",
    )
    expect(r, 200, {"status": OK_NULL, "data": {"number": "CI000111"}})
    r = update(
        client,
        token,
        {"number": "CI000112"},
        demographics={"passport_number": "P112"},
        fields_set="demographics",
    )
    assert r.get_json()["data"]["demographics"]["passport_number"] == "P112"
    r = update(client, token, {"number": "CI000111"}, demographics={"passport_number": "P112"})
    expect(r, 200, not_unique("passport_number"))


def test_update_contact_information_updated_identifiers_are_indexed(client, crm, token):
    update(client, token, {"number": "CI000111"}, demographics={"passport_number": "NEWP"})
    r = show(client, token=token, contact_information_identifier="passport_number=NEWP")
    assert r.get_json()["data"]["id"] == LOUIS_ID
    r = show(client, token=token, contact_information_identifier="passport_number=P111")
    expect(r, 200, not_found("contact information", "passport_number", "P111"))
