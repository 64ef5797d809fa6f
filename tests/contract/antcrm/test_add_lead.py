"""AntCRM add-lead: the sample, duplicates among leads, requirements, the lead source."""

from helpers import expect

from ._support import (
    ADD_LEAD_SAMPLE,
    OK,
    URL,
    codes,
    created_line,
    customer,
    customers,
    find,
    history,
    item,
    load,
    send_ok,
)


# == add-lead ================================================================================
def test_add_lead_sample_creates_the_lead(client, ant):
    r = client.post(URL, json=ADD_LEAD_SAMPLE)
    expect(r, 200, OK)
    [lead] = customers(ant)
    assert lead["customerId"] == "LID-1"
    assert lead["kind"] == "lead"
    assert lead["source"] == "Facebook Ads"
    assert lead["tags"] == ["webhook"]
    assert lead["contactId"] == "1234567897"
    assert lead["companyLead"] == "GOOGLE"
    assert lead["companyId"] is None
    assert lead["cusFields"] == [{"name": "Referred By", "value": "Cong Nguyen"}]
    assert lead["permit"] == {"status": 1}
    assert lead["history"] == [created_line()]


def test_add_lead_dedup_against_leads_only_A_A10(client, sim):
    load(sim, customers=[customer("PID-1", emails=[{"type": None, "value": "a@x.co"}])])
    send_ok(
        client,
        item("add-lead", name="L", emails=["a@x.co"]),
        item("add-lead", name="L2", emails=["A@x.co"], companyLead="X"),
        item("add-lead", name="L3", contactId="1"),
        item("add-lead", name="L4", contactId="1", passport="P"),
    )
    assert codes(sim) == ["PID-1", "LID-1", "LID-2"]
    assert history(sim, "LID-1") == ["created", "duplicate"]
    assert history(sim, "LID-2") == ["created", "duplicate"]
    assert find(sim, "LID-1")["companyLead"] is None
    assert history(sim, "PID-1") == []


def test_add_lead_requires_name_and_ignores_company_contact(client, ant):
    send_ok(
        client,
        item("add-lead", emails=["a@x.co"]),
        item("add-lead", name="L", companyContact={"name": "ACME"}, type=1),
    )
    assert [(c["customerId"], c["companyId"]) for c in customers(ant)] == [("LID-1", None)]


def test_add_lead_no_lead_source_configured(client, sim):
    load(sim, lead_source=None)
    send_ok(client, item("add-lead", name="L"))
    assert find(sim, "LID-1")["source"] is None
