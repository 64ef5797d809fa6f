"""Request schemas describe what each vendor accepts (issue 12 items 1-2; CC-R1, CC-R3,
OM-R1, BW-R1): what a vendor ignores is no violation and is not refused under
``strict_contract``; what it refuses still is, and a schema never changes what the vendor
does."""

import json

import pytest
from helpers import expect

from .crmcom._support import BASE, KEY, KEY_HEADER, LOGIN, NOW

CRM_STATE = {
    "users": [dict(LOGIN)],
    "web_api_keys": [{"key": KEY, "organisation": "ACME"}],
    "contacts": [
        {"number": "CI000111", "type": "PERSON", "first_name": "Louis", "last_name": "Kozior"}
    ],
    "provisioning_providers": [{"id": "PROV1", "name": "Generic One"}],
}
OMOTO_STATE = {"campaigns": [{"campaign_id": "154", "api_key": "KEY-A"}]}
BOTW_STATE = {"api_keys": {"KEY": ["123"]}}
BEARER = {"Authorization": "Bearer KEY"}


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def strict(request, client, sim):
    sim.freeze(NOW)
    sim.put_state({"crmcom": CRM_STATE, "omoto": OMOTO_STATE, "botw": BOTW_STATE})
    r = client.put("/__sim/settings", json={"strict_contract": request.param})
    assert r.status_code == 200
    return request.param


def last_violations(sim):
    return sim.journal()[-1]["violations"]


def token(client):
    return client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]


def tolerated(r, sim):
    """The vendor's own answer, no violation recorded, whatever strict_contract says."""
    assert r.status_code != 422, r.get_json()
    assert r.headers["X-Sim-Violations"] == "0"
    assert last_violations(sim) == []


def refused(r, sim, strict, pointer):
    """A violation at ``pointer``; with strict_contract the answer is the 422 problem."""
    assert pointer in [v["pointer"] for v in last_violations(sim)]
    if strict:
        assert r.status_code == 422
        assert r.get_json()["errors"] == last_violations(sim)
    else:
        assert r.status_code != 422


# -- CRM.COM --------------------------------------------------------------------------------
def test_crmcom_login_with_token_null_is_tolerated(client, sim, strict):
    # CRM.COM's own Java sample sends "token": null at login (CC-R1)
    r = client.post(BASE + "/authentication/token", json={"token": None, **LOGIN})
    tolerated(r, sim)
    assert r.get_json()["status"]["code"] == "OK"
    assert len(sim.state("crmcom")["tokens"]) == 1


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/authentication/web_api_key/token", {"client": "php"}),
        ("/authentication/token/release", {"unit": None, "x": [1]}),
    ],
)
def test_crmcom_unknown_keys_are_tolerated(client, sim, strict, path, extra):
    body = dict(extra)
    if path.endswith("release"):
        body["token"] = token(client)
    r = client.post(BASE + path, json=body, headers=KEY_HEADER)
    tolerated(r, sim)
    assert r.get_json()["status"]["code"] == "OK"


def test_crmcom_create_with_unknown_and_null_members_is_tolerated(client, sim, strict):
    body = {
        "token": token(client),
        "type": "PERSON",
        "first_name": "Jane",
        "last_name": "Doe",
        "id": None,  # a client serialising every property of its class
        "life_cycle_state": None,
        "category_identifier": {"name": "VIP", "id": None, "alternative_code": None},
        "demographics": {"date_of_birth": {"day": 1, "month": 2, "year": 1990, "era": "AD"}},
        "email_set": [{"type": "PERSONAL", "email_address": "j@x.io", "is_primary": True}],
        "phone_set": [{"type": "MOBILE", "number": "123", "country_code": "357"}],
        "address_set": [{"town_city": "Nicosia", "geo": {"lat": 35}}],
        "udf_string_16": "sixteen",
        "udf_float_7": 7.5,
    }
    r = client.post(BASE + "/contact_information/create", json=body)
    tolerated(r, sim)
    data = r.get_json()["data"]
    assert data["category"] == {"name": "VIP"}
    assert (data["udf_string_16"], data["udf_float_7"]) == ("sixteen", 7.5)
    assert data["emails_set"][0]["email_address"] == "j@x.io"


def test_crmcom_update_identifier_with_null_members_is_tolerated(client, sim, strict):
    body = {
        "token": token(client),
        "contact_information_identifier": {"number": "CI000111", "id": None},
        "middle_name": "Q",
    }
    r = client.post(BASE + "/contact_information/update", json=body)
    tolerated(r, sim)
    assert r.get_json()["data"]["name"] == "Louis Q Kozior"


