"""AntCRM add-note: ``contactId`` is the customer's code when ``customerId`` is absent
(issue 12 item 7, AC-NOTE-1)."""

import pytest
from _antcrm import customer, customers, item, load, outcomes, post

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
    load(sim, customers=STATE)
    r = post(client, item("add-note", body="Called", **data))
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
    load(sim, customers=STATE)
    post(client, item("add-note", body="Called", **data))
    assert noted(sim) == []
    assert outcomes(sim) == [("ignored", None)]
