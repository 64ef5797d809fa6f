"""CRM.COM POST contact_information/create: the document sample, numbering, name rules,
mandatory and invalid parameters, uniqueness."""

import json

import pytest
from helpers import expect

from ._support import (
    BASE,
    DOCUMENT_SAMPLE,
    KOZIOR_LTD,
    LOGIN,
    LOUIS,
    NOW,
    OK_NULL,
    PERSON,
    STATE,
    as_data,
    bad_body,
    blank_demographics,
    conforms,
    contacts,
    create,
    invalid,
    mandatory,
    not_unique,
    only_one,
    post,
    show,
)


def test_create_contact_information_document_sample(client, crm, token, sim, schemas):
    r = post(client, "/contact_information/create", {**DOCUMENT_SAMPLE, "token": token})
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == OK_NULL
    [email] = body["data"]["emails_set"]
    assert len(email["id"]) == 32 and email["id"] == email["id"].upper()
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "first_name": "Customer",
                "last_name": "Customer",
                "demographics": blank_demographics(
                    gender="FEMALE",
                    id_number="ABC123456",
                    passport_number="ABC123456",
                    social_security_number="ABC123456",
                    date_of_birth={"day": 1, "month": 1, "year": 1980},
                    country_of_residence={"name": "CYPRUS"},
                    id_issued_by_country={"name": "CYPRUS"},
                    passport_issued_by_country={"name": "GREECE"},
                    industry={"name": "Industry"},
                    industry_sector={"name": "FOREX"},
                ),
                "emails_set": [
                    {"id": email["id"], "type": "PERSONAL", "email_address": "123456@crm.com"}
                ],
            },
        },
    )
    conforms(schemas, "create_contact_information.response.json", body)
    stored = contacts(sim)[-1]
    assert stored["number"] == "CI000113"
    assert len(stored["id"]) == 32 and all(c in "0123456789ABCDEF" for c in stored["id"])
    assert stored["life_cycle_state"] == "MARKETING"
    assert stored["category"] == {"name": "Contact Category"}
    assert stored["owned_by_group"] == {"name": "Main Group"}
    assert stored["privacy_level"] == {"number": "8"}
    assert stored["addresses_set"][0]["country"] == {"two_character_code": "CY"}
    assert stored["addresses_set"][0]["floor"] == 1
    assert stored["phones_set"][0]["number"] == "123456"
    r = show(client, token=token, contact_information_identifier="number=CI000113")
    assert r.get_json()["data"]["name"] == "Customer Customer Customer"
    assert r.get_json()["data"] == as_data(stored)


def test_create_contact_information_returns_every_field_without_fields_set(
    client, crm, token, sim, schemas
):
    r = create(client, token, type="COMPANY", company_name="Acme Ltd", vat_registration_number="V1")
    stored = contacts(sim)[-1]
    expect(r, 200, {"status": OK_NULL, "data": as_data(stored)})
    data = r.get_json()["data"]
    assert data["name"] == "Acme Ltd"
    assert data["life_cycle_state"] == "MARKETING"
    assert data["organizational_unit"] == 0
    conforms(schemas, "create_contact_information.response.json", r.get_json())


