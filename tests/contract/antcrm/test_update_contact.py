"""AntCRM update-contact and update-lead: the identifier, the target, merge semantics,
company links, and which pool ``type`` searches (AC-UPD-1)."""

import pytest
from helpers import expect

from ._support import (
    ACME_SENDER,
    OK,
    SAMPLE_ORG,
    UPDATE_CONTACT_SAMPLE,
    UPDATE_LEAD_SAMPLE,
    URL,
    codes,
    created_line,
    customer,
    customers,
    find,
    history,
    item,
    kinds,
    load,
    load_acme,
    outbox,
    outcomes,
    send_ok,
    state,
)

# == update-contact / update-lead (AC-UPD-2 to AC-UPD-5) ====================================
UPDATE_STATE = [
    customer(
        "PID-1",
        name="Huy",
        contactId="EXT-1",
        passport="P-1",
        emails=[{"type": "Work", "value": "one@x.co"}],
        phones=[{"type": None, "value": "0905 000 001"}],
        tags=["a"],
        cusFields=[{"name": "Level", "value": "1"}, {"name": "Keep", "value": "k"}],
        source="Import",
    ),
    customer("PID-2", name="Lan", contactId="EXT-2", emails=[{"type": None, "value": "two@x.co"}]),
    customer("CID-3", name="ACME", passport="P-3", phones=[{"type": None, "value": "028-3"}]),
    customer("LID-1", name="Huy", contactId="EXT-1", emails=[{"type": None, "value": "one@x.co"}]),
]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Huy", "lastname": "X"},
        {"lastname": "X", "title": "T"},
        {"name": "Huy", "emails": [{"value": ""}], "phones": [], "passport": "", "customerId": ""},
    ],
)
def test_update_contact_requires_an_identifier_name_alone_is_not_enough_A_A6(client, sim, payload):
    load(sim, customers=UPDATE_STATE)
    before = state(sim)
    send_ok(client, item("update-contact", **payload), item("update-lead", **payload))
    assert state(sim) == before


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"customerId": "PID-2", "contactId": "EXT-1", "emails": ["one@x.co"]}, "PID-2"),
        ({"contactId": "EXT-2", "name": "Huy", "emails": ["one@x.co"]}, "PID-2"),
        ({"name": " lan ", "emails": ["one@x.co"]}, "PID-2"),
        ({"emails": ["two@x.co"], "phones": ["0905000001"], "passport": "P-1"}, "PID-2"),
        ({"phones": ["(028) 3"], "passport": "P-1", "type": 1}, "CID-3"),
        ({"passport": "P-3", "type": "1"}, "CID-3"),
        ({"customerId": "CID-3"}, "CID-3"),
    ],
)
def test_update_contact_target_is_the_first_provided_key_A_A6_A_A7(client, sim, payload, target):
    load(sim, customers=UPDATE_STATE)
    send_ok(client, item("update-contact", title="Updated", **payload))
    updated = [c["customerId"] for c in customers(sim) if c["title"] == "Updated"]
    assert updated == [target]
    assert history(sim, target) == ["updated"]


@pytest.mark.parametrize(
    "payload",
    [
        {"customerId": "PID-99", "contactId": "EXT-1", "emails": ["one@x.co"]},
        {"contactId": "ext-1", "emails": ["one@x.co"]},
        {"name": "Nobody", "emails": ["one@x.co"]},
        {"emails": ["none@x.co"], "phones": ["0905000001"]},
        {"customerId": "LID-1"},
        {"customerId": " PID-1 ", "emails": ["one@x.co"]},  # codes compare exactly (AC-NORM-1)
    ],
)
def test_update_contact_no_fall_through_and_no_create_A_A7_A_A8(client, sim, payload):
    load(sim, customers=UPDATE_STATE)
    before = state(sim)
    send_ok(client, item("update-contact", title="Updated", **payload))
    assert state(sim) == before
    assert outbox(sim) == []


def test_update_contact_emails_match_any_value_oldest_wins(client, sim):
    load(sim, customers=UPDATE_STATE)
    send_ok(client, item("update-contact", title="T", emails=["two@x.co", "ONE@x.co"]))
    assert [c["customerId"] for c in customers(sim) if c["title"] == "T"] == ["PID-1"]


def test_update_lead_only_reaches_leads(client, sim):
    load(sim, customers=UPDATE_STATE)
    send_ok(
        client,
        item("update-lead", customerId="PID-1", title="No"),
        item("update-lead", contactId="EXT-1", title="Yes"),
    )
    assert [c["customerId"] for c in customers(sim) if c["title"]] == ["LID-1"]
    assert find(sim, "LID-1")["title"] == "Yes"


