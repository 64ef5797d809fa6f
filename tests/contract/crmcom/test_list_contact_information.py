"""CRM.COM GET contact_information/list (CC-L1): get_pending's paging
rules, oldest first, filters on the identifier fields and the name, from the indexes."""

import pytest
from helpers import expect

from simulator.store.tiny import Table as IndexedTable
from simulator.world import DEFAULT

from ._support import BASE, LOGIN, NOW


def person(n, **extra):
    return {
        "number": f"CI{n:06d}",
        "type": "PERSON",
        "first_name": "Ann" if n % 2 else "Bob",
        "last_name": f"Smith{n % 3}",
        **extra,
    }


CONTACTS = [
    person(1, demographics={"passport_number": "P1", "id_number": "ID1"}),
    person(2, demographics={"social_security_number": "SSN"}),
    {
        "number": "CI000003",
        "type": "COMPANY",
        "company_name": "Kozior Ltd",
        "vat_registration_number": "VAT3",
        "registration_number": "REG3",
    },
    person(4),
    person(5, middle_name="Q"),
    {
        "number": "CI000006",
        "type": "COMPANY",
        "company_name": "Ann Smith1",
        "demographics": {"social_security_number": "SSN"},
    },
]


@pytest.fixture
def six_contacts(sim):
    """CONTACTS loaded (the conftest's ``crm`` world is another)."""
    sim.freeze(NOW)
    sim.put_state({"users": [LOGIN], "contacts": CONTACTS}, vendor="crmcom")
    return sim


@pytest.fixture
def list_token(client, six_contacts):
    return client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]


def list_page(client, token, number_of_results="50", offset="0", **params):
    """GET contact_information/list (a raw response); None leaves a parameter out."""
    query = {"token": token, "number_of_results": number_of_results, "offset": offset, **params}
    query = {k: v for k, v in query.items() if v is not None}
    return client.get(BASE + "/contact_information/list", query_string=query)


def list_body(client, token, *args, **params):
    """The body of a 200 answer to list_page (CRM.COM answers its errors with 200 too)."""
    return expect(list_page(client, token, *args, **params), 200)


def numbers(body):
    assert body["status"] == {"code": "OK", "message": None, "description": None}, body
    return [c["number"] for c in body["data"]]


def error_code(body):
    assert body["data"] is None
    return body["status"]["code"].removeprefix("COM.CRM.EXCEPTION.")


def test_pages_oldest_first_with_offset(client, list_token):
    assert numbers(list_body(client, list_token, "2")) == ["CI000001", "CI000002"]
    assert numbers(list_body(client, list_token, "2", "2")) == ["CI000003", "CI000004"]
    assert numbers(list_body(client, list_token, "2", "4")) == ["CI000005", "CI000006"]
    assert numbers(list_body(client, list_token, "2", "6")) == []
    assert numbers(list_body(client, list_token, "50", "999999999999999999999")) == []


def test_each_item_is_the_show_representation(client, list_token):
    [listed] = list_body(client, list_token, "1", "4")["data"]
    shown = client.get(
        BASE + "/contact_information/show",
        query_string={"token": list_token, "contact_information_identifier": "number=CI000005"},
    ).get_json()["data"]
    assert listed == shown
    assert listed["name"] == "Ann Q Smith2"
    assert listed["udf_string_16"] is None and listed["udf_float_7"] is None


def test_fields_set_filters_each_item(client, list_token):
    body = list_body(client, list_token, "2", fields_set="number,name,bogus")
    assert body["data"] == [
        {"number": "CI000001", "name": "Ann Smith1"},
        {"number": "CI000002", "name": "Bob Smith2"},
    ]


def test_created_contacts_come_after_loaded_ones_and_updates_keep_the_place(client, list_token):
    created = client.post(
        BASE + "/contact_information/create",
        json={"token": list_token, "type": "PERSON", "first_name": "Zed", "last_name": "Last"},
    ).get_json()["data"]["number"]
    client.post(
        BASE + "/contact_information/update",
        json={
            "token": list_token,
            "contact_information_identifier": {"number": "CI000001"},
            "notes": "touched",
        },
    )
    assert numbers(list_body(client, list_token))[0] == "CI000001"
    assert numbers(list_body(client, list_token))[-1] == created == "CI000007"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"number": "CI000004"}, ["CI000004"]),
        ({"passport_number": "P1"}, ["CI000001"]),
        ({"id_number": "ID1"}, ["CI000001"]),
        ({"vat_registration_number": "VAT3"}, ["CI000003"]),
        ({"registration_number": "REG3"}, ["CI000003"]),
        ({"social_security_number": "SSN"}, ["CI000002"]),  # PERSON only, as in show
        ({"name": "Ann Smith1"}, ["CI000001", "CI000006"]),
        ({"name": "ann smith1"}, []),  # compared exactly, like identifier values
        ({"name": "Ann Smith1", "passport_number": "P1"}, ["CI000001"]),
        ({"name": "Ann Smith1", "number": "CI000004"}, []),
        ({"name": "", "number": "CI000004"}, ["CI000004"]),  # a blank filter is none
        ({"id": "nope"}, []),
    ],
)
def test_filters_all_must_match(client, list_token, params, expected):
    assert numbers(list_body(client, list_token, **params)) == expected


