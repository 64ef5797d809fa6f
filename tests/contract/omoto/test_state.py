"""Omoto state documents: round trip, defaults, ids, keys and clashes, reset."""

import pytest
from helpers import expect

from ._support import CAMPAIGNS, NOW, SAMPLE_CUSTOMER, SUCCESS, crm, push, responses, stored

# == State document ========================================================================
FULL_STATE = {
    "campaigns": [
        {"campaign_id": "154", "api_key": "KEY-A", "name": "Book club NPS"},
        {"campaign_id": "200", "api_key": "KEY-B", "name": None},
    ],
    "response_endpoints": ["endpoint", "acme"],
    "responses": [
        {
            "response_id": 4,
            "endpoint": "acme",
            "campaign_id": "154",
            "channel": "email",
            "campaigntype": "nps",
            "catnpsmap": {"price": ["high"]},
            "npsrating": 9,
            "comment": "ok",
            "customerinfo": {"email": "a@b.io"},
            "namevaluemap": {"unitname": "u"},
            "received_at": "2024-05-01T10:00:00Z",
        }
    ],
}


def test_state_round_trip_is_equal(client, sim):
    assert sim.put_state(FULL_STATE, "omoto") == FULL_STATE
    assert sim.state("omoto") == FULL_STATE
    assert sim.put_state(sim.state())["omoto"] == FULL_STATE
    assert sim.state()["omoto"] == FULL_STATE


def test_state_defaults_are_filled_in(client, sim):
    sim.freeze(NOW)
    empty = {"campaigns": [], "response_endpoints": ["endpoint"], "responses": []}
    assert sim.state("omoto") == empty
    assert sim.put_state({}, "omoto") == empty
    doc = sim.put_state(
        {"campaigns": [{"campaign_id": "1", "api_key": "K"}], "responses": [{"campaign_id": "1"}]},
        "omoto",
    )
    assert doc["campaigns"] == [{"campaign_id": "1", "api_key": "K", "name": None}]
    assert doc["responses"] == [stored({}, campaign_id="1", endpoint=None)]
    assert sim.put_state(doc, "omoto") == doc


def test_state_response_ids_are_assigned_above_the_highest(client, sim):
    doc = sim.put_state(
        {
            "campaigns": CAMPAIGNS,
            "responses": [{"campaign_id": "154"}, {"campaign_id": "154", "response_id": 7}],
        },
        "omoto",
    )
    assert [r["response_id"] for r in doc["responses"]] == [7, 8]
    expect(push(client), 200, SUCCESS)
    assert [r["response_id"] for r in responses(sim)] == [7, 8, 9]


def test_state_loaded_campaign_keys_work(client, sim):
    sim.put_state({"omoto": {"campaigns": CAMPAIGNS}})
    expect(crm(client, [SAMPLE_CUSTOMER], key="KEY-B"), 200, SUCCESS)


def put_bad(client, doc, vendor=True):
    url = "/__sim/state/omoto" if vendor else "/__sim/state"
    resp = client.put(url, json=doc if vendor else {"omoto": doc})
    assert resp.status_code == 400, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return [e["pointer"] for e in resp.get_json()["errors"]]


def test_state_api_key_clash_is_400_with_the_pointer(client, sim):
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "2", "api_key": "K"}]
    }
    assert put_bad(client, doc) == ["/campaigns/1/api_key"]
    assert put_bad(client, doc, vendor=False) == ["/omoto/campaigns/1/api_key"]


def test_state_campaign_id_clash_is_400_with_the_pointer(client, sim):
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "1", "api_key": "L"}]
    }
    assert put_bad(client, doc) == ["/campaigns/1/campaign_id"]


def test_state_endpoint_rules_are_400_with_the_pointer(client, sim):
    doc = {"response_endpoints": ["endpoint", "receivecustomerinfo", "endpoint"]}
    assert put_bad(client, doc) == ["/response_endpoints/1", "/response_endpoints/2"]
    assert put_bad(client, {"response_endpoints": ["a/b"]}) == ["/response_endpoints/0"]
    assert put_bad(client, {"response_endpoints": [""]}) == ["/response_endpoints/0"]


def test_state_duplicate_response_id_is_400_with_the_pointer(client, sim):
    doc = {
        "responses": [
            {"campaign_id": "1", "response_id": 3},
            {"campaign_id": "1", "response_id": 3},
        ]
    }
    assert put_bad(client, doc) == ["/responses/1/response_id"]


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"campaigns": [{"campaign_id": "1"}]}, "/campaigns/0/api_key"),
        ({"campaigns": [{"campaign_id": 154, "api_key": "K"}]}, "/campaigns/0/campaign_id"),
        ({"campaigns": [{"campaign_id": "1", "api_key": ""}]}, "/campaigns/0/api_key"),
        ({"campaigns": [{"campaign_id": "1", "api_key": "K", "x": 1}]}, "/campaigns/0"),
        ({"responses": [{"campaign_id": "1", "npsrating": 11}]}, "/responses/0/npsrating"),
        (
            {"responses": [{"campaign_id": "1", "received_at": "yesterday"}]},
            "/responses/0/received_at",
        ),
        ({"invites": []}, ""),
    ],
)
def test_state_schema_violations_are_400_with_the_pointer(client, sim, doc, pointer):
    assert put_bad(client, doc) == [pointer]


def test_state_invalid_put_changes_nothing(client, omoto):
    before = omoto.state("omoto")
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "2", "api_key": "K"}]
    }
    put_bad(client, doc)
    assert omoto.state("omoto") == before
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)


def test_state_reset_of_omoto_only(client, omoto):
    expect(push(client), 200, SUCCESS)
    assert client.post("/__sim/reset", json={"vendors": ["omoto"]}).status_code == 200
    assert omoto.state("omoto") == {
        "campaigns": [],
        "response_endpoints": ["endpoint"],
        "responses": [],
    }
