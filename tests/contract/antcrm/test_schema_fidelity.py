"""AntCRM: the request schemas describe what the listener accepts and never change what it
does (issue 12, items 1 and 2): AC-SCHEMA-1, AC-SCHEMA-2 and AC-TYPE-1 in
docs/vendors/antcrm.md."""

import functools

import pytest
from helpers import expect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import create_app
from simulator.schemas import default_schemas_dir
from simulator.schemas import load as load_schemas
from simulator.testing import strategy
from simulator.vendors.antcrm.parsing import ACTION_TYPES, PROFILE_KEYS

from ._support import (
    ACME_SENDER,
    URL,
    customer,
    customers,
    item,
    kinds,
    load_acme,
    outcomes,
    send_ok,
)

SCHEMAS = load_schemas(default_schemas_dir())


@pytest.fixture
def acme(sim):
    """The acme world loaded (the conftest's ``ant`` is the main world)."""
    load_acme(sim)
    return sim


def flagged(*items):
    doc = {"senderUser": ACME_SENDER, "data": list(items)}
    return [v["pointer"] for v in SCHEMAS.validate("antcrm/listener.request.json", doc)]


# == AC-TYPE-1: type 1 makes an Account, any other number or string a Contact ================
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (0, "contact"),
        (1, "account"),
        (2, "contact"),
        (1.0, "account"),
        (-1, "contact"),
        ("1", "account"),
        (" 1.0 ", "account"),
        ("0", "contact"),
        ("2", "contact"),
        ("Account", "contact"),
        ("", "contact"),
        (None, "contact"),
    ],
)
def test_add_contact_type_any_number_or_string_AC_TYPE_1(client, acme, value, kind):
    r = send_ok(client, item("add-contact", name="A", type=value), sender=ACME_SENDER)
    assert kinds(acme) == [("CID-1" if kind == "account" else "PID-1", kind)]
    assert r.headers["X-Sim-Violations"] == "0"
    assert flagged(item("add-contact", name="A", type=value)) == []


@pytest.mark.parametrize("value", ["0", "1", 0, 1, 2])
def test_add_lead_type_as_the_documented_string_makes_a_lead_AC_TYPE_1(client, acme, value):
    r = send_ok(client, item("add-lead", name="L", type=value), sender=ACME_SENDER)
    assert kinds(acme) == [("LID-1", "lead")]
    assert r.headers["X-Sim-Violations"] == "0"


@pytest.mark.parametrize("value", [0, 1, 2, "0", "1", "x"])
@pytest.mark.parametrize(
    ("action", "code"),
    [("update-contact", "PID-1"), ("update-contact", "CID-1"), ("update-lead", "LID-1")],
)
def test_updates_carrying_type_update_and_never_change_the_kind(client, sim, value, action, code):
    load_acme(sim, customers=[customer("PID-1"), customer("CID-1"), customer("LID-1")])
    r = send_ok(client, item(action, customerId=code, type=value, title="T"), sender=ACME_SENDER)
    assert [c["customerId"] for c in customers(sim) if c["title"] == "T"] == [code]
    assert kinds(sim) == [("PID-1", "contact"), ("CID-1", "account"), ("LID-1", "lead")]
    assert r.headers["X-Sim-Violations"] == "0"


@pytest.mark.parametrize("value", [True, False, {"value": 1}, [1]])
def test_type_of_another_json_kind_drops_the_item_and_is_flagged(client, acme, value):
    send_ok(
        client,
        item("add-contact", name="A", type=value),
        item("add-contact", name="B"),
        sender=ACME_SENDER,
    )
    assert [c["name"] for c in customers(acme)] == ["B"]
    assert flagged(item("add-contact", name="A", type=value)) == ["/data/0/data/type"]