def test_create_contact_information_number_follows_the_highest(client, sim):
    sim.freeze(NOW)
    state = {
        **STATE,
        "contacts": [{**LOUIS, "number": "CI000041"}, {**KOZIOR_LTD, "number": "CI000007"}],
    }
    sim.put_state(state, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    numbers = [
        create(client, token, type="COMPANY", company_name=f"C{i}").get_json()["data"]["number"]
        for i in range(2)
    ]
    assert numbers == ["CI000042", "CI000043"]


def test_create_contact_information_first_number_is_ci000001(client, sim):
    sim.put_state({"users": [LOGIN]}, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    r = create(
        client, token, type="PERSON", first_name="A", last_name="B", fields_set="number,name"
    )
    expect(r, 200, {"status": OK_NULL, "data": {"number": "CI000001", "name": "A B"}})


def test_create_contact_information_sets_at_top_level_and_in_demographics(client, crm, token, sim):
    r = create(
        client,
        token,
        type="PERSON",
        first_name="A",
        last_name="B",
        phone_set=[{"type": "MOBILE", "number": "1"}],
        phones_set=[{"number": "2"}],
        demographics={"phone_set": [{"number": "3"}], "phones_set": [{"number": "4"}]},
        emails_set=[{"email_address": "a@b.c"}],
        address_set=[{"town_city": "Nicosia"}],
        fields_set="phones_set,email_set,address_set",
    )
    data = r.get_json()["data"]
    assert [p["number"] for p in data["phones_set"]] == ["1", "2", "3", "4"]
    assert data["phones_set"][0]["type"] == "MOBILE"
    assert data["phones_set"][1]["type"] is None
    assert [e["email_address"] for e in data["emails_set"]] == ["a@b.c"]
    [address] = data["addresses_set"]
    assert address["town_city"] == "Nicosia" and address["street_name"] is None
    assert list(address) == [
        "id",
        "type",
        "postal_code",
        "street_name",
        "street_number",
        "floor",
        "apartment_number",
        "area",
        "town_city",
        "district",
        "municipality",
        "country",
        "po_box",
        "po_box_postal_code",
    ]
    assert len({p["id"] for p in data["phones_set"]}) == 4


def test_create_contact_information_name_rules(client, crm, token):
    r = create(
        client,
        token,
        type="PERSON",
        first_name="Louis",
        middle_name=" ",
        last_name="Kozior",
        fields_set="name",
    )
    assert r.get_json()["data"] == {"name": "Louis Kozior"}
    r = create(
        client,
        token,
        type="PERSON",
        first_name="A",
        middle_name="B",
        last_name="C",
        fields_set="name",
    )
    assert r.get_json()["data"] == {"name": "A B C"}
    r = create(
        client, token, type="COMPANY", company_name="Big Co", first_name="X", fields_set="name"
    )
    assert r.get_json()["data"] == {"name": "Big Co"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "type"),
        ({"type": None}, "type"),
        ({"type": ""}, "type"),
        ({"type": "PERSON", "last_name": "B"}, "first_name"),
        ({"type": "PERSON", "first_name": "A"}, "last_name"),
        ({"type": "PERSON", "first_name": "A", "last_name": "  "}, "last_name"),
        ({"type": "PERSON", "first_name": None, "last_name": "B"}, "first_name"),
        ({"type": "COMPANY"}, "company_name"),
        ({"type": "COMPANY", "company_name": ""}, "company_name"),
        ({"type": "PERSON", "first_name": 5}, "last_name"),
        (
            {
                "type": "PERSON",
                "first_name": "A",
                "last_name": "B",
                "demographics": {"date_of_birth": {"day": 1, "month": 2}},
            },
            "demographics.date_of_birth.year",
        ),
        (
            {
                "type": "PERSON",
                "first_name": "A",
                "last_name": "B",
                "demographics": {"date_of_birth": {"day": None, "month": 2, "year": 1}},
            },
            "demographics.date_of_birth.day",
        ),
        (
            {
                "type": "PERSON",
                "first_name": "A",
                "last_name": "B",
                # blank is missing, and checked before the month's value
                "demographics": {"date_of_birth": {"day": " ", "month": "x", "year": 1}},
            },
            "demographics.date_of_birth.day",
        ),
        (
            {"type": "COMPANY", "company_name": "C", "phone_set": [{"type": "MOBILE"}]},
            "phone_set[0].number",
        ),
        (
            {
                "type": "COMPANY",
                "company_name": "C",
                "demographics": {"email_set": [{"email_address": "a@b"}, {"email_address": ""}]},
            },
            "demographics.email_set[1].email_address",
        ),
        (
            {"type": "COMPANY", "company_name": "C", "category_identifier": {}},
            "category_identifier",
        ),
        (
            {"type": "COMPANY", "company_name": "C", "category_identifier": {"name": None}},
            "category_identifier",
        ),
        (
            {"type": "COMPANY", "company_name": "C", "demographics": {"industry_identifier": {}}},
            "demographics.industry_identifier",
        ),
        (
            {"type": "COMPANY", "company_name": "C", "addresses_set": [{"country_identifier": {}}]},
            "addresses_set[0].country_identifier",
        ),
        # mandatory parameters are checked before any value
        ({"type": "COMPANY", "gender": 5, "demographics": "bad"}, "company_name"),
    ],
)
def test_create_contact_information_mandatory_parameters(client, crm, token, body, param, sim):
    expect(create(client, token, **body), 200, mandatory(param))
    assert len(contacts(sim)) == 2


