"""AntCRM state documents: round trips, defaults, invalid documents."""

import pytest

from ._support import (
    AUTO,
    NOW,
    ORG,
    SENDER,
    codes,
    deal_item,
    deals,
    item,
    load,
    send_ok,
    state,
    tickets,
)

# == the state document =========================================================================
FULL_STATE = {
    "orgs": [
        {
            "org_id": "o1",
            "users": [SENDER],
            "groups": ["Nhom 1"],
            "sms_account_configured": False,
            "trial_sms_remaining": 4,
            "stages": ["New"],
            "categories": ["UI Design"],
            "packages": ["Goi A"],
            "currencies": ["VND"],
            "channels": ["Kite Chat"],
            "slas": ["Gold"],
        }
    ],
    "listeners": [
        {
            "listener_id": "L1",
            "org_id": "o1",
            "default_tag": "t",
            "contact_source": "Website",
            "lead_source": "Ads",
            "auto_email": {"enabled": True, "subject": "S", "body": "B"},
            "auto_sms": {"enabled": False, "content": None},
            "allowed_ips": ["127.0.0.1", "10.0.0.0/8"],
        }
    ],
    "customers": [
        {
            "customerId": "CID-1",
            "org_id": "o1",
            "kind": "account",
            "name": "ACME",
            "lastname": None,
            "title": None,
            "passport": None,
            "gender": 2,
            "bgInfo": None,
            "dateOfBirth": None,
            "emails": [],
            "phones": [{"type": "Work", "value": "028"}],
            "addresses": [{"city": "Hue", "country": {"code": "VN"}}],
            "websites": [{"value": "acme.vn"}],
            "im": [],
            "tags": [],
            "cusFields": [],
            "permit": None,
            "source": "Website",
            "contactId": None,
            "companyId": None,
            "companyLead": None,
            "history": [],
            "notes": [],
            "created_by": None,
        },
        {
            "customerId": "PID-4",
            "org_id": "o1",
            "kind": "contact",
            "name": "Huy",
            "lastname": "Nguyen",
            "title": "CTO",
            "passport": "P",
            "gender": 0,
            "bgInfo": "bg",
            "dateOfBirth": "1993",
            "emails": [{"type": None, "value": "h@x.co"}],
            "phones": [],
            "addresses": [],
            "websites": [],
            "im": [{"protocol": "Skype", "value": "huy"}],
            "tags": ["vip"],
            "cusFields": [{"name": "n", "value": 1.5}],
            "permit": {"status": 3, "group": "Nhom 1"},
            "source": "Website",
            "contactId": "EXT",
            "companyId": "CID-1",
            "companyLead": None,
            "history": [
                {
                    "type": "created",
                    "listener_id": "L1",
                    "senderUser": SENDER,
                    "at": "2024-01-01T00:00:00Z",
                    "text": "t",
                }
            ],
            "notes": [
                {
                    "body": "b",
                    "tag": None,
                    "channel": None,
                    "permit": None,
                    "created_by": SENDER,
                    "at": "2024-01-01T00:00:00Z",
                }
            ],
            "created_by": SENDER,
        },
    ],
    "deals": [
        {
            "dealId": "3",
            "org_id": "o1",
            "name": "D",
            "value": "1000",
            "currency": "VND",
            "description": None,
            "stage": "New",
            "closeDate": 1482470382793,
            "category": None,
            "package": None,
            "owner_opportunity": {"users": [SENDER], "groups": []},
            "customer": "PID-4",
            "contacts": ["CID-1"],
            "permit": None,
            "cusFields": [],
            "notes": [],
        }
    ],
    "tickets": [
        {
            "ticketId": "2",
            "org_id": "o1",
            "contactType": "customer",
            "title": "T",
            "body": "B",
            "customer": "PID-4",
            "dealId": "3",
            "tag": None,
            "groupName": None,
            "slaName": None,
            "channel": "Email",
            "cusFields": [],
        }
    ],
}


def test_state_round_trip_full_document(client, sim):
    assert sim.put_state(FULL_STATE, vendor="antcrm") == FULL_STATE
    assert state(sim) == FULL_STATE
    assert sim.put_state({"antcrm": FULL_STATE})["antcrm"] == FULL_STATE


