"""CRM.COM tokens on every operation: placement, expiry, lifetime, tokens from the state."""

from helpers import expect

from ._support import (
    BASE,
    LOGIN,
    LOUIS_ID,
    NOW,
    OK_NULL,
    STATE,
    TOKEN_EXPIRED,
    TOKEN_RELEASED,
    TOKEN_REQUIRED,
    TOKEN_UNKNOWN,
    pending,
    post,
    show,
)


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
