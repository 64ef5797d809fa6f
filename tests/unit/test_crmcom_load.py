"""CRM.COM's state load refuses a provisioning request's number used twice: within the load
(a set) and, for a table that held requests before (a backend over a store in use), against
the stored ones, the table having no index by number."""

import pytest

from simulator.clock import Clock, Ids
from simulator.errors import StateInvalid
from simulator.fake import fake_state
from simulator.journal import Outbox
from simulator.vendors import VENDORS, _base


def backend():
    clock = Clock()
    return VENDORS["crmcom"].new_backend(_base.Context(clock, Ids(1), Outbox(100, clock)))


def test_a_load_over_stored_requests_refuses_their_numbers():
    doc = fake_state(3, 20, ["crmcom"])["crmcom"]
    api = backend()
    api.load_state(doc)
    first = doc["provisioning_requests"][0]
    again = {
        "provisioning_requests": [
            {**first, "number": "PR-NEW-1"},
            first,
            {**first, "number": "PR-NEW-1"},
        ],
    }
    with pytest.raises(StateInvalid) as raised:
        api.load_state(again)
    assert [p["pointer"] for p in raised.value.errors] == [
        "/provisioning_requests/1/number",
        "/provisioning_requests/2/number",
    ]