def test_state_round_trip_fills_defaults_and_is_stable(client, sim):
    minimal = {
        "orgs": [{"org_id": "o1", "users": [SENDER]}],
        "listeners": [{"listener_id": "L1", "org_id": "o1"}],
        "customers": [
            {"customerId": "LID-2", "org_id": "o1", "history": [{"type": "created", "at": NOW}]}
        ],
        "deals": [{"dealId": "1", "org_id": "o1", "name": "D"}],
        "tickets": [{"ticketId": "1", "org_id": "o1", "body": "B"}],
    }
    filled = sim.put_state(minimal, vendor="antcrm")
    assert filled["orgs"][0] == {
        "org_id": "o1",
        "users": [SENDER],
        "groups": [],
        "sms_account_configured": False,
        "trial_sms_remaining": 0,
        "stages": [],
        "categories": [],
        "packages": [],
        "currencies": [],
        "channels": [],
        "slas": [],
    }
    assert filled["listeners"][0] == {
        "listener_id": "L1",
        "org_id": "o1",
        "default_tag": None,
        "contact_source": None,
        "lead_source": None,
        "auto_email": {"enabled": False, "subject": None, "body": None},
        "auto_sms": {"enabled": False, "content": None},
        "allowed_ips": [],
    }
    assert filled["customers"][0]["kind"] == "lead"
    assert filled["customers"][0]["gender"] == 2
    assert filled["customers"][0]["history"] == [
        {"type": "created", "listener_id": None, "senderUser": None, "at": NOW, "text": None}
    ]
    assert sim.put_state(filled, vendor="antcrm") == filled


def test_state_round_trip_after_traffic(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 2}], **AUTO)
    send_ok(
        client,
        *[
            item(k, **v)
            for k, v in [
                ("add-contact", {"name": "A", "phones": ["1"], "companyContact": {"name": "Co"}})
            ]
        ],
    )
    send_ok(
        client,
        deal_item(contacts=[{"name": "B"}]),
        item("add-ticket", body="x", customerId="PID-1", dealId="1"),
    )
    send_ok(
        client,
        item("add-note", body="n", customerId="PID-1"),
        item("add-note", body="d", model="deal", dealId="1"),
    )
    dumped = state(sim)
    assert sim.put_state(dumped, vendor="antcrm") == dumped
    # counters are rebuilt from the loaded records
    send_ok(
        client, item("add-contact", name="Z"), deal_item(name="D2"), item("add-ticket", body="y")
    )
    assert codes(sim)[-2:] == ["PID-4", "PID-5"]
    assert [d["dealId"] for d in deals(sim)] == ["1", "2"]
    assert [t["ticketId"] for t in tickets(sim)] == ["1", "2"]


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"orgs": [{"org_id": "o1"}, {"org_id": "o1"}]}, "/orgs/1/org_id"),
        ({"listeners": [{"listener_id": "L", "org_id": "nope"}]}, "/listeners/0/org_id"),
        (
            {"orgs": [{"org_id": "o1"}], "listeners": [{"listener_id": "L", "org_id": "o1"}] * 2},
            "/listeners/1/listener_id",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "listeners": [{"listener_id": "L", "org_id": "o1", "allowed_ips": ["x"]}],
            },
            "/listeners/0/allowed_ips/0",
        ),
        ({"customers": [{"customerId": "PID-1", "org_id": "o9"}]}, "/customers/0/org_id"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1"}] * 2,
            },
            "/customers/1/customerId",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1", "companyId": "CID-1"}],
            },
            "/customers/0/companyId",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1", "kind": "lead"}],
            },
            "/customers/0/customerId",
        ),
        ({"customers": [{"customerId": "XID-1", "org_id": "o1"}]}, "/customers/0/customerId"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "deals": [{"dealId": "1", "org_id": "o1", "name": "D", "customer": "PID-1"}],
            },
            "/deals/0/customer",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "deals": [{"dealId": "1", "org_id": "o1", "name": "D"}] * 2,
            },
            "/deals/1/dealId",
        ),
        ({"deals": [{"dealId": "x1", "org_id": "o1", "name": "D"}]}, "/deals/0/dealId"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "tickets": [{"ticketId": "1", "org_id": "o1", "body": "b", "dealId": "4"}],
            },
            "/tickets/0/dealId",
        ),
        ({"orgs": [{"org_id": "o1", "trial_sms_remaining": -1}]}, "/orgs/0/trial_sms_remaining"),
        (
            {"customers": [{"customerId": "PID-1", "org_id": "o1", "emails": ["a@x.co"]}]},
            "/customers/0/emails/0",
        ),
    ],
)
def test_state_invalid_documents_are_400_with_pointers(client, sim, doc, pointer):
    r = client.put("/__sim/state/antcrm", json=doc)
    assert r.status_code == 400
    assert pointer in [e["pointer"] for e in r.get_json()["errors"]]
    assert state(sim)["orgs"] == []
