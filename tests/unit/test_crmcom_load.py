"""CRM.COM's state load refuses a provisioning request's number used twice: within the load
(a set) and, for a table that held requests before (a backend over a store in use), against
the stored ones, the table having no index by number."""

import copy
import datetime

import pytest
from helpers import vendor_backend
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import StateInvalid
from simulator.fake import fake_state
from simulator.store import tiny
from simulator.store.interface import deferring
from simulator.vendors.crmcom.models import (
    CONTACT_KEYS,
    DEMOGRAPHIC_KEYS,
    empty_contact,
    micros,
)
from simulator.vendors.crmcom.parsing import SETS


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


# -- contacts are stored as sent, and read whole (the contacts table's fill) ---------------
def _whole(c):
    """A loaded contact as CRM.COM shows it: every field of the template, the sent values
    over it (the load's expansion before contacts were stored as sent)."""
    contact = {**empty_contact(), **{k: c[k] for k in CONTACT_KEYS if k in c}}
    contact["demographics"] = {
        **dict.fromkeys(DEMOGRAPHIC_KEYS),
        **(c.get("demographics") or {}),
    }
    for kind in SETS:
        contact[kind.plural] = [
            {**dict.fromkeys(kind.keys), **{k: item[k] for k in kind.keys if k in item}}
            for item in c.get(kind.plural, [])
        ]
    return contact


_texts = st.text("abcXYZ09 ", min_size=1, max_size=6)


@st.composite
def sent_contacts(draw):
    """Contacts with any subset of the fields (and a key CRM.COM does not know), their
    demographics and set items too; ids given, so the expected contact is known."""
    n = draw(st.integers(1, 4))
    contacts = []
    for i in range(n):
        c = {"id": f"ID{i}", "number": f"CI{i + 1:06d}", "type": "PERSON"}
        for key in draw(st.sets(st.sampled_from(["first_name", "last_name", "title", "notes"]))):
            c[key] = draw(_texts | st.none())
        if draw(st.booleans()):
            c["life_cycle_state"] = draw(st.sampled_from(["MARKETING", "CUSTOMER"]))
        if draw(st.booleans()):
            c["demographics"] = draw(
                st.none() | st.fixed_dictionaries({}, optional={"gender": st.just("MALE")})
            )
        for kind in SETS:
            if draw(st.booleans()):
                c[kind.plural] = [
                    {"id": f"{kind.plural}{i}{j}", kind.keys[-1]: draw(_texts)}
                    for j in range(draw(st.integers(0, 2)))
                ]
        if draw(st.booleans()):
            c["unknown_key"] = "dropped"
        contacts.append(c)
    return contacts


@given(sent_contacts())
def test_loaded_contacts_read_whole_as_sent_over_the_template(contacts):
    api = vendor_backend("crmcom")
    api.load_state({"contacts": contacts})
    assert [dict(c) for c in api.contacts] == [_whole(c) for c in contacts]
    assert api.dump_state()["contacts"] == [_whole(c) for c in contacts]


def test_a_load_gives_missing_ids_without_changing_the_sent_document():
    sent = [
        {"type": "PERSON", "first_name": "A", "emails_set": [{"email_address": "a@x.co"}]},
        {"id": "X1", "number": "CI000007", "type": "PERSON", "phones_set": [{"number": "1"}]},
    ]
    before = copy.deepcopy(sent)
    api = vendor_backend("crmcom")
    api.load_state({"contacts": sent})
    assert sent == before
    first, second = api.contacts
    assert first["id"] and first["number"] == "CI000008"  # after the highest number sent
    assert first["emails_set"][0]["id"] and second["phones_set"][0]["id"]
    assert (second["id"], second["number"]) == ("X1", "CI000007")
    assert api.contacts.lookup_ids("value", f"id:{first['id']}") == [first.doc_id]


def test_a_loaded_contact_is_stored_in_fewer_bytes_than_the_whole_one():
    sent = fake_state(3, 1, ["crmcom"])["crmcom"]["contacts"][0]
    api = vendor_backend("crmcom")
    api.load_state({"contacts": [sent]})
    (stored,) = api.contacts
    held = api.contacts._raw(stored.doc_id)
    assert len(held) < len(api.contacts._shapes.pack(dict(stored)))