# == AC-SCHEMA-1: keys the vendor ignores are no violation, in strict mode too ================
UNKNOWN_KEYS = {
    "senderUser": ACME_SENDER,
    "token": None,
    "data": [
        {
            "actionType": "add-contact",
            "id": 7,
            "data": {
                "name": "Huy",
                "nickname": {"any": ["thing"]},
                "emails": [{"value": "huy@x.co", "primary": True}],
                "phones": [{"value": "0905", "ext": 12}],
                "addresses": [{"city": "Da Nang", "geo": [16.0, 108.2]}],
                "im": [{"protocol": "Skype", "value": "huy", "verified": 1}],
                "permit": {"status": 1, "note": "x"},
                "cusFields": [{"name": "Level", "value": "1", "kind": "text"}],
                "companyContact": {"name": "ACME", "size": 10},
            },
        },
        {
            "actionType": "add-deal",
            "data": {
                "name": "D",
                "stage": "New",
                "pipeline": 3,
                "owner_opportunity": {"teams": ["x"]},
                "dealWith": {"name": "Lan", "nickname": 5},
            },
        },
    ],
}


def test_unknown_keys_are_ignored_and_no_violation_AC_SCHEMA_1(client, acme):
    r = client.post(URL, json=UNKNOWN_KEYS)
    assert (r.status_code, r.headers["X-Sim-Violations"]) == (200, "0")
    assert [(c["customerId"], c["name"]) for c in customers(acme)] == [
        ("CID-1", "ACME"),
        ("PID-1", "Huy"),
        ("PID-2", "Lan"),
    ]
    assert acme.journal(vendor="antcrm")[-1]["violations"] == []


def test_unknown_keys_pass_strict_contract_AC_SCHEMA_1(client, acme):
    assert client.put("/__sim/settings", json={"strict_contract": True}).status_code == 200
    r = client.post(URL, json=UNKNOWN_KEYS)
    expect(r, 200, {"success": True})
    assert len(customers(acme)) == 3
    # what the vendor refuses still is a violation, and strict mode refuses it
    r = client.post(
        URL, json={"senderUser": ACME_SENDER, "data": [item("add-contact", gender="1")]}
    )
    assert r.status_code == 422


# == AC-SCHEMA-2: a key an action does not document is ignored whatever its value ============
@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("add-contact", {"name": "A", "customerId": 5, "companyLead": ["x"]}),
        ("add-lead", {"name": "A", "contactType": 7, "customerId": {}, "companyContact": "x"}),
        ("add-lead", {"name": "A", "contactType": "nonsense"}),
        ("add-contact", {"name": "A", "contactType": "nonsense"}),
    ],
)
def test_undocumented_keys_never_drop_an_item_AC_SCHEMA_2(client, acme, action, data):
    r = send_ok(client, item(action, **data), sender=ACME_SENDER)
    assert len(customers(acme)) == 1
    assert r.headers["X-Sim-Violations"] == "0"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("update-contact", {"customerId": "PID-1", "companyLead": 5, "title": "T"}),
        ("update-lead", {"customerId": "LID-1", "companyContact": 5, "title": "T"}),
        ("update-lead", {"customerId": "LID-1", "contactType": 1, "title": "T"}),
    ],
)
def test_undocumented_keys_never_drop_an_update_AC_SCHEMA_2(client, sim, action, data):
    load_acme(sim, customers=[customer("PID-1"), customer("LID-1")])
    send_ok(client, item(action, **data), sender=ACME_SENDER)
    assert [c["customerId"] for c in customers(sim) if c["title"] == "T"] == [data["customerId"]]


# == the schema and the listener agree ========================================================
@pytest.mark.parametrize(
    "data",
    [
        {"name": 5},
        {"name": "A", "gender": "1"},
        {"name": "A", "emails": "a@x.co"},
        {"name": "A", "emails": [{"value": 5}]},
        {"name": "A", "permit": {"status": 9}},
        {"name": "A", "permit": {"users": [1]}},
        {"name": "A", "cusFields": [{"name": "a", "value": {"deep": 1}}]},
        {"name": "A", "companyContact": "ACME"},
        {"name": "A", "contactType": 1},
        {"name": "A", "dateOfBirth": 725846400000},
        {"lastname": "no name"},
    ],
)
def test_what_the_listener_drops_the_schema_flags(client, acme, data):
    send_ok(client, item("add-contact", **data), sender=ACME_SENDER)
    assert customers(acme) == []
    assert [r for r, _ in outcomes(acme)] == ["ignored"]
    assert flagged(item("add-contact", **data)) != []


