"""AntCRM add-deal: creation requirements, upserts, dealWith, ids."""

import copy

import pytest
from helpers import expect

from ._support import (
    ACME_SENDER,
    ADD_DEAL_SAMPLE,
    DEAL_STATE,
    OK,
    ORG,
    SAMPLE_ORG,
    URL,
    customer,
    customers,
    deal_item,
    deals,
    find,
    history,
    item,
    load,
    load_acme,
    outbox,
    outcomes,
    send_ok,
)


# == add-deal ================================================================================
def test_add_deal_sample_with_empty_stage_is_ignored_A_A11(client, sim):
    load(sim, orgs=[{**ORG, "users": ["viethuy110@gmail.com"]}])
    r = client.post(URL, json=ADD_DEAL_SAMPLE)
    expect(r, 200, OK)
    assert deals(sim) == []
    assert customers(sim) == []


def test_add_deal_sample_with_a_stage_creates_deal_and_customers(client, sim):
    load(
        sim,
        orgs=[SAMPLE_ORG],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
    )
    sample = copy.deepcopy(ADD_DEAL_SAMPLE)
    sample["data"][0]["data"]["stage"] = "won"
    r = client.post(URL, json=sample)
    expect(r, 200, OK)
    assert deals(sim) == [
        {
            "dealId": "1",
            "org_id": "o1",
            "name": "Booking-ID #0003",
            "value": 50000,
            "currency": "VND",
            "description": "This is desciption",
            "stage": "Won",
            "closeDate": 1482470382793,
            "category": "UI Design",
            "package": "Goi A",
            "owner_opportunity": {
                "users": ["nhanvien1@beeiq.co", "nhanvien2@beeiq.co"],
                "groups": ["Nhom 1", "Nhom 2"],
            },
            "customer": "LID-1",
            "contacts": ["LID-2"],
            "permit": {"status": 4, "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]},
            "cusFields": [{"name": "Booking source", "value": "web"}],
            "notes": [],
        }
    ]
    leads = customers(sim)
    assert [(c["customerId"], c["name"], c["source"], c["tags"]) for c in leads] == [
        ("LID-1", "Nguyen viet huy", "Facebook Ads", ["from-webhook"]),
        ("LID-2", "Quoc Phong", "Facebook Ads", ["from-webhook"]),
    ]
    assert leads[0]["addresses"] == [{"street": "street", "city": "city", "country": "country"}]
    assert [h["senderUser"] for c in leads for h in c["history"]] == ["viethuy110@gmail.com"] * 2
    assert [(e["to"], e["customerId"]) for e in outbox(sim, "email")] == [
        ("huy@gmail.com", "LID-1"),
        ("phong@gmail.com", "LID-2"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"stage": None},
        {"stage": ""},
        {"stage": "Lost"},
        {"dealWith": None},
        {"dealWith": {}},
        {"dealWith": {"emails": ["nobody@x.co"], "customerId": "PID-9"}},
        {"dealWith": {"name": "C"}, "name": ""},
        {"dealWith": "PID-1"},
        {"contacts": {"name": "X"}},
        {"contacts": [{"name": "X", "gender": 7}]},
        {"value": {"amount": 1}},
        {"closeDate": "2024-01-01"},
        {"owner_opportunity": {"users": "a@x.co"}},
        {"dealId": 1.5},
        {"dealId": True},
    ],
)
def test_add_deal_create_requirements_A_A11(client, ant, data):
    send_ok(
        client,
        deal_item(contacts=[{"name": "Side"}], **data)
        if "contacts" not in data
        else deal_item(**data),
    )
    assert deals(ant) == []
    assert customers(ant) == []


def test_add_deal_dealwith_needs_no_single_key_A_A12(client, ant):
    send_ok(client, deal_item(dealWith={"name": "Only a name"}))
    assert [d["customer"] for d in deals(ant)] == ["PID-1"]
    assert find(ant, "PID-1")["name"] == "Only a name"


def test_add_deal_upsert_by_deal_id_only_when_given(client, sim):
    load(sim, customers=[customer("PID-1", name="C")], deals=DEAL_STATE)
    send_ok(
        client,
        deal_item(dealId="7", name="Renamed", dealWith={"customerId": "PID-1"}),
        deal_item(dealId="999", name="Booking-ID1135", dealWith={"customerId": "PID-1"}),
    )
    assert [(d["dealId"], d["name"]) for d in deals(sim)] == [
        ("11358", "Booking-ID1135"),
        ("7", "Renamed"),
        ("3", "booking-id1135"),
        ("11359", "Booking-ID1135"),
    ]