def test_crmcom_unknown_query_parameters_are_tolerated(client, sim, strict):
    r = client.get(
        BASE + "/contact_information/show",
        query_string={
            "token": token(client),
            "contact_information_identifier": "number=CI000111",
            "_": "1717243200000",  # a jQuery cache buster
        },
    )
    tolerated(r, sim)
    assert r.get_json()["data"]["number"] == "CI000111"


@pytest.mark.parametrize(
    ("body", "pointer", "code"),
    [
        ({"type": "PEOPLE"}, "/type", "INVALIDPARAMETERVALUE"),
        ({"type": "PERSON", "last_name": "Doe"}, "/first_name", "MANDATORYPARAMETERMISSING"),
        (
            {"type": "COMPANY", "company_name": "X", "category_identifier": {"a": None}},
            "/category_identifier",
            "MANDATORYPARAMETERMISSING",
        ),
        (
            {"type": "COMPANY", "company_name": "X", "udf_float_7": "1.5"},
            "/udf_float_7",
            "INVALIDPARAMETERVALUE",
        ),
    ],
)
def test_crmcom_refused_input_is_still_a_violation(client, sim, strict, body, pointer, code):
    r = client.post(BASE + "/contact_information/create", json={"token": token(client), **body})
    refused(r, sim, strict, pointer)
    if not strict:
        assert r.get_json()["status"]["code"].endswith(code + "EXCEPTION")


def test_crmcom_update_identifier_naming_two_fields_is_a_violation(client, sim, strict):
    body = {
        "token": token(client),
        "contact_information_identifier": {"number": "CI000111", "id": "X"},
    }
    r = client.post(BASE + "/contact_information/update", json=body)
    refused(r, sim, strict, "/contact_information_identifier")
    if not strict:
        assert r.get_json()["status"]["code"].endswith("ONLYONEIDENTIFIERALLOWEDEXCEPTION")


# -- Omoto ----------------------------------------------------------------------------------
CUSTOMER = {"personalinfo": {"firstname": "bertram", "email": "bertie@jeeves.com"}}


def test_omoto_unknown_keys_and_skipped_customers_are_tolerated(client, sim, strict):
    body = [
        {**CUSTOMER, "source": "crm", "personalinfo": {**CUSTOMER["personalinfo"], "x": 1}},
        {"personalinfo": {"firstname": "no contact"}},  # skipped by Omoto, no error
        {"qualifyinginfo": [{"name": "unitname", "value": "u", "extra": True}]},
    ]
    r = client.post("/omoto/receivecustomerinfo.htm?key=KEY-A", json=body)
    tolerated(r, sim)
    assert r.get_json() == {"status": "success"}
    assert len(sim.outbox(vendor="omoto")) == 1


def test_omoto_response_api_unknown_keys_are_tolerated(client, sim, strict):
    form = {
        "jsonheader": json.dumps({"processid": "76", "version": 2}),
        "jsonbody": json.dumps(
            {"campaignid": 154, "npsrating": 9, "customerinfo": {"city": "Pune"}, "x": None}
        ),
    }
    r = client.post("/omoto/endpoint.htm?key=KEY-A", data=form)
    tolerated(r, sim)
    assert r.get_json() == {"status": "success"}


def test_omoto_refused_input_is_still_a_violation(client, sim, strict):
    r = client.post("/omoto/receivecustomerinfo.htm?key=KEY-A", json=[CUSTOMER, "x"])
    refused(r, sim, strict, "/1")
    if not strict:
        expect(r, 400, {"response": "parseerror"})


# -- BOTW -----------------------------------------------------------------------------------
def test_botw_blank_values_and_unknown_fields_are_tolerated(client, sim, strict):
    form = {"email": "", "phone": "+1 (555) 123-4567", "first_name": "Ann", "utm_source": "x"}
    r = client.post("/crm/123", data=form, headers=BEARER)
    tolerated(r, sim)
    assert r.status_code == 201
    assert sim.state("botw")["contacts"][0]["email"] is None


def test_botw_non_numeric_id_is_answered_like_an_unknown_id(client, sim, strict):
    r = client.put("/crm/123", data={"id": "abc", "email": "ann@example.com"}, headers=BEARER)
    tolerated(r, sim)
    assert r.status_code == 201  # an unknown id with an email creates (BW-PUT-2)


@pytest.mark.parametrize(
    ("method", "form", "pointer"),
    [
        ("post", {"email": " ", "phone": ""}, ""),
        ("post", {"email": "not-an-email"}, "/email"),
        ("get", {"utm_source": "x"}, ""),
    ],
)
def test_botw_refused_input_is_still_a_violation(client, sim, strict, method, form, pointer):
    if method == "get":
        r = client.get("/crm/123", query_string=form, headers=BEARER)
    else:
        r = client.post("/crm/123", data=form, headers=BEARER)
    refused(r, sim, strict, pointer)
    if not strict:
        assert r.status_code == 400