def test_filtered_pages(client, list_token):
    for _ in range(7, 12):
        client.post(
            BASE + "/contact_information/create",
            json={
                "token": list_token,
                "type": "PERSON",
                "first_name": "Ann",
                "last_name": "Smith1",
            },
        )
    assert numbers(list_body(client, list_token, "3", "1", name="Ann Smith1")) == [
        "CI000006",
        "CI000007",
        "CI000008",
    ]
    assert numbers(list_body(client, list_token, "3", "6", name="Ann Smith1")) == ["CI000011"]


@pytest.mark.parametrize(
    ("number_of_results", "offset", "code"),
    [
        (None, "0", "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION"),
        ("10", None, "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION"),
        ("", "0", "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION"),
        ("0", "0", "GENERAL.INVALIDPARAMETERVALUEEXCEPTION"),
        ("1.5", "0", "GENERAL.INVALIDPARAMETERVALUEEXCEPTION"),
        ("10", "-1", "GENERAL.INVALIDPARAMETERVALUEEXCEPTION"),
        ("51", "0", "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION"),
    ],
)
def test_paging_values_as_get_pending(client, list_token, number_of_results, offset, code):
    body = list_body(client, list_token, number_of_results, offset)
    assert error_code(body) == code


def test_fifty_is_the_most(client, list_token):
    assert len(list_body(client, list_token, "50")["data"]) == 6
    assert error_code(list_body(client, list_token, "51")) == (
        "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION"
    )


def test_fifty_one_is_the_same_error_as_get_pending(client, six_contacts, list_token):
    listed = list_body(client, list_token, "51")
    pending = client.get(
        BASE + "/provisioning/generic_provisioning_requests/get_pending",
        query_string={
            "token": list_token,
            "provisioning_provider_identifier": "id=P",
            "number_of_results": "51",
            "offset": "0",
        },
    ).get_json()
    assert listed == pending


def test_token_is_checked_first(client, six_contacts):
    body = list_body(client, "nope", "51")
    assert error_code(body) == "AUTHENTICATION.INVALIDTOKENEXCEPTION"


def test_request_schema_and_journal(client, list_token, six_contacts):
    list_body(client, list_token, "5", name="Ann Smith1")
    [entry] = six_contacts.journal(operation="crmcom.list_contact_information")
    assert entry["violations"] == []
    list_body(client, list_token, "51")
    assert (
        six_contacts.journal(operation="crmcom.list_contact_information")[-1]["violations"][0][
            "pointer"
        ]
        == "/number_of_results"
    )


def test_cost_does_not_grow_with_stored_contacts(app, client, sim, monkeypatch):
    sim.freeze(NOW)
    many = [person(n, demographics={"passport_number": f"P{n}"}) for n in range(1, 3001)]
    sim.put_state({"users": [LOGIN], "contacts": many}, vendor="crmcom")
    list_token = client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]
    world = app.extensions["crmsim"].namespaces.get(DEFAULT)
    contacts = world.backends["crmcom"].contacts
    reads = []
    real_doc = IndexedTable.get

    def counting_doc(self, doc_id):
        reads.append(doc_id)
        return real_doc(self, doc_id)

    def no_scan(self):
        raise AssertionError("contact_information/list scanned the table")

    monkeypatch.setattr(IndexedTable, "get", counting_doc)
    monkeypatch.setattr(IndexedTable, "__iter__", no_scan)
    assert len(contacts) == 3000
    assert numbers(list_body(client, list_token, "10", "2900"))[0] == "CI002901"
    assert len(reads) <= 10
    reads.clear()
    assert numbers(list_body(client, list_token, "10", "0", passport_number="P2999")) == [
        "CI002999"
    ]
    assert len(reads) <= 2
