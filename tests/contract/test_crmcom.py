"""CRM.COM Web API v2 contract tests: every rule and error code of docs/vendors/crmcom.md."""

import base64
import copy
import json

import pytest
from helpers import expect

from simulator import create_app
from simulator.vendors.crmcom.errors import http_error

BASE = "/crmapi/rest/v2"
NOW = "2024-06-01T12:00:00Z"
KEY = "EE73C0AE64524371B5DDEFF5F7BB2192"
KEY_HEADER = {"Authorization": "Basic RUU3M0MwQUU2NDUyNDM3MUI1RERFRkY1RjdCQjIxOTI6"}
LOGIN = {"username": "api.user", "password": "s3cret", "organisation": "ACME"}
LOUIS_ID = "0123456789ABCDEF0123456789ABCDEF"
KOZIOR_ID = "FEDCBA9876543210FEDCBA9876543210"

OK_NULL = {"code": "OK", "message": None, "description": None}
OK_EMPTY = {"code": "OK", "message": "", "description": ""}


# -- expected bodies --------------------------------------------------------------------------
def error(code, message, description=""):
    return {
        "status": {
            "code": "COM.CRM.EXCEPTION." + code,
            "message": message,
            "description": description,
        },
        "data": None,
    }


def mandatory(param):
    return error(
        "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION",
        "A mandatory parameter is missing.",
        f"The parameter '{param}' is mandatory.",
    )


def invalid(param, reason):
    description = f"The parameter '{param}' {reason}." if param else reason
    return error(
        "GENERAL.INVALIDPARAMETERVALUEEXCEPTION", "A parameter has an invalid value.", description
    )


def only_one(param):
    return error(
        "GENERAL.ONLYONEIDENTIFIERALLOWEDEXCEPTION",
        "Only one identifier field is allowed.",
        f"The parameter '{param}' must specify exactly one field.",
    )


def not_found(entity, field, value):
    return error(
        "GENERAL.ENTITYNOTFOUNDEXCEPTION",
        "The entity was not found.",
        f"No {entity} has {field} '{value}'.",
    )


def not_unique(field):
    return error(
        "CONTACTINFORMATION.CONTACTINFORMATIONNOTUNIQUEEXCEPTION",
        "The contact information is not unique.",
        f"Another contact information has the same {field}.",
    )


def invalid_token(description):
    return error(
        "AUTHENTICATION.INVALIDTOKENEXCEPTION",
        "The authentication token is invalid, released or expired.",
        description,
    )


def invalid_credentials(description):
    return error(
        "AUTHENTICATION.INVALIDCREDENTIALSEXCEPTION",
        "The provided credentials are invalid.",
        description,
    )


def bad_body(description):
    return error(
        "GENERAL.INVALIDREQUESTBODYEXCEPTION",
        "The request body must be a JSON object.",
        description,
    )


MAXIMUM = error(
    "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION",
    "The maximum number of results is exceeded.",
    "The parameter 'number_of_results' can be at most 50.",
)
METHOD_NOT_FOUND = error("GENERAL.METHODNOTFOUNDEXCEPTION", "The Web API method was not found.", "")
TOKEN_REQUIRED = invalid_token("A token is required.")
TOKEN_UNKNOWN = invalid_token("The token is not recognised.")
TOKEN_RELEASED = invalid_token("The token has been released.")
TOKEN_EXPIRED = invalid_token("The token has expired.")


# -- state --------------------------------------------------------------------------------
def blank_demographics(**given):
    demo = dict.fromkeys(
        [
            "gender",
            "id_number",
            "passport_number",
            "social_security_number",
            "date_of_birth",
            "country_of_residence",
            "id_issued_by_country",
            "passport_issued_by_country",
            "industry",
            "industry_sector",
        ]
    )
    demo.update(given)
    return demo


UDFS = {  # udf_string_1..16, udf_float_1..7 (CC-C2)
    **{f"udf_string_{i}": None for i in range(1, 17)},
    **{f"udf_float_{i}": None for i in range(1, 8)},
}

LOUIS = {
    "id": LOUIS_ID,
    "number": "CI000111",
    "type": "PERSON",
    "life_cycle_state": "MARKETING",
    "title": "Mr",
    "first_name": "Louis",
    "middle_name": None,
    "last_name": "Kozior",
    "company_name": None,
    "vat_registration_number": None,
    "registration_number": None,
    "notes": "Family",
    "organizational_unit": 0,
    "preferred_language": "EN",
    "category": {"name": "Contact Category"},
    "owned_by_group": None,
    "privacy_level": None,
    "demographics": blank_demographics(
        gender="MALE",
        id_number="ID111",
        passport_number="P111",
        social_security_number="SSN111",
        date_of_birth={"day": 1, "month": 1, "year": 1980},
        country_of_residence={"name": "CYPRUS"},
    ),
    "addresses_set": [
        {
            "id": "A" * 32,
            "type": "HOME",
            "postal_code": "0001",
            "street_name": "Address",
            "street_number": "01",
            "floor": 1,
            "apartment_number": "001",
            "area": "Area",
            "town_city": "City",
            "district": "District",
            "municipality": "Municipality",
            "country": {"two_character_code": "CY"},
            "po_box": "00011",
            "po_box_postal_code": "ABC111",
        }
    ],
    "phones_set": [{"id": "B" * 32, "type": "LANDLINE", "number": "123456"}],
    "emails_set": [{"id": "C" * 32, "type": "PERSONAL", "email_address": "louis@crm.com"}],
    **UDFS,
    "udf_string_1": "gold",
    "udf_float_1": 2.5,
}
KOZIOR_LTD = {
    "id": KOZIOR_ID,
    "number": "CI000112",
    "type": "COMPANY",
    "life_cycle_state": "FINANCIAL",
    "title": None,
    "first_name": None,
    "middle_name": None,
    "last_name": None,
    "company_name": "Kozior Ltd",
    "vat_registration_number": "VAT112",
    "registration_number": "REG112",
    "notes": None,
    "organizational_unit": 0,
    "preferred_language": None,
    "category": None,
    "owned_by_group": None,
    "privacy_level": None,
    "demographics": blank_demographics(social_security_number="SSN112"),
    "addresses_set": [],
    "phones_set": [],
    "emails_set": [],
    **UDFS,
}


