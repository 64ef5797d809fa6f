"""CRM.COM's state load refuses a provisioning request's number used twice: within the load
(a set) and, for a table that held requests before (a backend over a store in use), against
the stored ones, the table having no index by number."""

import datetime

import pytest
from helpers import vendor_backend
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import StateInvalid
from simulator.fake import fake_state
from simulator.store import tiny
from simulator.store.interface import deferring
from simulator.vendors.crmcom.models import micros


def test_a_load_over_stored_requests_refuses_their_numbers():
    doc = fake_state(3, 20, ["crmcom"])["crmcom"]
    api = vendor_backend("crmcom")
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


@given(
    st.datetimes(timezones=st.just(datetime.UTC)),
    st.datetimes(timezones=st.just(datetime.UTC)),
)
def test_micros_orders_instants_as_they_are(a, b):
    assert (micros(a) < micros(b)) == (a < b) and (micros(a) == micros(b)) == (a == b)


def test_the_requests_indexes_hold_no_datetime(monkeypatch):
    # a large load's indexes are compacted with marshal, which writes none (tiny.compact)
    monkeypatch.setattr(tiny, "COMPACT_AT", 5)
    read = []
    monkeypatch.setattr(tiny, "_read", lambda *w, _r=tiny._read: read.append(w[1]) or _r(*w))
    api = vendor_backend("crmcom")
    with deferring():
        api.load_state(fake_state(3, 40, ["crmcom"])["crmcom"])
    steps = api.store.compact()
    assert steps and [step() for step in steps]
    assert read and all(read)  # every table written with marshal
