"""CRM.COM POST authentication/token/release."""

import pytest
from helpers import expect

from ._support import (
    LOGIN,
    OK_EMPTY,
    OK_NULL,
    TOKEN_EXPIRED,
    TOKEN_RELEASED,
    TOKEN_REQUIRED,
    TOKEN_UNKNOWN,
    conforms,
    post,
    show,
)


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