def louis_data(**changes):
    data = copy.deepcopy(LOUIS)
    data.update(changes)
    keys = list(data)
    ordered = {k: data[k] for k in keys[:4]}
    ordered["name"] = None
    ordered.update({k: data[k] for k in keys[4:]})
    ordered["name"] = name_of(ordered)
    return ordered


def name_of(c):
    if c["type"] == "COMPANY":
        return c["company_name"]
    return " ".join(c[k] for k in ("first_name", "middle_name", "last_name") if c[k]) or None


def as_data(contact):
    keys = list(contact)
    data = {k: contact[k] for k in keys[:4]}
    data["name"] = name_of(contact)
    data.update({k: contact[k] for k in keys[4:]})
    return data


def request(number, scheduled, created="2024-05-30T00:00:00Z", **extra):
    return {
        "number": number,
        "provider_id": "PROV1",
        "subscription_number": "S1",
        "account_number": "AR1",
        "type": "ACTIVATE_SUBSCRIPTION",
        "life_cycle_state": "PENDING",
        "created_date": created,
        "scheduled_date": scheduled,
        "executed_date": None,
        **extra,
    }


STATE = {
    "users": [dict(LOGIN)],
    "web_api_keys": [{"key": KEY, "organisation": "ACME"}],
    "tokens": [],
    "token_ttl_seconds": 7200,
    "uniqueness_fields": ["passport_number", "id_number"],
    "contacts": [LOUIS, KOZIOR_LTD],
    "provisioning_providers": [
        {"id": "PROV1", "name": "Generic One", "alternative_code": "GP1"},
        {"id": "PROV2", "name": "Generic Two", "alternative_code": None},
    ],
    "provisioning_requests": [],
}


@pytest.fixture
def crm(sim):
    sim.freeze(NOW)
    sim.put_state(copy.deepcopy(STATE), vendor="crmcom")
    return sim


@pytest.fixture
def token(client, crm):
    r = client.post(BASE + "/authentication/token", json=LOGIN)
    return r.get_json()["data"]["token"]


@pytest.fixture
def schemas(app):
    return app.extensions["crmsim"].schemas


def conforms(schemas, name, instance):
    assert schemas.validate(f"crmcom/{name}", instance) == []


def show(client, **params):
    return client.get(BASE + "/contact_information/show", query_string=params)


def pending(client, **params):
    return client.get(
        BASE + "/provisioning/generic_provisioning_requests/get_pending", query_string=params
    )


def post(client, path, body, **kwargs):
    return client.post(BASE + path, json=body, **kwargs)


def contacts(sim):
    return sim.state("crmcom")["contacts"]


# -- envelope and transport (CC-ENV-1, CC-ERR-1, CC-ERR-3) -----------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/contact_information/search",  # list exists since issue 12 (CC-L1)
        "/contact_information/show/",
        "/authentication",
        "/provisioning/generic_provisioning_requests/get_pending/extra",
    ],
)
def test_unknown_method_is_404_methodnotfound(client, crm, path, schemas):
    for method in ("get", "post"):
        r = getattr(client, method)(BASE + path)
        expect(r, 404, METHOD_NOT_FOUND)
    conforms(schemas, "error.json", r.get_json())
    conforms(schemas, "envelope.json", r.get_json())


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/authentication/token", "OPTIONS, POST"),
        ("get", "/contact_information/create", "OPTIONS, POST"),
        ("put", "/contact_information/update", "OPTIONS, POST"),
        ("post", "/contact_information/show", "GET, HEAD, OPTIONS"),
        ("delete", "/provisioning/generic_provisioning_requests/get_pending", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_http_method_is_405_with_the_envelope(client, crm, method, path, allow):
    r = getattr(client, method)(BASE + path, json={})
    expect(
        r,
        405,
        error(
            "GENERAL.METHODNOTFOUNDEXCEPTION",
            "The Web API method does not support this HTTP method.",
        ),
    )
    assert r.headers["Allow"] == allow


def test_body_over_the_limit_is_413_with_the_envelope(client, crm):
    r = client.post(
        BASE + "/contact_information/create",
        data=b'{"a": "' + b"x" * (1024 * 1024) + b'"}',
        content_type="application/json",
    )
    expect(
        r,
        413,
        error("GENERAL.INVALIDREQUESTBODYEXCEPTION", "The request body is too large.", ""),
    )


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (429, "TOOMANYREQUESTSEXCEPTION", "Too Many Requests."),
        (500, "INTERNALSERVERERROREXCEPTION", "Internal Server Error."),
        (503, "SERVICEUNAVAILABLEEXCEPTION", "Service Unavailable."),
        (599, "UNEXPECTEDERROREXCEPTION", "Unexpected Error."),
    ],
)
def test_http_error_gives_the_envelope_for_other_statuses(status, code, message):
    e = http_error(status)
    assert e.status == status
    assert e.body() == error("GENERAL." + code, message)


def test_http_error_404_405_413_classes():
    assert (http_error(404).status, http_error(404).body()) == (404, METHOD_NOT_FOUND)
    assert http_error(405).status == 405
    assert http_error(413).status == 413


def test_journal_names_every_operation(client, crm, token, sim):
    post(client, "/authentication/web_api_key/token", {}, headers=KEY_HEADER)
    show(client, token=token, contact_information_identifier="number=CI000111")
    post(
        client,
        "/contact_information/create",
        {"token": token, "type": "COMPANY", "company_name": "X"},
    )
    post(
        client,
        "/contact_information/update",
        {"token": token, "contact_information_identifier": {"number": "CI000111"}},
    )
    pending(
        client,
        token=token,
        provisioning_provider_identifier="id=PROV1",
        number_of_results="1",
        offset="0",
    )
    post(client, "/authentication/token/release", {"token": token})
    client.get(BASE + "/nope")
    ops = [e["operation"] for e in sim.journal(vendor="crmcom")]
    assert ops == [
        "crmcom.authenticate",
        "crmcom.authenticate_web_api_key",
        "crmcom.show_contact_information",
        "crmcom.create_contact_information",
        "crmcom.update_contact_information",
        "crmcom.get_pending_provisioning_requests",
        "crmcom.release_token",
        None,
    ]


