"""AntCRM add-ticket: the sample, the customer link, requirements."""

import pytest
from helpers import expect

from ._support import (
    ADD_TICKET_SAMPLE,
    DEAL_STATE,
    OK,
    SAMPLE_ORG,
    URL,
    customer,
    item,
    load,
    send_ok,
    tickets,
)


# == add-ticket ==============================================================================
def test_add_ticket_sample_links_the_lead(client, sim):
    load(
        sim,
        customers=[customer("LID-123"), customer("PID-1", contactId="1234567897")],
        orgs=[{**SAMPLE_ORG, "slas": ["Custom"]}],
    )
    r = client.post(URL, json=ADD_TICKET_SAMPLE)
    expect(r, 200, OK)
    assert tickets(sim) == [
        {
            "ticketId": "1",
            "org_id": "o1",
            "contactType": "lead",
            "title": "title",
            "body": "This is body of Ticket",
            "customer": "LID-123",
            "dealId": None,
            "tag": "webhook",
            "groupName": "Phong Kinh Doanh",
            "slaName": "Custom",
            "channel": "Contact Form",
            "cusFields": [],
        }
    ]


TICKET_STATE = [
    customer("PID-1", contactId="C-1", passport="P-1", emails=[{"type": None, "value": "a@x.co"}]),
    customer("PID-2", contactId="C-2", passport="P-2", phones=[{"type": None, "value": "0905"}]),
    customer("LID-1", contactId="C-1", emails=[{"type": None, "value": "a@x.co"}]),
]


@pytest.mark.parametrize(
    ("payload", "linked"),
    [
        ({"customerId": "PID-2", "contactId": "C-1"}, "PID-2"),
        ({"contactId": "C-2", "passport": "P-1"}, "PID-2"),
        ({"passport": "P-2", "email": "a@x.co"}, "PID-2"),
        ({"email": "A@x.co", "phone": "0905"}, "PID-1"),
        ({"phone": "09-05"}, "PID-2"),
        ({"customerId": "PID-9", "contactId": "C-1"}, None),
        ({"customerId": " PID-2", "contactId": "C-1"}, None),  # exactly (AC-NORM-1)
        ({"customerId": "LID-1"}, None),
        ({"customerId": "LID-1", "contactType": "lead"}, "LID-1"),
        ({"contactId": "C-1", "contactType": "lead"}, "LID-1"),
        ({"name": "PID-1"}, None),
        ({}, None),
    ],
)
def test_add_ticket_customer_link_first_key_only(client, sim, payload, linked):
    load(sim, customers=TICKET_STATE)
    send_ok(client, item("add-ticket", body="Help", **payload))
    [t] = tickets(sim)
    assert t["customer"] == linked
    assert t["contactType"] == payload.get("contactType", "customer")


def test_add_ticket_contact_type_is_optional_A_A13_and_deal_link(client, sim):
    load(sim, deals=DEAL_STATE, tickets=[{"ticketId": "8", "org_id": "o1", "body": "old"}])
    send_ok(
        client,
        item("add-ticket", body="One", dealId="7", channel="Carrier pigeon"),
        item("add-ticket", body="Two", dealId="404"),
    )
    assert [(t["ticketId"], t["contactType"], t["dealId"], t["channel"]) for t in tickets(sim)] == [
        ("8", "customer", None, None),
        ("9", "customer", "7", "Carrier pigeon"),
        ("10", "customer", None, None),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"body": ""},
        {"body": 5},
        {"body": "x", "contactType": "account"},
        {"body": "x", "cusFields": "a"},
    ],
)
def test_add_ticket_requires_a_body_and_valid_fields(client, ant, payload):
    send_ok(client, item("add-ticket", **payload))
    assert tickets(ant) == []