def test_add_deal_upsert_by_name_oldest_wins(client, sim):
    load(sim, customers=[customer("PID-1", name="C")], deals=DEAL_STATE)
    send_ok(client, item("add-deal", name=" BOOKING-ID1135", description="matched"))
    send_ok(
        client, item("add-deal", name="Brand new", stage="New", dealWith={"customerId": "PID-1"})
    )
    assert [(d["dealId"], d["name"], d["description"]) for d in deals(sim)] == [
        ("11358", "Booking-ID1135", None),
        ("7", "Other", None),
        ("3", "BOOKING-ID1135", "matched"),
        ("11359", "Brand new", None),
    ]


def test_add_deal_update_rules(client, sim):
    load(
        sim,
        customers=[customer("PID-1", name="C"), customer("PID-2", name="D")],
        deals=[
            {
                "dealId": "5",
                "org_id": "o1",
                "name": "Deal",
                "stage": "New",
                "currency": "VND",
                "customer": "PID-1",
                "contacts": ["PID-1"],
                "value": 1,
                "cusFields": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
            }
        ],
    )
    send_ok(
        client,
        item(
            "add-deal",
            dealId="5",
            name="Deal",
            stage="Lost",
            currency="USD",
            category="Nope",
            value="2,000",
            closeDate=1.5e12,
            dealWith={"emails": ["nobody@x.co"]},
            contacts=[{"customerId": "PID-2"}, {"customerId": "PID-9"}, {"customerId": "PID-2"}],
            cusFields=[{"name": "b", "value": "3"}],
        ),
    )
    [d] = deals(sim)
    assert (d["stage"], d["currency"], d["category"], d["value"], d["closeDate"]) == (
        "New",
        "VND",
        None,
        "2,000",
        1.5e12,
    )
    assert (d["customer"], d["contacts"]) == ("PID-1", ["PID-2"])
    assert d["cusFields"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "3"}]
    send_ok(
        client, item("add-deal", dealId=5, name="Deal", stage="WON", dealWith={"name": "New C"})
    )
    [d] = deals(sim)
    assert (d["stage"], d["customer"]) == ("Won", "PID-3")


def test_add_deal_unconfigured_catalogue_values_are_left_empty(client, ant):
    send_ok(client, deal_item(currency="USD", category="X", package="Y"))
    [d] = deals(ant)
    assert (d["currency"], d["category"], d["package"]) == (None, None, None)


@pytest.mark.parametrize(
    ("deal_with", "customer_code"),
    [
        ({"customerId": "PID-2", "passport": "P-1"}, "PID-2"),
        ({"customerId": "PID-9", "passport": "P-1"}, "PID-1"),
        ({"passport": "nope", "emails": ["x@x.co", "TWO@x.co"]}, "PID-2"),
        ({"phones": ["0", "+84 906"]}, "CID-1"),
        ({"customerId": "LID-1"}, None),
        ({"customerId": "LID-1", "contactType": "lead"}, "LID-1"),
        ({"emails": ["two@x.co"], "contactType": "lead"}, "LID-1"),
        ({"phones": ["84906"], "contactType": "lead"}, None),
    ],
)
def test_add_deal_dealwith_find_falls_through_in_its_pool(client, sim, deal_with, customer_code):
    load(
        sim,
        customers=[
            customer("PID-1", passport="P-1"),
            customer("PID-2", emails=[{"type": None, "value": "two@x.co"}]),
            customer("CID-1", phones=[{"type": None, "value": "84906"}]),
            customer("LID-1", emails=[{"type": None, "value": "two@x.co"}]),
        ],
    )
    send_ok(client, deal_item(dealWith=deal_with))
    assert [d["customer"] for d in deals(sim)] == ([customer_code] if customer_code else [])
    assert len(customers(sim)) == 4


def test_add_deal_dealwith_and_contacts_are_created_like_add_contact(client, sim):
    load(
        sim,
        orgs=[{**ORG, "trial_sms_remaining": 5}],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
        auto_sms={"enabled": True, "content": "Hello"},
    )
    send_ok(
        client,
        deal_item(
            dealWith={"name": "Acc", "type": 1, "tag": "t", "phones": ["0905"]},
            contacts=[
                {"name": "P", "emails": ["p@x.co"], "companyContact": {"name": "Acc"}},
                {"emails": ["unknown@x.co"]},
                {"name": "L", "contactType": "lead", "emails": ["p@x.co"]},
                {"name": "P again", "emails": ["P@x.co"]},
            ],
        ),
    )
    assert [(c["customerId"], c["tags"], c["source"], c["companyId"]) for c in customers(sim)] == [
        ("CID-1", ["t"], "Website", None),
        ("PID-1", ["from-webhook"], "Website", "CID-1"),
        ("LID-1", ["from-webhook"], "Facebook Ads", None),
    ]
    [d] = deals(sim)
    assert (d["customer"], d["contacts"]) == ("CID-1", ["PID-1", "LID-1"])
    assert [(e["kind"], e["to"], e["customerId"]) for e in outbox(sim)] == [
        ("sms", "0905", "CID-1"),
        ("email", "p@x.co", "PID-1"),
        ("email", "p@x.co", "LID-1"),
    ]
    assert all(history(sim, c) == ["created"] for c in ("CID-1", "PID-1", "LID-1"))