@pytest.mark.parametrize(
    ("body", "param", "reason"),
    [
        ({"type": "ALIEN"}, "type", "must be one of PERSON, COMPANY"),
        (
            {"type": "person", "first_name": "A", "last_name": "B"},
            "type",
            "must be one of PERSON, COMPANY",
        ),
        ({"type": ["PERSON"]}, "type", "must be one of PERSON, COMPANY"),
        ({**PERSON, "title": 1}, "title", "must be a string"),
        ({**PERSON, "first_name": True}, "first_name", "must be a string"),
        ({**PERSON, "notes": {"a": 1}}, "notes", "must be a string"),
        ({**PERSON, "udf_string_3": 3}, "udf_string_3", "must be a string"),
        ({**PERSON, "udf_float_2": "1.5"}, "udf_float_2", "must be a number"),
        ({**PERSON, "udf_float_2": True}, "udf_float_2", "must be a number"),
        (
            {**PERSON, "category_identifier": "Contact Category"},
            "category_identifier",
            "must be an object naming one field",
        ),
        (
            {**PERSON, "category_identifier": {"name": ""}},
            "category_identifier",
            "has an empty value for 'name'",
        ),
        (
            {**PERSON, "category_identifier": {"name": ["x"]}},
            "category_identifier",
            "has a value for 'name' that is not a string",
        ),
        ({**PERSON, "demographics": []}, "demographics", "must be an object"),
        (
            {**PERSON, "demographics": {"gender": "OTHER"}},
            "demographics.gender",
            "must be one of MALE, FEMALE",
        ),
        (
            {**PERSON, "demographics": {"gender": "female"}},
            "demographics.gender",
            "must be one of MALE, FEMALE",
        ),
        (
            {**PERSON, "demographics": {"id_number": 123}},
            "demographics.id_number",
            "must be a string",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": "1980-01-01"}},
            "demographics.date_of_birth",
            "must be an object with day, month and year",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": "01", "month": 1, "year": 1980}}},
            "demographics.date_of_birth.day",
            "must be an integer",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 1, "month": 1.0, "year": 1980}}},
            "demographics.date_of_birth.month",
            "must be an integer",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 29, "month": 2, "year": 2023}}},
            "demographics.date_of_birth",
            "is not a valid date",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 1, "month": 13, "year": 1980}}},
            "demographics.date_of_birth",
            "is not a valid date",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 0, "month": 1, "year": 1980}}},
            "demographics.date_of_birth",
            "is not a valid date",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 1, "month": 1, "year": -5}}},
            "demographics.date_of_birth",
            "is not a valid date",
        ),
        (
            {**PERSON, "demographics": {"date_of_birth": {"day": 1, "month": 1, "year": 10**30}}},
            "demographics.date_of_birth",
            "is not a valid date",
        ),
        (
            {
                **PERSON,
                "demographics": {"country_of_residence_identifier": {"name": "CY", "code": "CY"}},
            },
            "demographics.country_of_residence_identifier",
            None,
        ),
        ({**PERSON, "phone_set": {"number": "1"}}, "phone_set", "must be an array of objects"),
        ({**PERSON, "phone_set": ["123"]}, "phone_set[0]", "must be an object"),
        ({**PERSON, "phone_set": [{"number": 123}]}, "phone_set[0].number", "must be a string"),
        (
            {**PERSON, "demographics": {"emails_set": [{"email_address": "a@b", "type": 1}]}},
            "demographics.emails_set[0].type",
            "must be a string",
        ),
        (
            {**PERSON, "address_set": [{"floor": 1.5}]},
            "address_set[0].floor",
            "must be a string or an integer",
        ),
        (
            {**PERSON, "address_set": [{"country_identifier": "CY"}]},
            "address_set[0].country_identifier",
            "must be an object naming one field",
        ),
        ({**PERSON, "fields_set": ["name"]}, "fields_set", "must be a comma-separated string"),
    ],
)
def test_create_contact_information_invalid_values(client, crm, token, body, param, reason, sim):
    expected = only_one(param) if reason is None else invalid(param, reason)
    expect(create(client, token, **body), 200, expected)
    assert len(contacts(sim)) == 2