# -- POST bodies (GEN-JSON-1, CC-ERR-2 INVALIDREQUESTBODY) -------------------------------------
@pytest.mark.parametrize(
    ("raw", "description"),
    [
        (b"", "The body is not valid JSON (RFC 8259)."),
        (b"[]", "The body must be a JSON object."),
        (b'"token"', "The body must be a JSON object."),
        (b"null", "The body must be a JSON object."),
        (b"42", "The body must be a JSON object."),
        (b'{"day":01}', "The body is not valid JSON (RFC 8259)."),
        (
            b'{"a": 1,}',
            "The body is not valid JSON (RFC 8259).",
        ),
        (b'{"a": NaN}', "The body is not valid JSON (RFC 8259)."),
        (b'{"a": 1} x', "The body is not valid JSON (RFC 8259)."),
        (b'{"a": "\xff"}', "The body is not UTF-8."),
        (b"[" * 100000 + b"]" * 100000, "The JSON is nested too deeply."),
        (b'{"first_name": "\\ud800"}', "The body contains an unpaired surrogate."),
        (b'{"\\udc00": 1}', "The body contains an unpaired surrogate."),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/authentication/token",
        "/authentication/web_api_key/token",
        "/authentication/token/release",
        "/contact_information/create",
        "/contact_information/update",
    ],
)
def test_post_body_that_is_not_a_json_object_is_invalidrequestbody(
    client, crm, path, raw, description
):
    r = client.post(BASE + path, data=raw, content_type="application/json", headers=KEY_HEADER)
    if raw == b"" and path == "/authentication/web_api_key/token":
        # CC-B1: every parameter is optional, so an empty body is {} (test_crmcom_tokens.py)
        assert r.get_json()["status"]["code"] == "OK"
        return
    expect(r, 200, bad_body(description))


def test_post_body_is_parsed_before_the_token(client, crm):
    r = client.post(BASE + "/contact_information/create", data=b"nope")
    assert r.get_json()["status"]["code"].endswith("INVALIDREQUESTBODYEXCEPTION")


def test_post_content_type_is_not_consulted(client, crm):
    r = client.post(
        BASE + "/authentication/token", data=json.dumps(LOGIN), content_type="text/plain"
    )
    assert r.get_json()["status"] == OK_EMPTY


def test_form_body_is_not_a_json_object(client, crm):
    r = client.post(BASE + "/authentication/token", data=LOGIN)
    assert r.get_json()["status"]["code"].endswith("INVALIDREQUESTBODYEXCEPTION")


# -- authentication/token (CC-AUTH-1, CC-T1) -------------------------------------------------
def test_authenticate_issues_a_jwt_looking_token(client, crm, sim, schemas):
    r = post(client, "/authentication/token", {**LOGIN, "unit": "Sales"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == OK_EMPTY
    assert list(body) == ["status", "data"]
    token = body["data"]["token"]
    assert len(token) > 32
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(payload + "===")) == {  # CC-T1
        "usr": "api.user",
        "org": "ACME",
        "oun": "Sales",
        "exp": "1717250400",
        "iat": "1717243200",
        "jti": json.loads(base64.urlsafe_b64decode(payload + "==="))["jti"],
    }
    assert len(signature) == 43
    conforms(schemas, "authenticate.response.json", body)
    assert sim.state("crmcom")["tokens"] == [
        {
            "token": token,
            "issued_at": NOW,
            "released_at": None,
            "username": "api.user",
            "organisation": "ACME",
            "web_api_key": None,
            "unit": "Sales",
        }
    ]


def test_authenticate_tokens_are_distinct_and_seeded(crm, client):
    first = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    second = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    assert first != second
    again = create_app({"seed": 7}).test_client()
    again.put("/__sim/clock", json={"now": NOW})
    again.put("/__sim/state/crmcom", json=STATE)
    r = again.post(BASE + "/authentication/token", json=LOGIN)
    assert r.get_json()["data"]["token"] == first


@pytest.mark.parametrize(
    "change",
    [
        {"username": "API.USER"},
        {"username": "someone"},
        {"password": "wrong"},
        {"password": "S3CRET"},
        {"organisation": "OTHER"},
    ],
)
def test_authenticate_bad_credentials(client, crm, change, sim):
    r = post(client, "/authentication/token", {**LOGIN, **change})
    expect(r, 200, invalid_credentials("The username, password or organisation is not correct."))
    assert sim.state("crmcom")["tokens"] == []


@pytest.mark.parametrize("field", ["username", "password", "organisation"])
@pytest.mark.parametrize("value", [None, "", "   ", "absent"])
def test_authenticate_mandatory_parameters(client, crm, field, value):
    body = {**LOGIN, field: value}
    if value == "absent":
        del body[field]
    expect(post(client, "/authentication/token", body), 200, mandatory(field))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", 5),
        ("password", ["s3cret"]),
        ("organisation", {"name": "ACME"}),
        ("unit", 7),
        ("unit", True),
    ],
)
def test_authenticate_wrong_types_are_invalidparametervalue(client, crm, field, value):
    expect(
        post(client, "/authentication/token", {**LOGIN, field: value}),
        200,
        invalid(field, "must be a string"),
    )


def test_authenticate_mandatory_comes_before_values(client, crm):
    expect(post(client, "/authentication/token", {"username": 5}), 200, mandatory("password"))


def test_authenticate_values_come_before_credentials(client, crm):
    body = {"username": "x", "password": "y", "organisation": "z", "unit": 1}
    expect(post(client, "/authentication/token", body), 200, invalid("unit", "must be a string"))


