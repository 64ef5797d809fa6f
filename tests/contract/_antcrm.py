"""Helpers shared by the per-action AntCRM contract test files (test_antcrm_*.py)."""

SENDER = "owner@acme.vn"
URL = "/antcrm/webhook/listener/L1"
NOW = "2024-06-01T12:00:00Z"
OK = {"success": True}
ORG = {"org_id": "o1", "users": [SENDER, "Sales@Acme.vn"], "stages": ["New"]}
LISTENER = {
    "listener_id": "L1",
    "org_id": "o1",
    "default_tag": "webhook",
    "contact_source": "Website",
    "lead_source": "Ads",
    "auto_email": {"enabled": True, "subject": "Hi", "body": "Welcome"},
}


def customer(code, **fields):
    return {"customerId": code, "org_id": "o1", **fields}


def load(sim, customers=(), deals=(), org=None, **listener):
    sim.freeze(NOW)
    return sim.put_state(
        {
            "orgs": [{**ORG, **(org or {})}],
            "listeners": [{**LISTENER, **listener}],
            "customers": list(customers),
            "deals": list(deals),
        },
        vendor="antcrm",
    )


def item(action, **data):
    return {"actionType": action, "data": data}


def post(client, *items):
    r = client.post(URL, json={"senderUser": SENDER, "data": list(items)})
    assert (r.status_code, r.get_json()) == (200, OK)
    return r


def customers(sim):
    return sim.state("antcrm")["customers"]


def find(sim, code):
    [found] = [c for c in customers(sim) if c["customerId"] == code]
    return found


def kinds(sim):
    return [(c["customerId"], c["kind"]) for c in customers(sim)]


def outcomes(sim):
    """The outcomes of the last journaled listener request, without the item index."""
    entry = sim.journal(vendor="antcrm")[-1]
    return [(o["result"], o["id"]) for o in entry["outcomes"]]


def violations(schemas, *items):
    doc = {"senderUser": SENDER, "data": list(items)}
    return schemas.validate("antcrm/listener.request.json", doc)
