"""AntCRM add-contact: the sample, names, codes, duplicates, tags, sources, formats and
companyContact."""

import copy
import json

import pytest
from helpers import expect

from ._support import (
    ADD_CONTACT_SAMPLE,
    INVALID_JSON,
    OK,
    SENDER,
    URL,
    codes,
    created_line,
    customer,
    customers,
    find,
    history,
    item,
    load,
    outbox,
    send_ok,
    state,
)


@pytest.mark.parametrize(
    "data",
    [
        {"name": 5},
        {"name": ["Huy"]},
        {"name": "A", "emails": "a@x.co"},
        {"name": "A", "emails": [{"value": 5}]},
        {"name": "A", "emails": [5]},
        {"name": "A", "phones": [{"value": 905000001}]},
        {"name": "A", "phones": {"value": "1"}},
        {"name": "A", "gender": "1"},
        {"name": "A", "gender": 3},
        {"name": "A", "gender": True},
        {"name": "A", "type": True},
        {"name": "A", "type": {"value": 1}},
        {"name": "A", "passport": 123},
        {"name": "A", "tag": ["a", "b"]},
        {"name": "A", "permit": "everybody"},
        {"name": "A", "permit": {"status": 9}},
        {"name": "A", "permit": {"status": 1, "users": [1]}},
        {"name": "A", "cusFields": [{"name": "a", "value": {"deep": [1]}}]},
        {"name": "A", "cusFields": {"name": "a"}},
        {"name": "A", "addresses": ["58 Ton That Dam"]},
        {"name": "A", "addresses": [{"country": 84}]},
        {"name": "A", "im": ["skype"]},
        {"name": "A", "websites": 5},
        {"name": "A", "companyContact": "ACME"},
        {"name": "A", "companyContact": {"name": "ACME", "emails": [{"value": []}, 5]}},
        {"name": "A", "contactType": 1},
        {"name": "A", "dateOfBirth": 725846400000},
    ],
)
def test_add_contact_wrong_types_anywhere_drop_the_item_only(client, ant, data):
    send_ok(client, item("add-contact", **data), item("add-contact", name="Next"))
    assert codes(ant) == ["PID-1"]
    assert find(ant, "PID-1")["name"] == "Next"
    assert outbox(ant) == []


def test_add_contact_numbers_out_of_json_range_are_invalid_json(client, ant):
    """A number beyond a double (``1e999``) cannot be kept: the body is refused as a whole."""
    doc = {"senderUser": SENDER, "data": [item("add-contact", name="A", cusFields="HUGE")]}
    body = json.dumps(doc).replace('"HUGE"', '[{"name": "n", "value": 1e999}]')
    r = client.post(URL, data=body, content_type="application/json")
    expect(r, 400, INVALID_JSON)
    assert customers(ant) == []
    assert client.get("/__sim/state").status_code == 200


# == add-contact (AC-ADD-1 to AC-ADD-3, AC-DUP-1, AC-DUP-2, AC-COMP-1) =====================
def test_add_contact_sample_creates_the_contact_exactly(client, ant):
    post_sample = copy.deepcopy(ADD_CONTACT_SAMPLE)
    r = client.post(URL, json=post_sample)
    expect(r, 200, OK)
    assert customers(ant) == [
        {
            "customerId": "PID-1",
            "org_id": "o1",
            "kind": "contact",
            "name": "Huy",
            "lastname": "Nguyen",
            "title": "This is title",
            "passport": "1945295865",
            "gender": 1,
            "bgInfo": "Thành viên AntBuddy",
            "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
            "emails": [{"type": None, "value": "huy.nguyen@htklabs.com"}],
            "phones": [{"type": None, "value": "01234567890"}],
            "addresses": [
                {
                    "street": "58 Ton That Dam",
                    "city": "Da Nang",
                    "state": "Thanh Khe",
                    "zip": "5100000",
                    "country": "VN",
                }
            ],
            "websites": [{"value": "htk-inc.com"}],
            "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
            "tags": ["from-webhook"],
            "cusFields": [],
            "permit": {"status": 1},
            "source": "Website",
            "contactId": None,
            "companyId": None,
            "companyLead": None,
            "history": [created_line()],
            "notes": [],
            "created_by": SENDER,
        }
    ]
    assert outbox(ant) == []