# -- authentication/web_api_key/token (CC-AUTH-2, CC-B1) ------------------------------------
def test_authenticate_web_api_key_with_the_documented_header(client, crm, sim, schemas):
    r = post(client, "/authentication/web_api_key/token", {"unit": "Sales"}, headers=KEY_HEADER)
    body = r.get_json()
    assert body["status"] == OK_EMPTY
    assert len(body["data"]["token"]) > 32
    conforms(schemas, "authenticate_web_api_key.response.json", body)
    [record] = sim.state("crmcom")["tokens"]
    assert record == {
        "token": body["data"]["token"],
        "issued_at": NOW,
        "released_at": None,
        "username": None,
        "organisation": "ACME",
        "web_api_key": KEY,
        "unit": "Sales",
    }
    r = show(client, token=body["data"]["token"], contact_information_identifier="number=CI000111")
    assert r.get_json()["status"] == OK_NULL


def test_authenticate_web_api_key_password_part_is_ignored(client, crm):
    header = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode()}
    r = post(client, "/authentication/web_api_key/token", {}, headers=header)
    assert r.get_json()["status"] == OK_EMPTY


@pytest.mark.parametrize(
    ("headers", "description"),
    [
        ({}, "A Web API key is required as the HTTP Basic user name."),
        (
            {"Authorization": f"Bearer {KEY}"},
            "A Web API key is required as the HTTP Basic user name.",
        ),
        (
            {"Authorization": f"Basic {KEY}"},
            "A Web API key is required as the HTTP Basic user name.",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(b":pw").decode()},
            "A Web API key is required as the HTTP Basic user name.",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(b"\xff:").decode()},
            "A Web API key is required as the HTTP Basic user name.",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(b"NOPE:").decode()},
            "The Web API key is missing or not recognised.",
        ),
        (
            {"Authorization": "Basic " + base64.b64encode(KEY.lower().encode() + b":").decode()},
            "The Web API key is missing or not recognised.",
        ),
    ],
)
def test_authenticate_web_api_key_bad_keys(client, crm, headers, description, sim):
    r = post(client, "/authentication/web_api_key/token", {}, headers=headers)
    expect(r, 200, invalid_credentials(description))
    assert sim.state("crmcom")["tokens"] == []


def test_authenticate_web_api_key_unit_value_comes_before_the_key(client, crm):
    r = post(client, "/authentication/web_api_key/token", {"unit": 5})
    expect(r, 200, invalid("unit", "must be a string"))


# -- tokens: placement, expiry, release (CC-TOKEN-1, CC-AUTH-4, CC-AUTH-5) --------------------
def test_token_valid_at_7199_seconds_invalid_at_7200(client, crm, token, sim):
    sim.advance(7199)
    r = show(client, token=token, contact_information_identifier="number=CI000111")
    assert r.get_json()["status"] == OK_NULL
    sim.advance(1)
    r = show(client, token=token, contact_information_identifier="number=CI000111")
    expect(r, 200, TOKEN_EXPIRED)
    r = post(
        client,
        "/contact_information/create",
        {"token": token, "type": "COMPANY", "company_name": "X"},
    )
    expect(r, 200, TOKEN_EXPIRED)


def test_token_expiry_ignores_use(client, crm, token, sim):
    for _ in range(4):
        sim.advance(1800)
        show(client, token=token, contact_information_identifier="number=CI000111")
    expect(
        show(client, token=token, contact_information_identifier="number=CI000111"),
        200,
        TOKEN_EXPIRED,
    )


