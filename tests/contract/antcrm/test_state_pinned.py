"""AntCRM state loads: every problem of a document is reported, not only the first of each
part, and allowed networks may be written as a host address with a prefix."""

ORG = {"org_id": "acme"}


def refused(client, doc):
    r = client.put("/__sim/state/antcrm", json=doc)
    assert r.status_code == 400, r.get_json()
    return [e["pointer"] for e in r.get_json()["errors"]]


def test_every_repeated_org_and_listener_is_reported(client):
    doc = {
        "orgs": [ORG, ORG, ORG],
        "listeners": [
            {"listener_id": "L1", "org_id": "acme"},
            {"listener_id": "L1", "org_id": "acme"},
            {"listener_id": "L1", "org_id": "acme"},
        ],
    }
    assert refused(client, doc) == [
        "/orgs/1/org_id",
        "/orgs/2/org_id",
        "/listeners/1/listener_id",
        "/listeners/2/listener_id",
    ]


def test_every_repeated_customer_and_deal_is_reported(client):
    customer = {"org_id": "acme", "customerId": "PID-1"}
    deal = {"org_id": "acme", "dealId": "1", "name": "Big deal"}
    doc = {"orgs": [ORG], "customers": [customer] * 3, "deals": [deal] * 3}
    assert refused(client, doc) == [
        "/customers/1/customerId",
        "/customers/2/customerId",
        "/deals/1/dealId",
        "/deals/2/dealId",
    ]


def test_an_allowed_network_may_name_a_host_with_its_prefix(client):
    doc = {
        "orgs": [ORG],
        "listeners": [{"listener_id": "L1", "org_id": "acme", "allowed_ips": ["10.0.0.1/8"]}],
    }
    r = client.put("/__sim/state/antcrm", json=doc)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["listeners"][0]["allowed_ips"] == ["10.0.0.1/8"]
