"""AntCRM add-note: notes on contacts and deals, the target's priority."""

import pytest
from helpers import expect

from ._support import (
    ACME_SENDER,
    ADD_NOTE_CONTACT_SAMPLE,
    ADD_NOTE_DEAL_SAMPLE,
    DEAL_STATE,
    NOW,
    OK,
    SAMPLE_ORG,
    SENDER,
    URL,
    customer,
    customers,
    deals,
    find,
    item,
    load,
    load_acme,
    outcomes,
    send_ok,
)

# == add-note ================================================================================
NOTE_STATE = [
    customer("PID-1", passport="P-1", emails=[{"type": None, "value": "one@x.co"}]),
    customer("PID-2", passport="P-2", phones=[{"type": None, "value": "0905-2"}]),
    customer("LID-345", emails=[{"type": None, "value": "huy.nguyen@htklabs.com"}]),
    customer("CID-1", emails=[{"type": None, "value": "acme@x.co"}]),
]


def note(body, tag=None, channel=None, permit=None):
    return {
        "body": body,
        "tag": tag,
        "channel": channel,
        "permit": permit,
        "created_by": SENDER,
        "at": NOW,
    }


def test_add_note_contact_sample_lands_on_the_lead(client, sim):
    load(sim, customers=NOTE_STATE, orgs=[SAMPLE_ORG])
    r = client.post(URL, json=ADD_NOTE_CONTACT_SAMPLE)
    expect(r, 200, OK)
    assert find(sim, "LID-345")["notes"] == [
        note(
            "This is body of Note",
            tag="webhook",
            permit={"status": 4, "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]},
        )
    ]
    assert [c["notes"] for c in customers(sim) if c["customerId"] != "LID-345"] == [[], [], []]


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"customerId": "PID-2", "passport": "P-1", "email": "one@x.co"}, "PID-2"),
        ({"customerId": "CID-1", "contactType": "customer"}, "CID-1"),
        ({"passport": "P-2", "email": "one@x.co"}, "PID-2"),
        ({"email": "ONE@x.co", "phone": "09052"}, "PID-1"),
        ({"emails": [{"value": "acme@x.co"}], "phone": "09052"}, "CID-1"),
        ({"phone": "0905 2"}, "PID-2"),
        ({"phones": ["+0905-2"]}, "PID-2"),
        ({"customerId": "LID-345", "contactType": "lead"}, "LID-345"),
        ({"email": "huy.nguyen@htklabs.com", "contactType": "lead"}, "LID-345"),
    ],
)
def test_add_note_contact_priority_first_key_only(client, sim, payload, target):
    load(sim, customers=NOTE_STATE)
    send_ok(client, item("add-note", body="B", **payload))
    assert [c["customerId"] for c in customers(sim) if c["notes"]] == [target]
    assert find(sim, target)["notes"] == [note("B")]


@pytest.mark.parametrize(
    "payload",
    [
        {"customerId": "PID-9", "passport": "P-1"},
        {"passport": "nope", "email": "one@x.co"},
        {"email": "none@x.co", "phone": "09052"},
        {"customerId": "LID-345"},
        {"customerId": "PID-1", "contactType": "lead"},
        {"email": "huy.nguyen@htklabs.com"},
        {"contactId": "PID-9"},
        {"contactId": "PID-1", "contactType": "lead"},
        {"name": "PID-1"},
        {},
        {"customerId": "PID-1", "model": "ticket"},
        {"customerId": "PID-1", "contactType": "account"},
        {"customerId": "PID-1", "body": ""},
        {"customerId": "PID-1", "body": None},
        {"customerId": "PID-1", "body": 5},
        {"customerId": "PID-1", "permit": "all"},
        {"customerId": "PID-1 "},  # codes compare exactly (AC-NORM-1)
    ],
)
def test_add_note_without_a_target_adds_nothing(client, sim, payload):
    load(sim, customers=NOTE_STATE)
    send_ok(client, item("add-note", **{"body": "B", **payload}))
    assert [c for c in customers(sim) if c["notes"]] == []


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"dealId": "11358", "name": "Other"}, "11358"),
        ({"dealId": 7, "name": "Booking-ID1135"}, "7"),
        ({"name": " BOOKING-id1135 "}, "3"),
        ({"dealId": "", "name": "Other"}, "7"),
    ],
)
def test_add_note_deal_priority_deal_id_then_name(client, sim, payload, target):
    load(sim, deals=DEAL_STATE)
    send_ok(
        client, item("add-note", body="Deal note", model="deal", channel="Kite Chat", **payload)
    )
    assert [(d["dealId"], d["notes"]) for d in deals(sim) if d["notes"]] == [
        (target, [note("Deal note", channel="Kite Chat")])
    ]


def test_add_note_deal_sample(client, sim):
    load(sim, deals=DEAL_STATE)
    r = client.post(URL, json=ADD_NOTE_DEAL_SAMPLE)
    expect(r, 200, OK)
    assert [d["dealId"] for d in deals(sim) if d["notes"]] == ["11358"]


@pytest.mark.parametrize(
    "payload", [{"dealId": "99", "name": "Other"}, {"name": "nope"}, {"customerId": "PID-1"}, {}]
)
def test_add_note_deal_without_a_match_adds_nothing(client, sim, payload):
    load(sim, deals=DEAL_STATE, customers=NOTE_STATE)
    send_ok(client, item("add-note", body="B", model="deal", **payload))
    assert [d for d in deals(sim) if d["notes"]] == []
    assert [c for c in customers(sim) if c["notes"]] == []


# -- add-note: ``contactId`` is the customer's code when ``customerId`` is absent -------------
# (issue 12 item 7, AC-NOTE-1).
STATE = [
    customer("PID-1", name="Huy", contactId="PID-2", passport="P-1"),
    customer("PID-2", name="Lan"),
    customer("CID-1", name="Acme"),
    customer("LID-1", name="Mai"),
]


def noted(sim):
    return [c["customerId"] for c in customers(sim) if c["notes"]]


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"contactId": "PID-1"}, "PID-1"),  # the code, not the external contactId field
        ({"contactId": " CID-1 "}, "CID-1"),
        ({"contactId": "LID-1", "contactType": "lead"}, "LID-1"),
        ({"customerId": "PID-2", "contactId": "PID-1"}, "PID-2"),  # customerId comes first
        ({"contactId": "PID-2", "passport": "P-1"}, "PID-2"),  # then contactId, before passport
    ],
)
def test_add_note_contact_id_is_the_customer_code_AC_NOTE_1(client, sim, data, target):
    load_acme(sim, customers=STATE)
    r = send_ok(client, item("add-note", body="Called", **data), sender=ACME_SENDER)
    assert noted(sim) == [target]
    assert outcomes(sim) == [("created", target)]
    assert r.headers["X-Sim-Violations"] == "0"


@pytest.mark.parametrize(
    "data",
    [
        {"contactId": "PID-9", "passport": "P-1"},  # first key only: no fall-through
        {"contactId": "LID-1"},  # a Lead needs contactType lead
        {"contactId": "PID-1", "contactType": "lead"},
    ],
)
def test_add_note_contact_id_that_names_nothing_adds_nothing_AC_NOTE_1(client, sim, data):
    load_acme(sim, customers=STATE)
    send_ok(client, item("add-note", body="Called", **data), sender=ACME_SENDER)
    assert noted(sim) == []
    assert outcomes(sim) == [("ignored", None)]