def test_token_lifetime_is_configurable(client, sim):
    sim.freeze(NOW)
    sim.put_state({**STATE, "token_ttl_seconds": 60}, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    sim.advance(59)
    assert (
        show(client, token=token, contact_information_identifier="id=" + LOUIS_ID).get_json()[
            "status"
        ]
        == OK_NULL
    )
    sim.advance(1)
    expect(
        show(client, token=token, contact_information_identifier="id=" + LOUIS_ID),
        200,
        TOKEN_EXPIRED,
    )


def test_tokens_from_state(client, sim):
    sim.freeze(NOW)
    tokens = [
        {"token": "T-fresh", "issued_at": "2024-06-01T11:00:00Z"},
        {"token": "T-old", "issued_at": "2024-06-01T10:00:00Z"},
        {"token": "T-released", "issued_at": NOW, "released_at": NOW},
    ]
    sim.put_state({**STATE, "tokens": tokens}, vendor="crmcom")
    ident = "number=CI000111"
    assert (
        show(client, token="T-fresh", contact_information_identifier=ident).get_json()["status"]
        == OK_NULL
    )
    expect(show(client, token="T-old", contact_information_identifier=ident), 200, TOKEN_EXPIRED)
    expect(
        show(client, token="T-released", contact_information_identifier=ident), 200, TOKEN_RELEASED
    )


def test_token_missing_or_unknown(client, crm):
    ident = "number=CI000111"
    expect(show(client, contact_information_identifier=ident), 200, TOKEN_REQUIRED)
    expect(show(client, token="", contact_information_identifier=ident), 200, TOKEN_REQUIRED)
    expect(show(client, token="nope", contact_information_identifier=ident), 200, TOKEN_UNKNOWN)
    expect(post(client, "/contact_information/create", {"type": "PERSON"}), 200, TOKEN_REQUIRED)
    expect(post(client, "/contact_information/create", {"token": 12345}), 200, TOKEN_REQUIRED)
    expect(post(client, "/contact_information/create", {"token": None}), 200, TOKEN_REQUIRED)
    expect(post(client, "/contact_information/create", {"token": "x"}), 200, TOKEN_UNKNOWN)


def test_post_token_only_in_the_query_is_missing(client, crm, token):
    r = client.post(
        BASE + "/contact_information/create",
        query_string={"token": token},
        json={"type": "COMPANY", "company_name": "X"},
    )
    expect(r, 200, TOKEN_REQUIRED)


def test_get_token_only_in_the_body_or_a_header_is_missing(client, crm, token):
    r = client.get(
        BASE + "/contact_information/show",
        query_string={"contact_information_identifier": "number=CI000111"},
        json={"token": token},
        headers={"Authorization": f"Bearer {token}"},
    )
    expect(r, 200, TOKEN_REQUIRED)


def test_token_is_checked_before_mandatory_parameters(client, crm):
    expect(show(client), 200, TOKEN_REQUIRED)
    expect(pending(client, token="nope"), 200, TOKEN_UNKNOWN)
    expect(post(client, "/contact_information/update", {"token": "nope"}), 200, TOKEN_UNKNOWN)


def test_release_token(client, crm, token, sim, schemas):
    sim.advance(10)
    r = post(client, "/authentication/token/release", {"token": token})
    expect(r, 200, {"status": OK_EMPTY, "data": None})
    conforms(schemas, "release_token.response.json", r.get_json())
    [record] = sim.state("crmcom")["tokens"]
    assert record["released_at"] == "2024-06-01T12:00:10Z"
    expect(
        show(client, token=token, contact_information_identifier="number=CI000111"),
        200,
        TOKEN_RELEASED,
    )
    expect(post(client, "/authentication/token/release", {"token": token}), 200, TOKEN_RELEASED)


def test_release_token_only_releases_that_token(client, crm, token):
    other = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    post(client, "/authentication/token/release", {"token": token})
    r = show(client, token=other, contact_information_identifier="number=CI000111")
    assert r.get_json()["status"] == OK_NULL


@pytest.mark.parametrize(
    ("body", "expected"),
    [({}, TOKEN_REQUIRED), ({"token": ""}, TOKEN_REQUIRED), ({"token": "nope"}, TOKEN_UNKNOWN)],
)
def test_release_token_errors(client, crm, body, expected):
    expect(post(client, "/authentication/token/release", body), 200, expected)


def test_release_token_expired(client, crm, token, sim):
    sim.advance(7200)
    expect(post(client, "/authentication/token/release", {"token": token}), 200, TOKEN_EXPIRED)


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


P = "contact_information_identifier"
ALLOWED = (
    "id, number, id_number, passport_number, social_security_number, "
    "vat_registration_number, registration_number"
)


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


# -- POST contact_information/create (CC-CREATE-1 to CC-CREATE-4, CC-UNIQ-1) ----------------
DOCUMENT_SAMPLE = {
    "token": "{{token}}",
    "type": "PERSON",
    "title": "Mr",
    "first_name": "Customer",
    "middle_name": "Customer",
    "last_name": "Customer",
    "category_identifier": {"name": "Contact Category"},
    "owned_by_group_identifier": {"name": "Main Group"},
    "privacy_level_identifier": {"number": "8"},
    "notes": "Family",
    "demographics": {
        "gender": "FEMALE",
        "id_number": "ABC123456",
        "passport_number": "ABC123456",
        "social_security_number": "ABC123456",
        "country_of_residence_identifier": {"name": "CYPRUS"},
        "id_issued_by_country_identifier": {"name": "CYPRUS"},
        "passport_issued_by_country_identifier": {"name": "GREECE"},
        "industry_identifier": {"name": "Industry"},
        "industry_sector_identifier": {"name": "FOREX"},
        "date_of_birth": {"day": 1, "month": 1, "year": 1980},
        "address_set": [
            {
                "type": "HOME",
                "postal_code": "0001",
                "street_name": "Address",
                "street_number": "01",
                "floor": 1,
                "apartment_number": "001",
                "area": "Area",
                "town_city": "City",
                "district": "District",
                "municipality": "Municipality",
                "country_identifier": {"two_character_code": "CY"},
                "po_box": "00011",
                "po_box_postal_code": "ABC111",
            }
        ],
        "phone_set": [{"type": "LANDLINE", "number": "123456"}],
        "email_set": [{"type": "PERSONAL", "email_address": "123456@crm.com"}],
    },
    "fields_set": "first_name,last_name,demographics,email_set",
}


def create(client, token, **body):
    return post(client, "/contact_information/create", {"token": token, **body})


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


PERSON = {"type": "PERSON", "first_name": "A", "last_name": "B"}


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


# -- GET provisioning/generic_provisioning_requests/get_pending (CC-PEND-1 to CC-PEND-4) ---------
PENDING_STATE_REQUESTS = [
    request("PR05", "2024-06-03T09:00:00Z", subscription_number="S2", account_number="AR2"),
    request("PR01", "2024-06-01T09:00:00Z"),
    request("PR03", "2024-06-02T09:00:00Z", subscription_number="S2", account_number="AR2"),
    request("PR02", "2024-06-02T09:00:00Z"),
    request("PR04", "2024-06-02T10:00:00Z", subscription_number="S3", account_number=None),
    request("PR06", "2024-06-04T09:00:00Z"),
    request("PR07", "2024-06-05T09:00:00Z", created="2024-05-25T12:00:00Z"),  # exactly 7 days
    request("PRX1", "2024-05-31T09:00:00Z", created="2024-05-25T11:59:59Z"),  # 7 days + 1 s
    request("PRX2", "2024-05-31T09:00:00Z", life_cycle_state="COMPLETED", executed_date=NOW),
    request("PRX3", "2024-05-31T09:00:00Z", life_cycle_state="REJECTED"),
    request("PRX4", "2024-05-31T09:00:00Z", provider_id="PROV2"),
]


@pytest.fixture
def prov(client, sim):
    sim.freeze(NOW)
    sim.put_state({**STATE, "provisioning_requests": PENDING_STATE_REQUESTS}, vendor="crmcom")
    return post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]


def item(number):
    r = next(x for x in PENDING_STATE_REQUESTS if x["number"] == number)
    return {
        k: r[k]
        for k in (
            "number",
            "type",
            "life_cycle_state",
            "created_date",
            "scheduled_date",
            "executed_date",
        )
    }


def page(client, token, size, offset, provider="alternative_code=GP1", **extra):
    return pending(
        client,
        token=token,
        provisioning_provider_identifier=provider,
        number_of_results=str(size),
        offset=str(offset),
        **extra,
    )