def test_create_contact_information_huge_float_is_an_unreadable_body(client, crm, token):
    # a number beyond a double is refused as the body is read (simulator/http.py, 20bcf7f)
    body = json.dumps({"token": token, **PERSON})[:-1] + ', "udf_float_2": 1e400}'
    r = client.post(BASE + "/contact_information/create", data=body)
    expect(r, 200, bad_body("The body is not valid JSON (RFC 8259)."))


@pytest.mark.parametrize("number", [10**309, -(10**309)])
def test_create_contact_information_integer_past_a_double_is_an_invalid_float(
    client, crm, token, number, sim
):
    # JSON's integers have no bound and Python reads this one exactly; as a float it is not
    # finite (it was a 500: math.isfinite overflowed)
    expect(
        create(client, token, **PERSON, udf_float_2=number),
        200,
        invalid("udf_float_2", "must be a finite number"),
    )
    assert len(contacts(sim)) == 2


def test_create_contact_information_identifier_with_two_fields(client, crm, token):
    r = create(client, token, **PERSON, owned_by_group_identifier={"name": "G", "id": "1"})
    expect(r, 200, only_one("owned_by_group_identifier"))


def test_create_contact_information_null_identifier_fields_are_ignored(client, crm, token):
    r = create(
        client,
        token,
        **PERSON,
        category_identifier={"name": "C", "id": None},
        fields_set="category",
    )
    expect(r, 200, {"status": OK_NULL, "data": {"category": {"name": "C"}}})


def test_create_contact_information_unknown_fields_are_ignored(client, crm, token, sim):
    r = create(client, token, **PERSON, shoe_size=44, fields_set="name")
    expect(r, 200, {"status": OK_NULL, "data": {"name": "A B"}})
    assert "shoe_size" not in contacts(sim)[-1]


@pytest.mark.parametrize(
    ("demographics", "field"),
    [({"passport_number": "P111"}, "passport_number"), ({"id_number": "ID111"}, "id_number")],
)
def test_create_contact_information_uniqueness_default_rules(
    client, crm, token, sim, demographics, field
):
    expect(create(client, token, **PERSON, demographics=demographics), 200, not_unique(field))
    assert len(contacts(sim)) == 2


def test_create_contact_information_uniqueness_ignores_other_fields(client, crm, token, sim):
    r = create(
        client,
        token,
        **PERSON,
        demographics={"social_security_number": "SSN111", "passport_number": "p111"},
    )
    assert r.get_json()["status"] == OK_NULL
    assert len(contacts(sim)) == 3


def test_create_contact_information_uniqueness_fields_from_state(client, sim):
    sim.freeze(NOW)
    sim.put_state(
        {**STATE, "uniqueness_fields": ["social_security_number", "vat_registration_number"]},
        vendor="crmcom",
    )
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    r = create(
        client, token, **PERSON, demographics={"passport_number": "P111", "id_number": "ID111"}
    )
    assert r.get_json()["status"] == OK_NULL
    r = create(client, token, **PERSON, demographics={"social_security_number": "SSN111"})
    expect(r, 200, not_unique("social_security_number"))
    r = create(client, token, type="COMPANY", company_name="X", vat_registration_number="VAT112")
    expect(r, 200, not_unique("vat_registration_number"))
    sim.put_state({**STATE, "uniqueness_fields": []}, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    r = create(client, token, **PERSON, demographics={"passport_number": "P111"})
    assert r.get_json()["status"] == OK_NULL


def test_create_contact_information_values_come_before_uniqueness(client, crm, token):
    r = create(client, token, **PERSON, demographics={"passport_number": "P111", "gender": "X"})
    expect(r, 200, invalid("demographics.gender", "must be one of MALE, FEMALE"))


def test_create_contact_information_two_creates_in_one_request_sequence_are_checked(
    client, crm, token
):
    assert (
        create(client, token, **PERSON, demographics={"passport_number": "NEW"}).get_json()[
            "status"
        ]
        == OK_NULL
    )
    expect(
        create(client, token, **PERSON, demographics={"passport_number": "NEW"}),
        200,
        not_unique("passport_number"),
    )
