"""BOTW authorisation on every operation (BW-AUTH-1)."""

import pytest

from ._support import KEY, contacts

FORBIDDEN = {"status": "error", "message": "Invalid API key or unauthorized access."}


# -- authorisation (BW-AUTH-1) -------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer OTHER"},
    ],
)
@pytest.mark.parametrize("method", ["post", "put", "delete", "get"])
def test_authorization_is_403_for_every_method(client, botw, headers, method):
    r = getattr(client, method)("/crm/123", data={"email": "a@b.co"}, headers=headers)
    assert r.status_code == 403
    assert r.get_json() == FORBIDDEN
    assert contacts(botw) == []


def test_authorization_bearer_scheme_is_case_insensitive(client, botw):
    r = client.post(
        "/crm/123", data={"email": "a@b.co"}, headers={"Authorization": f"bearer {KEY}"}
    )
    assert r.status_code == 201


def test_authorization_comes_before_validation(client, botw):
    r = client.post(
        "/crm/123", data={"email": "not-an-email"}, headers={"Authorization": "Bearer x"}
    )
    assert r.status_code == 403