def test_get_pending_provisioning_requests_orders_and_groups(client, prov, schemas):
    r = page(client, prov, 50, 0)
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "subscriptions_set": [
                    {
                        "subscription_number": "S1",
                        "account_number": "AR1",
                        "pending_provisioning_requests_set": [
                            item("PR01"),
                            item("PR02"),
                            item("PR06"),
                            item("PR07"),
                        ],
                    },
                    {
                        "subscription_number": "S2",
                        "account_number": "AR2",
                        "pending_provisioning_requests_set": [item("PR03"), item("PR05")],
                    },
                    {
                        "subscription_number": "S3",
                        "account_number": None,
                        "pending_provisioning_requests_set": [item("PR04")],
                    },
                ]
            },
        },
    )
    conforms(schemas, "get_pending_provisioning_requests.response.json", r.get_json())


def test_get_pending_provisioning_requests_document_example(client, prov):
    # ?provisioning_provider_identifier=alternative_code=GP1&number_of_results=5&offset=2
    url = BASE + "/provisioning/generic_provisioning_requests/get_pending"
    r = client.get(
        f"{url}?token={prov}&provisioning_provider_identifier=alternative_code=GP1&number_of_results=5&offset=2"
    )
    # sorted: PR01 PR02 PR03 PR04 PR05 PR06 PR07 -> offset 2, five: PR03 PR04 PR05 PR06 PR07
    expect(
        r,
        200,
        {
            "status": OK_NULL,
            "data": {
                "subscriptions_set": [
                    {
                        "subscription_number": "S2",
                        "account_number": "AR2",
                        "pending_provisioning_requests_set": [item("PR03"), item("PR05")],
                    },
                    {
                        "subscription_number": "S3",
                        "account_number": None,
                        "pending_provisioning_requests_set": [item("PR04")],
                    },
                    {
                        "subscription_number": "S1",
                        "account_number": "AR1",
                        "pending_provisioning_requests_set": [item("PR06"), item("PR07")],
                    },
                ]
            },
        },
    )


def flat(r):
    return [
        x["number"]
        for group in r.get_json()["data"]["subscriptions_set"]
        for x in group["pending_provisioning_requests_set"]
    ]


@pytest.mark.parametrize("provider", ["id=PROV1", "name=Generic One", "alternative_code=GP1"])
def test_get_pending_provisioning_requests_provider_identifiers(client, prov, provider):
    assert sorted(flat(page(client, prov, 50, 0, provider))) == [
        "PR01",
        "PR02",
        "PR03",
        "PR04",
        "PR05",
        "PR06",
        "PR07",
    ]


def test_get_pending_provisioning_requests_other_provider(client, prov):
    assert flat(page(client, prov, 50, 0, "id=PROV2")) == ["PRX4"]


def test_get_pending_provisioning_requests_pages(client, prov):
    seen = []
    for offset in range(0, 10, 2):
        seen.append(sorted(flat(page(client, prov, 2, offset))))
    assert seen == [["PR01", "PR02"], ["PR03", "PR04"], ["PR05", "PR06"], ["PR07"], []]
    expect(page(client, prov, 2, 7), 200, {"status": OK_NULL, "data": {"subscriptions_set": []}})
    expect(
        page(client, prov, 50, 10**30), 200, {"status": OK_NULL, "data": {"subscriptions_set": []}}
    )


def test_get_pending_provisioning_requests_window_moves_with_the_clock(client, prov, sim):
    def numbers():
        token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
        return sorted(flat(page(client, token, 50, 0)))

    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07"]
    sim.advance(1)  # PR07 (created exactly 7 days before) drops out
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06"]
    sim.advance(4 * 86400 + 43199)  # 2024-05-30T00:00:00Z is now exactly 7 days ago
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06"]
    sim.advance(1)  # everything created 2024-05-30 drops out
    assert numbers() == []
    sim.freeze("2024-05-26T00:00:00Z")  # back in time: the window grows again
    assert numbers() == ["PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PRX1"]


def test_get_pending_provisioning_requests_fields_set(client, prov):
    assert (
        page(client, prov, 1, 0, fields_set="subscriptions_set").get_json()["data"][
            "subscriptions_set"
        ][0]["subscription_number"]
        == "S1"
    )
    expect(page(client, prov, 1, 0, fields_set="number,type"), 200, {"status": OK_NULL, "data": {}})


@pytest.mark.parametrize("size", ["50", "050", "1"])
def test_get_pending_provisioning_requests_accepts_1_to_50(client, prov, size):
    assert page(client, prov, size, "0").get_json()["status"] == OK_NULL


@pytest.mark.parametrize("size", ["51", "100", "9" * 40])
def test_get_pending_provisioning_requests_51_is_maximumnumberofresultsexceeded(client, prov, size):
    expect(page(client, prov, size, "0"), 200, MAXIMUM)


@pytest.mark.parametrize(
    ("size", "offset", "param", "reason"),
    [
        ("0", "0", "number_of_results", "must be at least 1"),
        ("-1", "0", "number_of_results", "must be at least 1"),
        ("abc", "0", "number_of_results", "must be an integer"),
        ("1.5", "0", "number_of_results", "must be an integer"),
        ("+5", "0", "number_of_results", "must be an integer"),
        (" 5", "0", "number_of_results", "must be an integer"),
        ("٥", "0", "number_of_results", "must be an integer"),
        ("5", "-1", "offset", "must be at least 0"),
        ("5", "x", "offset", "must be an integer"),
        ("5", "0\n", "offset", "must be an integer"),
        ("5", "1e3", "offset", "must be an integer"),
        ("5", "-" + "9" * 40, "offset", "must be at least 0"),
    ],
)
def test_get_pending_provisioning_requests_bad_paging_values(
    client, prov, size, offset, param, reason
):
    expect(page(client, prov, size, offset), 200, invalid(param, reason))


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "provisioning_provider_identifier"),
        ({"number_of_results": "5", "offset": "0"}, "provisioning_provider_identifier"),
        ({"provisioning_provider_identifier": "id=PROV1", "offset": "0"}, "number_of_results"),
        (
            {
                "provisioning_provider_identifier": "id=PROV1",
                "number_of_results": "",
                "offset": "0",
            },
            "number_of_results",
        ),
        ({"provisioning_provider_identifier": "id=PROV1", "number_of_results": "5"}, "offset"),
        (
            {
                "provisioning_provider_identifier": "id=PROV1",
                "number_of_results": "5",
                "offset": "",
            },
            "offset",
        ),
        # mandatory before values
        ({"provisioning_provider_identifier": "bogus", "number_of_results": "500"}, "offset"),
    ],
)
def test_get_pending_provisioning_requests_mandatory_parameters(client, prov, params, param):
    expect(pending(client, token=prov, **params), 200, mandatory(param))


