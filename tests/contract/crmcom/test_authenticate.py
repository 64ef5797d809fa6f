"""CRM.COM POST authentication/token: login with username, password and organisation."""

import base64
import json

import pytest
from helpers import expect

from simulator import create_app

from ._support import (
    BASE,
    LOGIN,
    NOW,
    OK_EMPTY,
    STATE,
    conforms,
    invalid,
    invalid_credentials,
    mandatory,
    post,
)


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


@pytest.mark.one_process_store
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