def test_add_contact_contact_type_in_payload_is_ignored_A_A17(client, ant):
    send_ok(client, item("add-contact", name="A", contactType="lead"))
    assert find(ant, "PID-1")["kind"] == "contact"


def test_add_contact_requires_name(client, ant):
    send_ok(
        client,
        item("add-contact", emails=["a@x.co"]),
        item("add-contact", name="", emails=["b@x.co"]),
        item("add-contact", name="   ", emails=["c@x.co"]),
        item("add-contact", name=None),
    )
    assert customers(ant) == []


def test_add_contact_gender_defaults_to_2_and_type_0_is_a_contact(client, ant):
    send_ok(client, item("add-contact", name="A"), item("add-contact", name="B", type=0, gender=0))
    assert [(c["kind"], c["gender"]) for c in customers(ant)] == [("contact", 2), ("contact", 0)]


def test_add_contact_type_1_creates_an_account_with_a_cid_code(client, ant):
    send_ok(
        client,
        item("add-contact", name="ACME", type=1, companyContact={"name": "Parent"}),
        item("add-contact", name="Huy"),
    )
    assert [(c["customerId"], c["kind"], c["companyId"]) for c in customers(ant)] == [
        ("CID-1", "account", None),
        ("PID-1", "contact", None),
    ]


def test_add_contact_codes_are_max_plus_one_per_prefix_and_org_2_2(client, sim):
    load(
        sim,
        customers=[
            customer("PID-7"),
            customer("PID-3"),
            customer("CID-12"),
            customer("LID-40"),
            customer("PID-99", org="o2"),
        ],
    )
    send_ok(
        client,
        item("add-contact", name="A"),
        item("add-contact", name="B", type=1),
        item("add-lead", name="C"),
        item("add-contact", name="D"),
    )
    assert codes(sim)[5:] == ["PID-8", "CID-13", "LID-41", "PID-9"]


DUP_STATE = [
    customer("PID-1", name="By contactId", contactId="EXT-1"),
    customer("PID-2", name="By passport", passport="P-2"),
    customer("CID-3", name="By email (an account)", emails=[{"type": "Work", "value": "E3@x.co"}]),
    customer("PID-4", name="By phone", phones=[{"type": "Home", "value": "+84 (905) 000-004"}]),
    customer("PID-5", name="By second email", emails=[{"type": None, "value": "e5@x.co"}]),
]


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"contactId": "EXT-1", "passport": "P-2", "emails": ["e3@x.co"]}, "PID-1"),
        ({"contactId": "nope", "passport": "P-2", "emails": ["e3@x.co"]}, "PID-2"),
        ({"passport": "nope", "emails": ["e3@x.co"], "phones": ["84905000004"]}, "CID-3"),
        ({"emails": ["none@x.co", "e5@x.co", "e3@x.co"]}, "PID-5"),
        ({"emails": ["none@x.co"], "phones": ["0000", "84-905-000-004"]}, "PID-4"),
        ({"contactId": " EXT-1 "}, "PID-1"),
        ({"emails": [{"value": "  E3@X.CO "}]}, "CID-3"),
    ],
)
def test_add_contact_duplicate_check_order_A_A5(client, sim, payload, target):
    load(sim, customers=DUP_STATE)
    before = {c["customerId"]: c for c in customers(sim)}
    send_ok(client, item("add-contact", name="Dup", type=1, tag="x", **payload))
    after = {c["customerId"]: c for c in customers(sim)}
    assert list(after) == list(before)
    for code, record in after.items():
        if code == target:
            assert record["history"] == [created_line("duplicate")]
            assert {**record, "history": []} == {**before[code], "history": []}
        else:
            assert record == before[code]


@pytest.mark.parametrize(
    "payload",
    [
        {"contactId": "ext-1"},
        {"passport": "p-2"},
        {"emails": ["e3@x.com"]},
        {"phones": ["905000004"]},
        {"name": "By contactId"},
    ],
)
def test_add_contact_no_duplicate_creates_normalisation_2_2(client, sim, payload):
    load(sim, customers=DUP_STATE)
    send_ok(client, item("add-contact", **{"name": "New", **payload}))
    assert codes(sim)[-1] == "PID-6"


