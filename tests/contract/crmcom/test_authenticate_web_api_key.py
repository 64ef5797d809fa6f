"""CRM.COM POST authentication/web_api_key/token: a token from the Web API key."""

import base64

import pytest
from helpers import expect

from ._support import (
    KEY,
    KEY_HEADER,
    NOW,
    OK_EMPTY,
    OK_NULL,
    conforms,
    invalid,
    invalid_credentials,
    post,
    show,
)


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


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode(),
        # the user name ends at the first colon: a password may hold more
        "Basic " + base64.b64encode(f"{KEY}:a:b".encode()).decode(),
        # RFC 9110: one or more spaces after the scheme
        "Basic   " + base64.b64encode(f"{KEY}:".encode()).decode(),
    ],
)
def test_authenticate_web_api_key_password_part_is_ignored(client, crm, authorization):
    r = post(
        client, "/authentication/web_api_key/token", {}, headers={"Authorization": authorization}
    )
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
            # not base64: one character outside its alphabet spoils the whole header
            {"Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode() + "!"},
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
