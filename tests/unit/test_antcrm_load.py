"""AntCRM's state load checks codes and ids against what it loads (sets) and, for a table
that held records before (a backend over a store in use), against what is stored: the
customers are found by their customerId keys, having no index by code."""

import pytest
from helpers import vendor_backend

from simulator.errors import StateInvalid
from simulator.fake import fake_state


def test_a_load_over_stored_customers_finds_their_codes_and_references():
    doc = fake_state(3, 60, ["antcrm"])["antcrm"]
    api = vendor_backend("antcrm")
    api.load_state(doc)
    stored = [c["customerId"] for c in doc["customers"]]
    lead = next(c for c in doc["customers"] if c["customerId"].startswith("LID-"))
    again = {
        "customers": [doc["customers"][0], lead, {**lead, "customerId": "LID-999"}],
        "deals": [
            {**doc["deals"][0], "dealId": "777", "customer": stored[1], "contacts": [stored[2]]},
            {**doc["deals"][0], "dealId": "778", "customer": "PID-999999"},
        ],
        "tickets": [{**doc["tickets"][0], "ticketId": "555", "customer": lead["customerId"]}],
    }
    with pytest.raises(StateInvalid) as raised:
        api.load_state(again)
    assert [p["pointer"] for p in raised.value.errors] == [
        "/customers/0/customerId",
        "/customers/1/customerId",
        "/deals/1/customer",
    ]
    assert api._has_code("acme", "LID-999") and api._has_code("acme", stored[0])
    assert not api._has_code("acme", "PID-999999") and not api._has_code("other", stored[0])