def test_update_contact_merge_semantics_A_A9(client, sim):
    load(
        sim,
        customers=UPDATE_STATE,
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
        auto_sms={"enabled": True, "content": "Hello"},
    )
    send_ok(
        client,
        item(
            "update-contact",
            customerId="PID-1",
            type=1,
            name="Huy N.",
            lastname="Nguyen",
            title="CTO",
            passport="P-1b",
            gender=0,
            bgInfo="bg",
            dateOfBirth="1993",
            permit={"status": 2},
            contactId="EXT-1b",
            emails=[{"value": "ONE@x.co"}, {"type": "Home", "value": "new@x.co"}],
            phones=["(0905) 000-001", "0906"],
            addresses=[{"city": "Hue"}],
            websites=[{"value": "x.co"}, "x.co"],
            im=[{"protocol": "Skype", "value": "huy"}],
            tag="a, b",
            cusFields=[{"name": "Level", "value": "2"}, {"name": "New", "value": "n"}],
            source="Payload",
        ),
    )
    c = find(sim, "PID-1")
    assert c == {
        "customerId": "PID-1",
        "org_id": "o1",
        "kind": "contact",
        "name": "Huy N.",
        "lastname": "Nguyen",
        "title": "CTO",
        "passport": "P-1b",
        "gender": 0,
        "bgInfo": "bg",
        "dateOfBirth": "1993",
        "emails": [{"type": "Work", "value": "one@x.co"}, {"type": "Home", "value": "new@x.co"}],
        "phones": [{"type": None, "value": "0905 000 001"}, {"type": None, "value": "0906"}],
        "addresses": [{"city": "Hue"}],
        "websites": [{"value": "x.co"}],
        "im": [{"protocol": "Skype", "value": "huy"}],
        "tags": ["a", "b"],
        "cusFields": [
            {"name": "Level", "value": "2"},
            {"name": "Keep", "value": "k"},
            {"name": "New", "value": "n"},
        ],
        "permit": {"status": 2},
        "source": "Import",
        "contactId": "EXT-1b",
        "companyId": None,
        "companyLead": None,
        "history": [created_line("updated")],
        "notes": [],
        "created_by": None,
    }
    assert outbox(sim) == []
    # the indexes follow: the new keys find it, the old passport does not
    send_ok(client, item("update-contact", passport="P-1", title="old key"))
    send_ok(client, item("update-contact", emails=["NEW@x.co"], title="new key"))
    assert find(sim, "PID-1")["title"] == "new key"


def test_update_contact_values_not_provided_leave_fields_alone(client, sim):
    load(sim, customers=UPDATE_STATE)
    before = find(sim, "PID-1")
    send_ok(
        client,
        item("update-contact", customerId="PID-1", name="", lastname=None, tag="", gender=""),
    )
    after = find(sim, "PID-1")
    assert {**after, "history": []} == {**before, "history": []}
    assert history(sim, "PID-1") == ["updated"]


def test_update_contact_sample_links_the_company_by_customer_id(client, sim):
    load(
        sim,
        customers=[
            customer("PID-678", name="Huy"),
            customer("CID-123", name="Alphabet"),
            customer("CID-124", name="GOOGLE"),
        ],
        orgs=[SAMPLE_ORG],
    )
    r = client.post(URL, json=UPDATE_CONTACT_SAMPLE)
    expect(r, 200, OK)
    c = find(sim, "PID-678")
    assert c["companyId"] == "CID-123"
    assert (c["lastname"], c["permit"], c["tags"]) == (
        "Nguyen Viet",
        {"status": 3, "group": "Nhom test"},
        ["webhook"],
    )
    assert codes(sim) == ["PID-678", "CID-123", "CID-124"]


def test_update_contact_company_falls_through_and_creates(client, sim):
    load(sim, customers=[customer("PID-1", name="Huy"), customer("CID-5", name="GOOGLE")])
    send_ok(
        client,
        item(
            "update-contact",
            customerId="PID-1",
            companyContact={"customerId": "CID-9", "name": "google"},
        ),
    )
    assert find(sim, "PID-1")["companyId"] == "CID-5"
    send_ok(client, item("update-contact", customerId="PID-1", companyContact={"name": "Beeiq"}))
    assert codes(sim) == ["PID-1", "CID-5", "CID-6"]
    assert find(sim, "PID-1")["companyId"] == "CID-6"
    send_ok(
        client, item("update-contact", customerId="PID-1", companyContact={"emails": ["z@z.co"]})
    )
    assert find(sim, "PID-1")["companyId"] == "CID-6"
    assert history(sim, "PID-1") == ["updated", "updated", "updated"]


