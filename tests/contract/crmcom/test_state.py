"""CRM.COM state documents: round trip, defaults, rules a schema cannot express, reset and
namespaces."""

import copy

import pytest
from helpers import expect

from ._support import (
    BASE,
    FULL_STATE,
    KOZIOR_LTD,
    LOGIN,
    LOUIS,
    LOUIS_ID,
    NOW,
    STATE,
    TOKEN_UNKNOWN,
    P,
    blank_demographics,
    request,
    show,
)


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
