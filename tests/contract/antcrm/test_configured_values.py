"""AntCRM values "configured in CRM" and email values (issue 12 item 9): AC-CONF-1,
AC-CONF-2 and AC-EMAIL-1 in docs/vendors/antcrm.md."""

import pytest

from ._support import ACME_SENDER, customer, customers, find, item, load_acme, send_ok

CONFIGURED = {
    "users": [ACME_SENDER, "Sales@Acme.vn"],
    "groups": ["Nhom 1", "Nhom 2"],
    "channels": ["Kite Chat"],
    "slas": ["Gold"],
}


def detail(sim, n=0):
    return sim.journal(vendor="antcrm")[-1]["outcomes"][n]["detail"]


# == AC-CONF-1: kept only when the org configures them, in the org's spelling ===============
def test_permit_keeps_the_org_groups_and_users_only_AC_CONF_1(client, sim):
    load_acme(sim, org=CONFIGURED)
    permit = {"status": 4, "group": " nhom 1 ", "users": ["sales@acme.vn", "nobody@x.co"]}
    send_ok(client, item("add-contact", name="A", permit=permit), sender=ACME_SENDER)
    assert find(sim, "PID-1")["permit"] == {
        "status": 4,
        "group": "Nhom 1",
        "users": ["Sales@Acme.vn"],
    }
    assert detail(sim) == "not kept: permit.users 'nobody@x.co' is not a user of the org"
    send_ok(
        client,
        item("update-contact", customerId="PID-1", permit={"status": 3, "group": "Nhom 9"}),
        sender=ACME_SENDER,
    )
    assert find(sim, "PID-1")["permit"] == {"status": 3}
    send_ok(
        client,
        item("add-contact", name="B", permit={"group": "Nhom 9", "users": ["x@y.co"]}),
        sender=ACME_SENDER,
    )
    assert find(sim, "PID-2")["permit"] is None


def test_note_channel_and_permit_AC_CONF_1(client, sim):
    load_acme(sim, customers=[customer("PID-1")], org=CONFIGURED)
    send_ok(
        client,
        item(
            "add-note",
            customerId="PID-1",
            body="a",
            channel="kite chat",
            permit={"group": "Nhom 2"},
        ),
        item("add-note", customerId="PID-1", body="b", channel="Fax", permit={"group": "X"}),
        sender=ACME_SENDER,
    )
    notes = find(sim, "PID-1")["notes"]
    assert [(n["body"], n["channel"], n["permit"]) for n in notes] == [
        ("a", "Kite Chat", {"group": "Nhom 2"}),
        ("b", None, None),
    ]


def test_ticket_group_and_sla_AC_CONF_1(client, sim):
    load_acme(sim, org=CONFIGURED)
    send_ok(
        client,
        item("add-ticket", body="a", groupName="NHOM 2", slaName="gold", channel="Fax"),
        item("add-ticket", body="b", groupName="Support", slaName="Platinum"),
        sender=ACME_SENDER,
    )
    tickets = sim.state("antcrm")["tickets"]
    assert [(t["groupName"], t["slaName"], t["channel"]) for t in tickets] == [
        ("Nhom 2", "Gold", "Fax"),  # a ticket's channel is stored as given (AC-TICKET-3)
        (None, None, None),
    ]
    assert detail(sim, 1) == (
        "ticket 2, customer none; not kept: groupName 'Support' is not one of the org's groups; "
        "slaName 'Platinum' is not one of the org's slas"
    )


def test_deal_owner_and_permit_AC_CONF_1(client, sim):
    load_acme(sim, org=CONFIGURED)
    owner = {"users": ["SALES@acme.vn", "ghost@x.co"], "groups": ["nhom 1", "Nhom 7", "NHOM 1"]}
    send_ok(
        client,
        item(
            "add-deal",
            name="D",
            stage="New",
            dealWith={"name": "C"},
            owner_opportunity=owner,
            permit={"status": 4, "users": ["ghost@x.co"]},
        ),
        sender=ACME_SENDER,
    )
    [deal] = sim.state("antcrm")["deals"]
    assert deal["owner_opportunity"] == {"users": ["Sales@Acme.vn"], "groups": ["Nhom 1"]}
    assert deal["permit"] == {"status": 4}


# == AC-CONF-2: an org that lists none of a kind keeps those values as given ================
def test_values_kept_as_given_when_the_org_lists_none_AC_CONF_2(client, sim):
    load_acme(sim, customers=[customer("PID-1")])  # no groups, channels or slas
    send_ok(
        client,
        item("add-note", customerId="PID-1", body="n", channel="Fax", permit={"group": "G"}),
        item("add-ticket", body="t", groupName="Support", slaName="Gold"),
        sender=ACME_SENDER,
    )
    [note] = find(sim, "PID-1")["notes"]
    assert (note["channel"], note["permit"]) == ("Fax", {"group": "G"})
    [ticket] = sim.state("antcrm")["tickets"]
    assert (ticket["groupName"], ticket["slaName"]) == ("Support", "Gold")


def test_unconfigured_values_are_no_contract_violation(client, sim):
    load_acme(sim, org=CONFIGURED)
    r = send_ok(
        client,
        item("add-ticket", body="t", groupName="Support", slaName="Platinum"),
        sender=ACME_SENDER,
    )
    assert r.headers["X-Sim-Violations"] == "0"


# == AC-EMAIL-1: email values that are not addresses are not kept ===========================
@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "two words@x.co", "@x.co", "a@@x.co"])
def test_emails_that_are_not_addresses_are_not_kept_and_get_no_auto_email_AC_EMAIL_1(
    client, sim, bad
):
    load_acme(sim)
    r = send_ok(client, item("add-contact", name="A", emails=[bad]), sender=ACME_SENDER)
    assert find(sim, "PID-1")["emails"] == []
    assert sim.outbox(vendor="antcrm") == []
    assert r.headers["X-Sim-Violations"] == "0"
    assert detail(sim) == f"not kept: emails {bad!r} is not an email address"


def test_auto_email_goes_to_the_first_email_that_is_kept_AC_EMAIL_1(client, sim):
    load_acme(sim)
    send_ok(
        client,
        item("add-lead", name="A", emails=["nope", {"type": "Work", "value": "a@x.co"}]),
        sender=ACME_SENDER,
    )
    assert find(sim, "LID-1")["emails"] == [{"type": "Work", "value": "a@x.co"}]
    assert [e["to"] for e in sim.outbox(vendor="antcrm", kind="email")] == ["a@x.co"]


def test_update_and_company_emails_are_checked_too_AC_EMAIL_1(client, sim):
    load_acme(sim, customers=[customer("PID-1", name="Huy")])
    send_ok(
        client,
        item("update-contact", customerId="PID-1", emails=["bad", "huy@x.co"]),
        item("add-contact", name="B", companyContact={"name": "Co", "emails": ["co@", "co@x.co"]}),
        sender=ACME_SENDER,
    )
    assert [e["value"] for e in find(sim, "PID-1")["emails"]] == ["huy@x.co"]
    assert [e["value"] for e in find(sim, "CID-1")["emails"]] == ["co@x.co"]


def test_an_update_keyed_only_by_bad_emails_has_no_identifier_AC_EMAIL_1(client, sim):
    load_acme(sim, customers=[customer("PID-1", name="Huy")])
    send_ok(client, item("update-contact", emails=["not-an-email"], title="T"), sender=ACME_SENDER)
    assert [c["title"] for c in customers(sim)] == [None]
    assert sim.journal(vendor="antcrm")[-1]["outcomes"][0]["result"] == "ignored"