def test_add_deal_ids_are_max_plus_one_per_org(client, sim):
    load(
        sim,
        deals=[
            {"dealId": "41", "org_id": "o1", "name": "A"},
            {"dealId": "9", "org_id": "o1", "name": "B"},
            {"dealId": "500", "org_id": "o2", "name": "C"},
        ],
    )
    send_ok(
        client, deal_item(name="New 1"), deal_item(name="New 2", dealWith={"customerId": "PID-1"})
    )
    assert [d["dealId"] for d in deals(sim)] == ["41", "9", "500", "42", "43"]
    assert [d["customer"] for d in deals(sim)][3:] == ["PID-1", "PID-1"]


# -- add-deal: ``dealWith.companyContact.customerId`` links the existing Account --------------
# (issue 12 item 8, AC-DEAL-1).
STATE = [
    customer("CID-1", name="Google", emails=[{"type": None, "value": "g@google.com"}]),
    customer("CID-2", name="Alphabet"),
    customer("PID-1", name="Huy"),
]


def deal(**data):
    return item("add-deal", name="D", stage="New", **data)


@pytest.mark.parametrize("where", ["dealWith", "contacts"])
def test_company_contact_customer_id_links_the_existing_account_AC_DEAL_1(client, sim, where):
    load_acme(sim, customers=STATE)
    person = {"name": "Lan", "companyContact": {"customerId": "CID-2", "name": "Google"}}
    extra = (
        {"dealWith": person}
        if where == "dealWith"
        else {
            "dealWith": {"customerId": "PID-1"},
            "contacts": [person],
        }
    )
    send_ok(client, deal(**extra), sender=ACME_SENDER)
    lan = [c for c in customers(sim) if c["name"] == "Lan"]
    assert [(c["customerId"], c["companyId"]) for c in lan] == [("PID-2", "CID-2")]
    assert [c["customerId"] for c in customers(sim)] == ["CID-1", "CID-2", "PID-1", "PID-2"]
    assert outcomes(sim) == [("created", "1")]


@pytest.mark.parametrize(
    ("company", "linked"),
    [
        ({"customerId": "CID-9", "name": "Google"}, "CID-1"),  # no such code: then by name
        ({"customerId": "PID-1", "emails": ["g@google.com"]}, "CID-1"),  # not an Account
        ({"customerId": "CID-9", "name": "Initech"}, "CID-3"),  # nothing found: created
        ({"customerId": "CID-9"}, None),  # nothing found and no name: unlinked
    ],
)
def test_company_contact_customer_id_that_names_no_account_falls_through_AC_DEAL_1(
    client, sim, company, linked
):
    load_acme(sim, customers=STATE)
    send_ok(client, deal(dealWith={"name": "Lan", "companyContact": company}), sender=ACME_SENDER)
    [lan] = [c for c in customers(sim) if c["name"] == "Lan"]
    assert lan["companyId"] == linked
    if linked == "CID-3":
        created = find(sim, "CID-3")
        assert (created["name"], created["tags"]) == ("Initech", [])


def test_company_contact_of_a_found_customer_changes_nothing_AC_DEAL_1(client, sim):
    load_acme(sim, customers=STATE)
    send_ok(
        client,
        deal(dealWith={"customerId": "PID-1", "companyContact": {"customerId": "CID-2"}}),
        sender=ACME_SENDER,
    )
    assert find(sim, "PID-1")["companyId"] is None
    assert sim.state("antcrm")["deals"][0]["customer"] == "PID-1"


def test_company_contact_customer_id_is_still_no_key_on_add_contact(client, sim):
    load_acme(sim, customers=STATE)
    send_ok(
        client,
        item("add-contact", name="Lan", companyContact={"customerId": "CID-2", "name": "Google"}),
        sender=ACME_SENDER,
    )
    assert find(sim, "PID-2")["companyId"] == "CID-1"