def test_add_contact_duplicate_changes_nothing_else(client, sim):
    load(
        sim,
        customers=[customer("PID-1", name="Old", emails=[{"type": None, "value": "a@x.co"}])],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
        auto_sms={"enabled": True, "content": "Hello"},
    )
    sim.client.put("/__sim/state/antcrm", json=state(sim))
    send_ok(
        client,
        item(
            "add-contact",
            name="New name",
            lastname="L",
            emails=["a@x.co"],
            phones=["0905"],
            tag="t1",
            companyContact={"name": "ACME"},
        ),
    )
    [c] = customers(sim)
    assert (c["name"], c["lastname"], c["tags"], c["source"], c["companyId"]) == (
        "Old",
        None,
        [],
        None,
        None,
    )
    assert [h["type"] for h in c["history"]] == ["duplicate"]
    assert outbox(sim) == []


def test_add_contact_dedup_ignores_leads_A_A10(client, sim):
    load(
        sim, customers=[customer("LID-1", name="Lead", emails=[{"type": None, "value": "a@x.co"}])]
    )
    send_ok(client, item("add-contact", name="Contact", emails=["a@x.co"]))
    assert codes(sim) == ["LID-1", "PID-1"]
    assert history(sim, "LID-1") == []


def test_add_contact_oldest_record_wins_A_A19(client, sim):
    email = [{"type": None, "value": "same@x.co"}]
    load(sim, customers=[customer("PID-5", emails=email), customer("PID-2", emails=email)])
    send_ok(client, item("add-contact", name="X", emails=["SAME@x.co"]))
    assert history(sim, "PID-2") == ["duplicate"]
    assert history(sim, "PID-5") == []


def test_add_contact_tags_from_payload_replace_the_default(client, ant):
    send_ok(
        client,
        item("add-contact", name="A", tag=" vip, ,news ,vip"),
        item("add-contact", name="B", tag=""),
        item("add-contact", name="C", tag=" , "),
    )
    assert [c["tags"] for c in customers(ant)] == [
        ["vip", "news"],
        ["from-webhook"],
        ["from-webhook"],
    ]


def test_add_contact_no_default_tag_configured_gives_no_tags(client, sim):
    load(sim, default_tag=None)
    send_ok(client, item("add-contact", name="A"))
    assert find(sim, "PID-1")["tags"] == []


def test_add_contact_source_comes_from_the_listener_only(client, sim):
    load(sim, contact_source=None)
    send_ok(client, item("add-contact", name="A", source="Payload", channel="Kite Chat"))
    assert find(sim, "PID-1")["source"] is None


def test_add_contact_field_formats_2_4(client, ant):
    send_ok(
        client,
        item(
            "add-contact",
            name="  Huy  ",
            emails=["bare@x.co", {"type": "Work", "value": "w@x.co"}, {"value": ""}, None],
            phones=[{"type": "Pager", "value": "+84 905"}],
            addresses=[
                {"type": "Home", "country": {"code": "VN", "name": "Viet Nam"}},
                {},
                {"street": "", "country": ""},
            ],
            websites="htk-inc.com",
            im=[{"protocol": "Zalo", "value": "huy"}, {"protocol": "Skype", "value": ""}],
            cusFields=[
                {"name": "What animal do you like?", "value": "Dog|Cat"},
                {"name": "Enrolled", "value": "2019-07-08T00:00:00+07:00"},
                {"name": "Count", "value": 3},
                {"name": "", "value": "nameless"},
            ],
            permit={"status": 4, "users": [" ops.team@example.com"], "group": ""},
        ),
    )
    c = find(ant, "PID-1")
    assert c["name"] == "Huy"
    assert c["emails"] == [
        {"type": None, "value": "bare@x.co"},
        {"type": "Work", "value": "w@x.co"},
    ]
    assert c["phones"] == [{"type": "Pager", "value": "+84 905"}]
    assert c["addresses"] == [{"type": "Home", "country": {"code": "VN", "name": "Viet Nam"}}]
    assert c["websites"] == [{"value": "htk-inc.com"}]
    assert c["im"] == [{"protocol": "Zalo", "value": "huy"}]
    assert c["cusFields"] == [
        {"name": "What animal do you like?", "value": "Dog|Cat"},
        {"name": "Enrolled", "value": "2019-07-08T00:00:00+07:00"},
        {"name": "Count", "value": 3},
    ]
    assert c["permit"] == {"status": 4, "users": ["Ops.Team@Example.com"]}  # AC-CONF-1


