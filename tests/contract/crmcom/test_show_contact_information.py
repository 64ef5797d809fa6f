"""CRM.COM GET contact_information/show: the representation, identifiers, fields_set."""

import pytest
from helpers import expect

from ._support import (
    ALLOWED,
    BASE,
    KOZIOR_LTD,
    LOGIN,
    LOUIS,
    LOUIS_ID,
    OK_NULL,
    STATE,
    P,
    as_data,
    conforms,
    invalid,
    louis_data,
    mandatory,
    not_found,
    only_one,
    post,
    show,
)


# -- GET contact_information/show (CC-SHOW-1, CC-SHOW-2, CC-REP-1) --------------------------------
def test_show_contact_information_full_representation(client, crm, token, schemas):
    r = show(client, token=token, contact_information_identifier="number=CI000111")
    expect(r, 200, {"status": OK_NULL, "data": louis_data()})
    assert r.get_json()["data"]["name"] == "Louis Kozior"
    assert list(r.get_json()) == ["status", "data"]
    conforms(schemas, "show_contact_information.response.json", r.get_json())


@pytest.mark.parametrize(
    ("identifier", "contact"),
    [
        ("id=" + LOUIS_ID, LOUIS),
        ("number=CI000111", LOUIS),
        ("id_number=ID111", LOUIS),
        ("passport_number=P111", LOUIS),
        ("social_security_number=SSN111", LOUIS),
        ("number=CI000112", KOZIOR_LTD),
        ("vat_registration_number=VAT112", KOZIOR_LTD),
        ("registration_number=REG112", KOZIOR_LTD),
    ],
)
def test_show_contact_information_by_each_identifier_field(client, crm, token, identifier, contact):
    r = show(client, token=token, contact_information_identifier=identifier)
    expect(r, 200, {"status": OK_NULL, "data": as_data(contact)})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("social_security_number", "SSN112"),  # PERSON only; this one is a COMPANY's
        ("number", "ci000111"),
        ("number", "CI000999"),
        ("id", LOUIS_ID.lower()),
        ("passport_number", "P111 "),
    ],
)
def test_show_contact_information_entity_not_found(client, crm, token, field, value):
    r = show(client, token=token, contact_information_identifier=f"{field}={value}")
    expect(r, 200, not_found("contact information", field, value))


def test_show_contact_information_vat_number_is_company_only(client, crm, token, sim):
    sim.put_state(
        {**STATE, "contacts": [{**LOUIS, "vat_registration_number": "VATP"}]}, vendor="crmcom"
    )
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    r = show(client, token=token, contact_information_identifier="vat_registration_number=VATP")
    expect(r, 200, not_found("contact information", "vat_registration_number", "VATP"))


def test_show_contact_information_fields_set_from_the_document(client, crm, token):
    r = show(
        client,
        token=token,
        contact_information_identifier="number=CI000111",
        fields_set="name,preferred_language,addresses_set,phones_set,emails_set",
    )
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "name": "Louis Kozior",
                "preferred_language": "EN",
                "addresses_set": LOUIS["addresses_set"],
                "phones_set": LOUIS["phones_set"],
                "emails_set": LOUIS["emails_set"],
            },
        },
    )


@pytest.mark.parametrize(
    ("fields_set", "keys"),
    [
        ("address_set,phone_set,email_set", ["addresses_set", "phones_set", "emails_set"]),
        ("emails_set, id ,nonsense", ["id", "emails_set"]),
        ("nonsense,other", []),
        ("", None),
        (",,", None),
        ("demographics", ["demographics"]),
    ],
)
def test_show_contact_information_fields_set_filtering(client, crm, token, fields_set, keys):
    r = show(
        client, token=token, contact_information_identifier="number=CI000111", fields_set=fields_set
    )
    data = louis_data()
    expected = data if keys is None else {k: data[k] for k in data if k in keys}
    expect(r, 200, {"status": OK_NULL, "data": expected})


@pytest.mark.parametrize("value", [None, "", "  "])
def test_show_contact_information_identifier_is_mandatory(client, crm, token, value):
    params = {"token": token}
    if value is not None:
        params["contact_information_identifier"] = value
    expect(show(client, **params), 200, mandatory("contact_information_identifier"))


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("CI000111", invalid(P, "must be written as field=value")),
        ("number=CI000111,CI2", invalid(P, "must be written as field=value")),
        ("number=CI000111,", invalid(P, "must be written as field=value")),
        ("number=CI000111,id=" + LOUIS_ID, only_one(P)),
        ("number=CI000111,number=CI000112", only_one(P)),
        ("name=Louis", invalid(P, f"names an unknown field 'name' (allowed: {ALLOWED})")),
        ("NUMBER=CI000111", invalid(P, f"names an unknown field 'NUMBER' (allowed: {ALLOWED})")),
        ("=CI000111", invalid(P, f"names an unknown field '' (allowed: {ALLOWED})")),
        ("number=", invalid(P, "has an empty value for 'number'")),
    ],
)
def test_show_contact_information_malformed_identifier(client, crm, token, identifier, expected):
    expect(show(client, token=token, contact_information_identifier=identifier), 200, expected)


def test_show_contact_information_identifier_values_come_before_lookup(client, crm, token):
    r = show(client, token=token, contact_information_identifier="bogus=1,number=CI000999")
    expect(r, 200, only_one(P))


def test_show_contact_information_bad_query_strings(client, crm, token):
    url = BASE + "/contact_information/show"
    r = client.get(
        f"{url}?token={token}&token={token}&contact_information_identifier=number%3DCI000111"
    )
    expect(r, 200, invalid("token", "is given more than once"))
    r = client.get(f"{url}?token={token}&contact_information_identifier=number%3D%FF")
    expect(r, 200, invalid(None, "The query string is not valid UTF-8."))
    r = client.get(f"{url}?=x&token={token}")
    expect(r, 200, invalid(None, "The query string has a parameter with no name."))


def test_show_contact_information_percent_encoded_identifier(client, crm, token):
    url = BASE + "/contact_information/show"
    r = client.get(f"{url}?token={token}&contact_information_identifier=number=CI000111")
    assert r.get_json()["data"]["number"] == "CI000111"