def test_update_contact_company_contact_ignored_for_accounts(client, sim):
    load(sim, customers=[customer("CID-1", name="ACME")])
    send_ok(client, item("update-contact", customerId="CID-1", companyContact={"name": "Parent"}))
    assert codes(sim) == ["CID-1"]
    assert find(sim, "CID-1")["companyId"] is None


def test_update_lead_sample_overwrites_company_lead(client, sim):
    load(sim, customers=[customer("LID-123", name="Huy", companyLead="OLD")])
    r = client.post(URL, json=UPDATE_LEAD_SAMPLE)
    expect(r, 200, OK)
    lead = find(sim, "LID-123")
    assert (lead["companyLead"], lead["lastname"], lead["contactId"]) == (
        "GOOGLE",
        "Nguyen Viet",
        "1234567897",
    )
    assert lead["tags"] == ["webhook"]
    assert history(sim, "LID-123") == ["updated"]


# -- update-contact: which pool ``type`` searches ---------------------------------------------
TWINS = [
    customer(
        "CID-1",
        name="Acme",
        passport="P-1",
        contactId="EXT-1",
        emails=[{"type": None, "value": "acme@x.co"}],
        phones=[{"type": None, "value": "0905 111"}],
    ),
    customer(
        "PID-2",
        name="acme ",
        passport="P-1",
        contactId="EXT-2",
        emails=[{"type": None, "value": "ACME@x.co"}],
        phones=[{"type": None, "value": "0905-111"}],
    ),
]
KEYS = [
    {"name": "ACME", "passport": "nope"},  # name comes first; it alone is no identifier
    {"emails": ["acme@x.co"]},
    {"phones": ["0905111"]},
    {"passport": "P-1"},
]


def titled(sim):
    return [c["customerId"] for c in customers(sim) if c["title"] == "T"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    ("type_", "target"), [(1, "CID-1"), ("1", "CID-1"), (0, "PID-2"), (2, "PID-2"), (None, "PID-2")]
)
def test_update_contact_type_picks_accounts_or_contacts_AC_UPD_1(client, sim, key, type_, target):
    load_acme(sim, customers=TWINS)
    data = {**key, "title": "T", **({"type": type_} if type_ is not None else {})}
    send_ok(client, item("update-contact", **data), sender=ACME_SENDER)
    assert titled(sim) == [target]
    assert kinds(sim) == [("CID-1", "account"), ("PID-2", "contact")]  # type never changes
    assert outcomes(sim) == [("updated", target)]


@pytest.mark.parametrize("type_", [0, 1, 2])
@pytest.mark.parametrize(
    ("key", "target"),
    [
        ({"customerId": "CID-1"}, "CID-1"),
        ({"customerId": "PID-2"}, "PID-2"),
        ({"contactId": "EXT-1"}, "CID-1"),
        ({"contactId": "EXT-2"}, "PID-2"),
    ],
)
def test_update_contact_a_code_names_its_record_whatever_type_says_AC_UPD_1(
    client, sim, type_, key, target
):
    load_acme(sim, customers=TWINS)
    send_ok(client, item("update-contact", **key, type=type_, title="T"), sender=ACME_SENDER)
    assert titled(sim) == [target]
    assert kinds(sim) == [("CID-1", "account"), ("PID-2", "contact")]


def test_update_contact_an_account_is_not_found_among_contacts_AC_UPD_1(client, sim):
    load_acme(sim, customers=[TWINS[0]])
    send_ok(client, item("update-contact", emails=["acme@x.co"], title="T"), sender=ACME_SENDER)
    assert titled(sim) == []
    [(result, record)] = outcomes(sim)
    assert (result, record) == ("ignored", None)
    entry = sim.journal(vendor="antcrm")[-1]["outcomes"][0]
    assert entry["detail"] == "no Contact has email ['acme@x.co']"
    send_ok(
        client, item("update-contact", emails=["acme@x.co"], type=1, title="T"), sender=ACME_SENDER
    )
    assert titled(sim) == ["CID-1"]
    assert find(sim, "CID-1")["kind"] == "account"


def test_update_lead_ignores_type(client, sim):
    load_acme(sim, customers=[customer("LID-1", name="Lan"), *TWINS])
    send_ok(client, item("update-lead", passport="P-1", type=1, title="T"), sender=ACME_SENDER)
    assert titled(sim) == []
    send_ok(client, item("update-lead", customerId="LID-1", type=1, title="T"), sender=ACME_SENDER)
    assert titled(sim) == ["LID-1"]
    assert find(sim, "LID-1")["kind"] == "lead"