# -- companyContact ---------------------------------------------------------------------------
COMPANIES = [
    customer("CID-1", name="Google", emails=[{"type": None, "value": "g@google.com"}]),
    customer("CID-2", name="Other", phones=[{"type": None, "value": "028 1234"}]),
    customer("PID-1", name="Not a company", emails=[{"type": None, "value": "c@x.co"}]),
]


@pytest.mark.parametrize(
    ("company", "linked"),
    [
        ({"name": "  GOOGLE "}, "CID-1"),
        ({"name": "Nope", "emails": [{"value": "G@google.com"}]}, "CID-1"),
        (
            {"name": "Nope", "emails": [{"value": "x@y.co"}], "phones": [{"value": "0281234"}]},
            "CID-2",
        ),
        ({"name": "Other", "emails": [{"value": "g@google.com"}]}, "CID-2"),
        ({"customerId": "CID-2", "name": "Google"}, "CID-1"),
    ],
)
def test_add_contact_company_contact_finds_an_account_name_emails_phones(
    client, sim, company, linked
):
    load(sim, customers=COMPANIES)
    send_ok(client, item("add-contact", name="Huy", companyContact=company))
    assert codes(sim) == ["CID-1", "CID-2", "PID-1", "PID-2"]
    assert find(sim, "PID-2")["companyId"] == linked
    assert history(sim, linked) == []


def test_add_contact_company_contact_creates_the_account_when_missing(client, sim):
    load(
        sim,
        customers=COMPANIES,
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
    )
    send_ok(
        client,
        item(
            "add-contact",
            name="Huy",
            companyContact={
                "name": "Beeiq",
                "emails": [{"value": "c@x.co"}],
                "phones": [{"value": "0906613999"}],
                "websites": [{"value": "beeiq.co"}],
                "addresses": [{"city": "Da Nang"}],
                "im": [{"protocol": "Skype", "value": "beeiq"}],
            },
        ),
    )
    assert codes(sim) == ["CID-1", "CID-2", "PID-1", "CID-3", "PID-2"]
    company = find(sim, "CID-3")
    assert company["kind"] == "account"
    assert company["name"] == "Beeiq"
    assert company["emails"] == [{"type": None, "value": "c@x.co"}]
    assert company["phones"] == [{"type": None, "value": "0906613999"}]
    assert company["websites"] == [{"value": "beeiq.co"}]
    assert company["addresses"] == [{"city": "Da Nang"}]
    assert company["im"] == [{"protocol": "Skype", "value": "beeiq"}]
    assert company["source"] == "Website"
    assert company["tags"] == []
    assert company["history"] == [created_line()]
    assert find(sim, "PID-2")["companyId"] == "CID-3"
    assert find(sim, "PID-2")["tags"] == ["from-webhook"]
    assert [e["customerId"] for e in outbox(sim, "email")] == []


def test_add_contact_company_without_name_and_no_match_stays_unlinked(client, sim):
    load(sim, customers=COMPANIES)
    send_ok(
        client, item("add-contact", name="Huy", companyContact={"emails": [{"value": "n@x.co"}]})
    )
    assert codes(sim)[-1] == "PID-2"
    assert find(sim, "PID-2")["companyId"] is None


def test_add_contact_companies_created_in_one_request_are_reused(client, ant):
    send_ok(
        client,
        item("add-contact", name="A", companyContact={"name": "ACME"}),
        item("add-contact", name="B", companyContact={"name": "acme"}),
    )
    assert [(c["customerId"], c["companyId"]) for c in customers(ant)] == [
        ("CID-1", None),
        ("PID-1", "CID-1"),
        ("PID-2", "CID-1"),
    ]
