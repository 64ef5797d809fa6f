"""Omoto rules that earlier tests left loose: each test here fails on one behaviour change."""

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