PP = "provisioning_provider_identifier"


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("GP1", invalid(PP, "must be written as field=value")),
        ("alternative_code=GP1,id=PROV1", only_one(PP)),
        (
            "code=GP1",
            invalid(PP, "names an unknown field 'code' (allowed: id, name, alternative_code)"),
        ),
        ("id=", invalid(PP, "has an empty value for 'id'")),
        ("id=NOPE", not_found("provisioning provider", "id", "NOPE")),
        ("alternative_code=gp1", not_found("provisioning provider", "alternative_code", "gp1")),
    ],
)
def test_get_pending_provisioning_requests_provider_errors(client, prov, provider, expected):
    expect(page(client, prov, 5, 0, provider), 200, expected)


def test_get_pending_provisioning_requests_values_come_before_lookup(client, prov):
    expect(page(client, prov, 51, 0, "id=NOPE"), 200, MAXIMUM)
    expect(page(client, prov, 5, -1, "id=NOPE"), 200, invalid("offset", "must be at least 0"))


def test_get_pending_provisioning_requests_paging_through_many_50_at_a_time(client, sim):
    sim.freeze(NOW)
    requests = [
        request(
            f"PR{i:04d}",
            f"2024-06-{1 + i % 20:02d}T{i % 24:02d}:00:00Z",
            subscription_number=f"S{i % 7}",
        )
        for i in range(237)
    ]
    sim.put_state({**STATE, "provisioning_requests": requests}, vendor="crmcom")
    token = post(client, "/authentication/token", LOGIN).get_json()["data"]["token"]
    expected = [
        r["number"] for r in sorted(requests, key=lambda r: (r["scheduled_date"], r["number"]))
    ]
    seen = []
    offset = 0
    while True:
        got = page(client, token, 50, offset)
        groups = got.get_json()["data"]["subscriptions_set"]
        numbers = flat(got)
        assert sorted(numbers, key=expected.index) == expected[offset : offset + 50]
        assert len({g["subscription_number"] for g in groups}) == len(groups)
        if not numbers:
            break
        seen.extend(expected[offset : offset + len(numbers)])
        offset += len(numbers)
    assert seen == expected


# -- the state document ---------------------------------------------------------------------------
FULL_STATE = {
    **STATE,
    "tokens": [
        {
            "token": "T1",
            "issued_at": "2024-06-01T11:00:00Z",
            "released_at": None,
            "username": "api.user",
            "organisation": "ACME",
            "web_api_key": None,
            "unit": None,
        }
    ],
    "provisioning_requests": PENDING_STATE_REQUESTS,
}


def test_state_round_trip(client, sim):
    sim.freeze(NOW)
    assert sim.put_state(copy.deepcopy(FULL_STATE), vendor="crmcom") == FULL_STATE
    assert sim.state("crmcom") == FULL_STATE
    assert sim.put_state(sim.state(), vendor=None)["crmcom"] == FULL_STATE
    assert sim.state()["crmcom"] == FULL_STATE


def test_state_defaults_are_filled_in(client, sim):
    sim.freeze(NOW)
    given = {
        "web_api_keys": [{"key": "K"}],
        "tokens": [{"token": "T", "issued_at": NOW}],
        "contacts": [
            {
                "type": "PERSON",
                "first_name": "A",
                "last_name": "B",
                "demographics": {"gender": "MALE"},
                "phones_set": [{"number": "1"}],
            },
            {"type": "COMPANY", "company_name": "C", "number": "CI000009"},
        ],
        "provisioning_providers": [{"id": "P", "name": "N"}],
        "provisioning_requests": [
            {"number": "R", "provider_id": "P", "subscription_number": "S", "type": "T"}
        ],
    }
    got = sim.put_state(given, vendor="crmcom")
    assert got["users"] == []
    assert got["web_api_keys"] == [{"key": "K", "organisation": None}]
    assert got["tokens"] == [
        {
            "token": "T",
            "issued_at": NOW,
            "released_at": None,
            "username": None,
            "organisation": None,
            "web_api_key": None,
            "unit": None,
        }
    ]
    assert got["token_ttl_seconds"] == 7200
    assert got["uniqueness_fields"] == ["passport_number", "id_number"]
    first, second = got["contacts"]
    assert first["number"] == "CI000010"  # after the highest number given
    assert len(first["id"]) == 32
    assert first["life_cycle_state"] == "MARKETING"
    assert first["demographics"] == blank_demographics(gender="MALE")
    assert first["phones_set"] == [
        {"id": first["phones_set"][0]["id"], "type": None, "number": "1"}
    ]
    assert second["number"] == "CI000009"
    assert got["provisioning_providers"] == [{"id": "P", "name": "N", "alternative_code": None}]
    assert got["provisioning_requests"] == [
        {
            "number": "R",
            "provider_id": "P",
            "subscription_number": "S",
            "account_number": None,
            "type": "T",
            "life_cycle_state": "PENDING",
            "created_date": NOW,
            "scheduled_date": NOW,
            "executed_date": None,
        }
    ]
    assert sim.put_state(got, vendor="crmcom") == got


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"users": [LOGIN, LOGIN]}, "/users/1/username"),
        ({"web_api_keys": [{"key": "K"}, {"key": "K"}]}, "/web_api_keys/1/key"),
        (
            {"tokens": [{"token": "T", "issued_at": NOW}, {"token": "T", "issued_at": NOW}]},
            "/tokens/1/token",
        ),
        ({"tokens": [{"token": "T", "issued_at": "2024-02-30T00:00:00Z"}]}, "/tokens/0/issued_at"),
        ({"contacts": [LOUIS, {**KOZIOR_LTD, "id": LOUIS_ID}]}, "/contacts/1/id"),
        ({"contacts": [LOUIS, {**KOZIOR_LTD, "number": "CI000111"}]}, "/contacts/1/number"),
        (
            {
                "contacts": [
                    {
                        **LOUIS,
                        "demographics": {"date_of_birth": {"day": 31, "month": 4, "year": 1990}},
                    }
                ]
            },
            "/contacts/0/demographics/date_of_birth",
        ),
        (
            {"provisioning_providers": [{"id": "A", "name": "N"}, {"id": "B", "name": "N"}]},
            "/provisioning_providers/1/name",
        ),
        (
            {"provisioning_requests": [request("R", NOW, provider_id="NOPE")]},
            "/provisioning_requests/0/provider_id",
        ),
        (
            {"provisioning_requests": [request("R", NOW), request("R", NOW)]},
            "/provisioning_requests/1/number",
        ),
        (
            {"provisioning_requests": [request("R", "2023-02-29T00:00:00Z")]},
            "/provisioning_requests/0/scheduled_date",
        ),
    ],
)
def test_state_rules_a_schema_cannot_express(client, sim, change, pointer):
    r = client.put("/__sim/state/crmcom", json={**STATE, **change})
    assert r.status_code == 400
    assert pointer in [e["pointer"] for e in r.get_json()["errors"]]
    r = client.put("/__sim/state", json={"crmcom": {**STATE, **change}})
    assert r.status_code == 400
    assert "/crmcom" + pointer in [e["pointer"] for e in r.get_json()["errors"]]
    assert sim.state("crmcom")["contacts"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"contacts": [{"type": "PERSON", "first_name": "A"}]},
        {"contacts": [{"type": "COMPANY"}]},
        {"contacts": [{**LOUIS, "name": "Louis Kozior"}]},
        {"token_ttl_seconds": 0},
        {"uniqueness_fields": ["email"]},
        {"provisioning_requests": [request("R", "yesterday")]},
        {"provisioning_requests": [request("R", NOW, life_cycle_state="DONE")]},
        {"unknown": []},
    ],
)
def test_state_schema_violations(client, change):
    r = client.put("/__sim/state/crmcom", json={**STATE, **change})
    assert r.status_code == 400