STATE = {
    "orgs": [{"org_id": "o1", "users": [ACME_SENDER], "stages": ["New"], "trial_sms_remaining": 3}],
    "listeners": [{"listener_id": "L1", "org_id": "o1"}],
}


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(strategy("antcrm.listener", pin={"senderUser": ACME_SENDER}))
def test_what_the_schema_accepts_is_never_dropped_for_its_form(document):
    """An item its schema accepts may find no target, but is never refused for the form of
    a value (the reasons the listener gives for that all say "must be")."""
    client = create_app({"seed": 7}).test_client()
    assert client.put("/__sim/state/antcrm", json=STATE).status_code == 200
    r = client.post(URL, json=document)
    expect(r, 200, {"success": True})
    assert r.headers["X-Sim-Violations"] == "0"
    entry = client.get("/__sim/journal").get_json()["entries"][-1]
    refused = [o for o in entry["outcomes"] if " must be " in (o["detail"] or "")]
    assert refused == []


@pytest.mark.parametrize(("deal_id", "linked"), [(1, "1"), (1.0, "1"), ("1", "1"), (2, None)])
def test_deal_id_integral_number_is_the_deal_its_schema_accepts(client, sim, deal_id, linked):
    load_acme(sim, deals=[{"dealId": "1", "org_id": "o1", "name": "D"}])
    r = send_ok(client, item("add-ticket", body="b", dealId=deal_id), sender=ACME_SENDER)
    assert [t["dealId"] for t in sim.state("antcrm")["tickets"]] == [linked]
    assert r.headers["X-Sim-Violations"] == "0"


# == both directions, on items of any shape ===================================================
VOCAB = sorted(
    {
        *PROFILE_KEYS["dealWith"],
        "body", "model", "email", "phone", "dealId", "channel", "content", "value", "type",
        "status", "group", "users", "groups", "street", "country", "code", "protocol",
        "stage", "dealWith", "contacts", "owner_opportunity", "closeDate", "groupName",
    }
)  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(["", " ", "1", "x", "a@x.co", "New", "lead", "deal", "PID-1"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(VOCAB) | st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=6,
)
any_data = st.dictionaries(st.sampled_from(VOCAB), json_values, max_size=6)
# Drops that follow from the item's form alone (the schema must flag them); the others
# depend on state, or on values the listener does not keep (AC-EMAIL-1).
FORM_DROPS = (" must be ", " is required", "a deal note needs", "a contact note needs")
STATE_DROPS = ("one of contactId, passport, emails, phones, customerId is required",)


@functools.cache
def _served():
    client = create_app({"seed": 7}).test_client()
    assert client.put("/__sim/state/antcrm", json=STATE).status_code == 200
    return client


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(action=st.sampled_from(ACTION_TYPES), data=any_data)
def test_the_schema_flags_exactly_the_items_dropped_for_their_form(action, data):
    client = _served()
    r = client.post(URL, json={"senderUser": ACME_SENDER, "data": [item(action, **data)]})
    assert r.status_code == 200
    [outcome] = client.get("/__sim/journal?limit=1").get_json()["entries"][-1]["outcomes"]
    found = flagged(item(action, **data))
    detail = outcome["detail"] or ""
    if found:  # the schema flags only what the vendor refuses
        assert outcome["result"] == "ignored", (found, outcome)
    if outcome["result"] == "ignored" and detail not in STATE_DROPS:
        if any(words in detail for words in FORM_DROPS):
            assert found, outcome
