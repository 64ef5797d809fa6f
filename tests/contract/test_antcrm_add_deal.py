"""AntCRM add-deal: ``dealWith.companyContact.customerId`` links the existing Account
(issue 12 item 8, AC-DEAL-1)."""

import pytest
from _antcrm import customer, customers, find, item, load, outcomes, post

STATE = [
    customer("CID-1", name="Google", emails=[{"type": None, "value": "g@google.com"}]),
    customer("CID-2", name="Alphabet"),
    customer("PID-1", name="Huy"),
]


def deal(**data):
    return item("add-deal", name="D", stage="New", **data)


@pytest.mark.parametrize("where", ["dealWith", "contacts"])
def test_company_contact_customer_id_links_the_existing_account_AC_DEAL_1(client, sim, where):
    load(sim, customers=STATE)
    person = {"name": "Lan", "companyContact": {"customerId": "CID-2", "name": "Google"}}
    extra = (
        {"dealWith": person}
        if where == "dealWith"
        else {
            "dealWith": {"customerId": "PID-1"},
            "contacts": [person],
        }
    )
    post(client, deal(**extra))
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
    load(sim, customers=STATE)
    post(client, deal(dealWith={"name": "Lan", "companyContact": company}))
    [lan] = [c for c in customers(sim) if c["name"] == "Lan"]
    assert lan["companyId"] == linked
    if linked == "CID-3":
        created = find(sim, "CID-3")
        assert (created["name"], created["tags"]) == ("Initech", [])


def test_company_contact_of_a_found_customer_changes_nothing_AC_DEAL_1(client, sim):
    load(sim, customers=STATE)
    post(client, deal(dealWith={"customerId": "PID-1", "companyContact": {"customerId": "CID-2"}}))
    assert find(sim, "PID-1")["companyId"] is None
    assert sim.state("antcrm")["deals"][0]["customer"] == "PID-1"


def test_company_contact_customer_id_is_still_no_key_on_add_contact(client, sim):
    load(sim, customers=STATE)
    post(
        client,
        item("add-contact", name="Lan", companyContact={"customerId": "CID-2", "name": "Google"}),
    )
    assert find(sim, "PID-2")["companyId"] == "CID-1"