def test_reset_empties_the_vendor(client, crm, token, sim):
    client.post("/__sim/reset", json={"vendors": ["crmcom"]})
    assert sim.state("crmcom")["contacts"] == []
    expect(
        show(client, token=token, contact_information_identifier="number=CI000111"),
        200,
        TOKEN_UNKNOWN,
    )


def test_namespaces_are_isolated(client, crm, token):
    r = client.get(
        f"/__ns/other{BASE}/contact_information/show",
        query_string={"token": token, P: "number=CI000111"},
    )
    expect(r, 200, TOKEN_UNKNOWN)


# -- schemas: documented samples and every error ------------------------------------------------
def test_documented_samples_match_the_request_schemas(schemas):
    conforms(schemas, "create_contact_information.request.json", DOCUMENT_SAMPLE)
    conforms(
        schemas,
        "show_contact_information.request.json",
        {"token": "{{token}}", P: "number=CI000111"},
    )
    conforms(
        schemas,
        "show_contact_information.request.json",
        {
            "token": "t",
            P: "number=CI000111",
            "fields_set": "name,preferred_language,addresses_set,phones_set,emails_set",
        },
    )
    conforms(
        schemas,
        "get_pending_provisioning_requests.request.json",
        {"token": "{{token}}", PP: "alternative_code=GP1", "number_of_results": "5", "offset": "2"},
    )
    conforms(schemas, "authenticate.request.json", LOGIN)
    conforms(schemas, "authenticate_web_api_key.request.json", {})
    conforms(schemas, "release_token.request.json", {"token": "{{token}}"})
    conforms(
        schemas,
        "update_contact_information.request.json",
        {
            "token": "t",
            P: {"number": "CI000111"},
            "first_name": "Louis",
            "middle_name": None,
            "phone_set": [{"type": "MOBILE", "number": "1"}],
        },
    )
    conforms(schemas, "state.json", FULL_STATE)


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "GP1", "number_of_results": "5", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "51", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "0", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "5", "offset": "-1"},
        ),
        ("show_contact_information.request.json", {"token": "t", P: "number=1,id=2"}),
        ("show_contact_information.request.json", {"token": "t", P: "name=Louis"}),
        (
            "create_contact_information.request.json",
            {"token": "t", "type": "PERSON", "first_name": "A"},
        ),
        ("create_contact_information.request.json", {"token": "t", "type": "COMPANY"}),
        ("create_contact_information.request.json", {"token": "t", "type": "ALIEN"}),
        (
            "create_contact_information.request.json",
            {**DOCUMENT_SAMPLE, "demographics": {"gender": "OTHER"}},
        ),
        ("update_contact_information.request.json", {"token": "t", P: {"number": "1", "id": "2"}}),
        ("update_contact_information.request.json", {"token": "t"}),
        ("authenticate.request.json", {"username": "u", "password": "p"}),
    ],
)
def test_request_schemas_reject_what_the_simulator_rejects(schemas, name, instance):
    assert schemas.validate(f"crmcom/{name}", instance) != []


def test_error_bodies_match_the_error_schema(client, crm, token, schemas):
    bodies = [
        post(client, "/authentication/token", {}).get_json(),
        post(client, "/authentication/token", {**LOGIN, "password": "x"}).get_json(),
        show(client, token="x").get_json(),
        show(client, token=token, contact_information_identifier="x").get_json(),
        show(client, token=token, contact_information_identifier="id=1,number=2").get_json(),
        show(client, token=token, contact_information_identifier="id=1").get_json(),
        client.post(BASE + "/contact_information/create", data=b"[").get_json(),
        create(client, token, **PERSON, demographics={"passport_number": "P111"}).get_json(),
        page(client, token, 51, 0).get_json(),
        client.get(BASE + "/x").get_json(),
    ]
    codes = set()
    for body in bodies:
        conforms(schemas, "error.json", body)
        conforms(schemas, "envelope.json", body)
        codes.add(body["status"]["code"])
    assert len(codes) == len(bodies)
