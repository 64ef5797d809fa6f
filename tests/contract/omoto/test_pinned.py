"""Omoto rules that earlier tests left loose: each test here fails on one behaviour change."""

import json

import pytest
from helpers import expect

KEY = "K1"
URL = f"/omoto/receivecustomerinfo.htm?key={KEY}"


def test_a_customer_whose_personalinfo_is_not_an_object_does_not_stop_the_rest(client, sim):
    sim.put_state({"campaigns": [{"campaign_id": "1", "api_key": KEY}]}, "omoto")
    customers = [
        {"personalinfo": "not an object"},
        {"personalinfo": ["nor", "this"]},
        {"personalinfo": {"email": "ann@example.com"}},
        {"personalinfo": {"mobileno": "9835132376"}},
    ]
    r = client.post(URL, json=customers)
    assert r.status_code == 200, r.get_json()
    invites = sim.outbox(vendor="omoto", kind="survey-invite")
    assert [(i["email"], i["mobileno"]) for i in invites] == [
        ("ann@example.com", None),
        (None, "9835132376"),
    ]


def test_a_refused_campaign_is_not_stored_so_later_ones_do_not_clash_with_it(client):
    campaigns = [
        {"campaign_id": "1", "api_key": "A"},
        {"campaign_id": "1", "api_key": "B"},  # refused: campaign_id 1 is taken
        {"campaign_id": "2", "api_key": "B"},  # fine: B was never stored
    ]
    r = client.put("/__sim/state/omoto", json={"campaigns": campaigns})
    assert r.status_code == 400
    errors = r.get_json()["errors"]
    assert [e["pointer"] for e in errors] == ["/campaigns/1/campaign_id"]
    assert errors[0]["message"] == "campaign_id '1' is used by another campaign"


# -- X-Sim-Reason (OM-H1): why Omoto said parseerror or keymismatch, beside the answer ----
HEADER = {"processid": "76"}
BODY = {"campaignid": "1", "npsrating": 4, "catnpsmap": {"price": []}}


def push_campaign_1(client, body=None, header=None, key=KEY):
    """push_response of campaign 1 with key K1 (a raw response)."""
    data = {
        "jsonheader": json.dumps(HEADER if header is None else header),
        "jsonbody": json.dumps(BODY if body is None else body),
    }
    return client.post(f"/omoto/endpoint.htm?key={key}", data=data)


@pytest.fixture
def campaigns_k1_k2(sim):
    """Campaign 1 under key K1, campaign 2 under K2 (the conftest's ``omoto`` is another)."""
    sim.put_state(
        {
            "campaigns": [
                {"campaign_id": "1", "api_key": KEY},
                {"campaign_id": "2", "api_key": "K2"},
            ],
            "response_endpoints": ["endpoint"],
        },
        "omoto",
    )
    return sim


def reason(r, status, code):
    expect(r, status, {"response": code})
    return r.headers.get("X-Sim-Reason")


REASONS = [
    ({"npsrating": 4, "catnpsmap": {}}, None, "campaignid is missing, empty, or neither"),
    ({**BODY, "campaignid": ""}, None, "campaignid is missing, empty, or neither"),
    ({**BODY, "catnpsmap": {"price": "x"}}, None, "catnpsmap is not an object of arrays"),
    (BODY, {"processid": "77"}, 'jsonheader is not an object with processid "76"'),
    ({**BODY, "npsrating": "11"}, None, "npsrating is not an integer from 0 to 10"),
    ({**BODY, "npsrating": "007"}, None, None),  # accepted: 7
    ([BODY], None, "jsonbody is not one JSON object"),
]


@pytest.mark.parametrize("body, header, expected", REASONS)
def test_push_response_parseerror_says_why(client, campaigns_k1_k2, body, header, expected):
    r = push_campaign_1(client, body, header)
    if expected is None:
        assert r.status_code == 200, r.get_json()
        assert "X-Sim-Reason" not in r.headers
        return
    assert reason(r, 400, "parseerror").startswith(expected)


def test_keymismatch_says_which_check_failed(client, campaigns_k1_k2):
    assert reason(push_campaign_1(client, key="NOPE"), 401, "keymismatch") == (
        "the key is missing, empty or not configured"
    )
    r = push_campaign_1(client, {**BODY, "campaignid": "2"})
    assert reason(r, 401, "keymismatch") == "campaignid is not the campaign of the key"


@pytest.mark.parametrize(
    "customers, expected",
    [
        ({"personalinfo": {}}, "the body is not a JSON array"),
        ([{"personalinfo": {}}, "x"], "an element of the array is not an object"),
        ("[1", "the body: "),
    ],
)
def test_receive_customer_info_parseerror_says_why(client, campaigns_k1_k2, customers, expected):
    data = customers if isinstance(customers, str) else json.dumps(customers)
    r = client.post(URL, data=data, content_type="application/json")
    assert reason(r, 400, "parseerror").startswith(expected)


def test_a_reason_header_is_ascii_on_one_line(client, campaigns_k1_k2):
    r = push_campaign_1(client, {**BODY, "campaignid": "2", "comment": "é\nx"})
    assert r.headers["X-Sim-Reason"].isascii()
    r = client.post(URL, data='["\\u00e9\n', content_type="application/json")
    value = reason(r, 400, "parseerror")
    assert value.isascii() and "\n" not in value and len(value) <= 200


def test_endpoint_and_response_problems_carry_messages(client):
    r = client.put(
        "/__sim/state/omoto",
        json={"response_endpoints": ["receivecustomerinfo", "a", "a"]},
    )
    assert r.status_code == 400
    assert [(e["pointer"], e["message"]) for e in r.get_json()["errors"]] == [
        (
            "/response_endpoints/0",
            "'receivecustomerinfo' is the CRM API's page and cannot be a response endpoint",
        ),
        ("/response_endpoints/2", "response endpoint 'a' is listed twice"),
    ]
    responses = [{"response_id": 5, "campaign_id": "1"}, {"response_id": 5, "campaign_id": "1"}]
    r = client.put(
        "/__sim/state/omoto",
        json={"campaigns": [{"campaign_id": "1", "api_key": KEY}], "responses": responses},
    )
    assert r.status_code == 400
    assert [(e["pointer"], e["message"]) for e in r.get_json()["errors"]] == [
        ("/responses/1/response_id", "response_id 5 is used twice")
    ]
