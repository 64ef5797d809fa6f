"""AntCRM behaviour pinned down for mutation testing (issue 15; rules in docs/vendors/antcrm.md).

Each test names what a surviving mutant of ``simulator/vendors/antcrm/models.py`` changed
while every other test stayed green: exact problem messages, exact records and outcomes.
"""

from ._support import ACME_SENDER, NOW, customer, item, send_ok


def _problems(client, doc):
    r = client.put("/__sim/state/antcrm", json=doc)
    assert r.status_code == 400
    return [(e["pointer"], e["message"]) for e in r.get_json()["errors"]]


def test_state_problems_have_exact_pointers_and_messages_and_do_not_stop_the_rest(client, sim):
    doc = {
        "orgs": [{"org_id": "o1", "users": ["u@x.co"]}, {"org_id": "o1"}],
        "listeners": [
            {"listener_id": "L", "org_id": "o1", "allowed_ips": ["x", "10.0.0.0/8"]},
            {"listener_id": "L", "org_id": "o1"},
            {"listener_id": "M", "org_id": "o9"},
        ],
        "customers": [
            {"customerId": "PID-1", "org_id": "o9"},
            {"customerId": "PID-1", "org_id": "o1", "kind": "contact"},
            {"customerId": "PID-2", "org_id": "o1"},
            {"customerId": "PID-2", "org_id": "o1"},
            {"customerId": "CID-3", "org_id": "o1", "companyId": "CID-1"},
            {"customerId": "PID-4", "org_id": "o1", "companyId": "CID-9"},
        ],
        "deals": [
            {"dealId": "1", "org_id": "o9", "name": "D"},
            {
                "dealId": "1",
                "org_id": "o1",
                "name": "D",
                "customer": "PID-7",
                "contacts": ["PID-2", "PID-8"],
            },
            {"dealId": "2", "org_id": "o1", "name": "D"},
            {"dealId": "2", "org_id": "o1", "name": "D"},
        ],
        "tickets": [
            {"ticketId": "1", "org_id": "o9", "body": "b"},
            {"ticketId": "1", "org_id": "o1", "body": "b", "customer": "PID-7"},
            {"ticketId": "2", "org_id": "o1", "body": "b", "dealId": "5"},
            {"ticketId": "3", "org_id": "o1", "body": "b"},
            {"ticketId": "3", "org_id": "o1", "body": "b"},
        ],
    }
    assert _problems(client, doc) == [
        ("/orgs/1/org_id", "org_id 'o1' is used twice"),
        ("/listeners/0/allowed_ips/0", "not an IP address or network: 'x'"),
        ("/listeners/1/listener_id", "listener_id 'L' is used twice"),
        ("/listeners/2/org_id", "no org 'o9'"),
        ("/customers/0/org_id", "no org 'o9'"),
        ("/customers/3/customerId", "customerId 'PID-2' is used twice in org 'o1'"),
        ("/customers/4/companyId", "only a contact belongs to a company"),
        ("/customers/5/companyId", "no account 'CID-9' in org 'o1'"),
        ("/deals/0/org_id", "no org 'o9'"),
        ("/deals/1/customer", "no customer 'PID-7' in org 'o1'"),
        ("/deals/1/contacts/1", "no customer 'PID-8' in org 'o1'"),
        ("/deals/3/dealId", "dealId '2' is used twice in org 'o1'"),
        ("/tickets/0/org_id", "no org 'o9'"),
        ("/tickets/1/customer", "no customer 'PID-7' in org 'o1'"),
        ("/tickets/2/dealId", "no deal '5' in org 'o1'"),
        ("/tickets/4/ticketId", "ticketId '3' is used twice in org 'o1'"),
    ]
    assert sim.state("antcrm")["orgs"] == []


def load_minimal(sim, customers=(), deals=(), org=None, **listener):
    """The acme world without the listener's default tag and sources."""
    sim.freeze(NOW)
    return sim.put_state(
        {
            "orgs": [{"org_id": "o1", "users": [ACME_SENDER], "stages": ["New"], **(org or {})}],
            "listeners": [
                {
                    "listener_id": "L1",
                    "org_id": "o1",
                    "auto_email": {"enabled": True, "subject": "Hi", "body": "Welcome"},
                    **listener,
                }
            ],
            "customers": list(customers),
            "deals": list(deals),
        },
        vendor="antcrm",
    )


def outcome_details(sim):
    """(action, result, id, detail) of each item of the last listener request."""
    found = sim.journal(vendor="antcrm")[-1]["outcomes"]
    return [(o["actionType"], o["result"], o["id"], o["detail"]) for o in found]


def test_every_outcome_detail_is_exact_AC_OUTCOME_1(client, sim):
    old = customer(
        "CID-7",
        name="Old",
        emails=[{"type": None, "value": "o@x.co"}],
        phones=[{"type": None, "value": "0901"}],
        passport="P7",
    )
    load_minimal(
        sim,
        customers=[old],
        org={"sms_account_configured": True, "channels": ["Email"], "groups": ["G"]},
    )
    send_ok(
        client,
        item("add-contact", name="A", emails=["bad", "a@x.co"], permit={"group": "Nope"}),
        {"actionType": "add-note", "data": "x"},
        item("add-note", body="n", model="deal", dealId="9"),
        item("add-note", body="n", model="deal", name="Nodeal"),
        item("add-note", model="deal", name="Nodeal"),
        item("add-note", body="n", model="deal"),
        item("add-note", body="n", passport="P8"),
        item("add-note", body="n", email="z@x.co"),
        item("add-note", body="n", phone="0999"),
        item("add-note", body="n", contactType="lead", customerId="CID-7"),
        item("add-note", body="n", passport="P7", channel="sms"),
        item("add-deal", name="D"),
        item("add-deal", name="D", stage="new"),
        item("add-deal", name="D", stage="New", dealWith={"emails": ["q@x.co"]}),
        item("add-deal", name="D", stage="New", dealWith="x"),
        item("add-deal", name="D", stage="New", dealWith={"name": "New Co"}),
        item("add-deal", name="D", description="x"),
        item("add-note", body="n", model="deal", dealId="1"),
        item("add-ticket", title="t"),
        item("add-ticket", body="b", email="o@x.co"),
        item("send-sms", content="c", phones=["1"]),
        item("send-sms", content="c"),
        item("update-lead", name="x", emails=["nobody@x.co"]),
        item("update-contact", type=1, phones=["0901"], title="T"),
        item("update-contact", title="T"),
        item("update-contact", type=1, emails=["none@x.co"]),
        item("update-contact", name="zz"),
        item("update-contact", contactId="zz"),
        sender=ACME_SENDER,
    )
    not_group = "permit.group 'Nope' is not one of the org's groups"
    assert outcome_details(sim) == [
        (
            "add-contact",
            "created",
            "PID-1",
            f"not kept: emails 'bad' is not an email address; {not_group}",
        ),
        ("add-note", "ignored", None, "data is not an object"),
        ("add-note", "ignored", None, "no deal has dealId '9'"),
        ("add-note", "ignored", None, "no deal has name 'Nodeal'"),
        ("add-note", "ignored", None, "body is required"),
        ("add-note", "ignored", None, "a deal note needs dealId or name"),
        ("add-note", "ignored", None, "no Contact or Account has passport 'P8'"),
        ("add-note", "ignored", None, "no Contact or Account has email ['z@x.co']"),
        ("add-note", "ignored", None, "no Contact or Account has phone ['0999']"),
        ("add-note", "ignored", None, "no Lead has customerId 'CID-7'"),
        (
            "add-note",
            "created",
            "CID-7",
            "note on CID-7; not kept: channel 'sms' is not one of the org's channels",
        ),
        ("add-deal", "ignored", None, "a new deal needs a configured stage"),
        ("add-deal", "ignored", None, "a new deal needs dealWith"),
        ("add-deal", "ignored", None, "dealWith matches no customer and has no name"),
        ("add-deal", "ignored", None, "dealWith must be an object"),
        ("add-deal", "created", "1", "deal 1 with customer PID-2 (created)"),
        ("add-deal", "updated", "1", "deal 1"),
        ("add-note", "created", "1", "note on deal 1"),
        ("add-ticket", "ignored", None, "body is required"),
        ("add-ticket", "created", "1", "ticket 1, customer CID-7"),
        ("send-sms", "sent", None, "1 of 1 SMS sent"),
        ("send-sms", "ignored", None, "content and phones are required"),
        ("update-lead", "ignored", None, "no Lead has name 'x'"),
        ("update-contact", "updated", "CID-7", None),
        (
            "update-contact",
            "ignored",
            None,
            "one of contactId, passport, emails, phones, customerId is required",
        ),
        ("update-contact", "ignored", None, "no Account has email ['none@x.co']"),
        (
            "update-contact",
            "ignored",
            None,
            "one of contactId, passport, emails, phones, customerId is required",
        ),
        ("update-contact", "ignored", None, "no Contact or Account has contactId 'zz'"),
    ]
    note = {
        "body": "n",
        "tag": None,
        "channel": None,
        "permit": None,
        "created_by": ACME_SENDER,
        "at": NOW,
    }
    state = sim.state("antcrm")
    [cid7] = [c for c in state["customers"] if c["customerId"] == "CID-7"]
    assert cid7["notes"] == [note]
    assert cid7["title"] == "T"
    assert cid7["history"] == [
        {
            "type": "updated",
            "listener_id": "L1",
            "senderUser": ACME_SENDER,
            "at": NOW,
            "text": "Updated from webhook listener L1",
        }
    ]
    assert state["deals"][0]["notes"] == [note]
    assert [(e["kind"], e["to"], e.get("origin")) for e in sim.outbox(vendor="antcrm")] == [
        ("email", "a@x.co", None),
        ("sms", "1", "send-sms"),
    ]


def test_a_caller_without_a_usable_ip_is_refused_by_an_ip_list(client, sim):
    """A listener with ``allowed_ips`` refuses a caller whose address is missing (a UNIX
    socket) or not an IP address: only a listed address may call."""
    load_minimal(sim, allowed_ips=["127.0.0.1"])
    body = {"senderUser": ACME_SENDER, "data": [item("add-contact", name="A")]}
    refused = {"success": False, "message": "IP not allowed"}
    for remote in (None, "", "unix:/tmp/sock"):
        r = client.post(
            "/antcrm/webhook/listener/L1", json=body, environ_overrides={"REMOTE_ADDR": remote}
        )
        assert (r.status_code, r.get_json()) == (403, refused), remote
    assert sim.state("antcrm")["customers"] == []
    r = client.post("/antcrm/webhook/listener/L1", json=body)
    assert r.status_code == 200


def test_send_sms_counts_every_sms_sent(client, sim):
    load_minimal(sim, org={"sms_account_configured": True})
    send_ok(client, item("send-sms", content="c", phones=["01", "02", "03"]), sender=ACME_SENDER)
    assert outcome_details(sim) == [("send-sms", "sent", None, "3 of 3 SMS sent")]
    assert [e["to"] for e in sim.outbox(vendor="antcrm")] == ["01", "02", "03"]


def test_add_ticket_links_by_the_emails_and_phones_arrays(client, sim):
    old = customer(
        "CID-7",
        name="Old",
        emails=[{"type": None, "value": "o@x.co"}],
        phones=[{"type": None, "value": "0901"}],
    )
    load_minimal(sim, customers=[old])
    send_ok(
        client,
        item("add-ticket", body="b", emails=["nobody@x.co", "O@x.co"]),
        item("add-ticket", body="b", phones=["0999", "0901"]),
        item("add-ticket", body="b", phones=["0999"]),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        ("add-ticket", "created", "1", "ticket 1, customer CID-7"),
        ("add-ticket", "created", "2", "ticket 2, customer CID-7"),
        ("add-ticket", "created", "3", "ticket 3, customer none"),
    ]
    assert [t["customer"] for t in sim.state("antcrm")["tickets"]] == ["CID-7", "CID-7", None]


def test_owner_opportunity_keeps_the_orgs_users_and_groups_and_reports_the_rest_AC_CONF_1(
    client, sim
):
    load_minimal(sim, org={"groups": ["Sales"]})
    deal = {"name": "D", "stage": "New", "dealWith": {"name": "Co"}}
    send_ok(
        client,
        item("add-deal", **deal, owner_opportunity={"groups": ["sales", "Nope", "SALES"]}),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        (
            "add-deal",
            "created",
            "1",
            "deal 1 with customer PID-1 (created); "
            "not kept: owner_opportunity.groups 'Nope' is not one of the org's groups",
        )
    ]
    assert sim.state("antcrm")["deals"][0]["owner_opportunity"] == {"groups": ["Sales"]}
    send_ok(
        client,
        item("add-deal", name="D", owner_opportunity={"users": ["OWNER@acme.vn", "x@y.co"]}),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        (
            "add-deal",
            "updated",
            "1",
            "deal 1; not kept: owner_opportunity.users 'x@y.co' is not a user of the org",
        ),
    ]
    [found] = sim.state("antcrm")["deals"]
    assert found["owner_opportunity"] == {"users": [ACME_SENDER]}


def test_deal_customers_keep_their_permits_and_report_dropped_values_AC_CONF_1(client, sim):
    load_minimal(sim, org={"groups": ["Sales"]})
    send_ok(
        client,
        item("add-ticket", body="b", name=5),
        item("add-deal", stage="New", dealWith={"name": "Co"}),
        item(
            "add-deal",
            name="D",
            stage="New",
            dealWith={"name": "Co", "permit": {"status": 1, "group": "sales"}},
            contacts=[
                {
                    "name": "B",
                    "emails": ["bad"],
                    "permit": {"group": "SALES", "users": ["OWNER@acme.vn"]},
                }
            ],
        ),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        ("add-ticket", "ignored", None, "name must be a string"),
        ("add-deal", "ignored", None, "name is required"),
        (
            "add-deal",
            "created",
            "1",
            "deal 1 with customer PID-1 (created); not kept: emails 'bad' is not an email address",
        ),
    ]
    found = [(c["customerId"], c["permit"]) for c in sim.state("antcrm")["customers"]]
    assert found == [
        ("PID-1", {"status": 1, "group": "Sales"}),
        ("PID-2", {"group": "Sales", "users": [ACME_SENDER]}),
    ]
    assert sim.state("antcrm")["deals"][0]["contacts"] == ["PID-2"]


def test_key_lists_look_past_keys_that_find_nothing_or_have_no_digits(client, sim):
    old = customer(
        "CID-7",
        name="Old",
        emails=[{"type": None, "value": "o@x.co"}],
        phones=[{"type": None, "value": "0901"}],
    )
    load_minimal(sim, customers=[old])
    send_ok(
        client,
        item("add-note", body="a", emails=["o@x.co", "nobody@x.co"]),
        item("add-note", body="b", phone="no digits", phones=["0901"]),
        item("add-ticket", body="c", phones=["0901", "0999"]),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        ("add-note", "created", "CID-7", "note on CID-7"),
        ("add-note", "created", "CID-7", "note on CID-7"),
        ("add-ticket", "created", "1", "ticket 1, customer CID-7"),
    ]


def test_add_deal_update_moves_the_deal_to_the_customer_dealwith_finds(client, sim):
    customers = [customer("PID-1", name="A"), customer("CID-7", name="Old")]
    load_minimal(sim, customers=customers, deals=[{"dealId": "1", "org_id": "o1", "name": "D"}])
    send_ok(
        client,
        item("add-deal", name="D", dealWith={"customerId": "CID-7"}),
        item("add-deal", name="D", dealWith={"customerId": "PID-9"}),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        ("add-deal", "updated", "1", "deal 1"),
        ("add-deal", "updated", "1", "deal 1"),
    ]
    [deal] = sim.state("antcrm")["deals"]
    assert deal["customer"] == "CID-7"
    assert [c["customerId"] for c in sim.state("antcrm")["customers"]] == ["PID-1", "CID-7"]


def test_a_contact_note_without_a_key_is_ignored_with_its_reason(client, sim):
    load_minimal(sim)
    send_ok(client, item("add-note", body="b"), sender=ACME_SENDER)
    assert outcome_details(sim) == [
        (
            "add-note",
            "ignored",
            None,
            "a contact note needs customerId, contactId, passport, email or phone",
        )
    ]


def test_update_merges_each_list_by_its_own_identity_A_A8(client, sim):
    load_minimal(sim)
    send_ok(
        client,
        item(
            "add-contact",
            name="A",
            phones=["abc"],
            addresses=[{"street": "S1"}],
            websites=["w1"],
            im=[{"protocol": "Skype", "value": "a"}],
        ),
        sender=ACME_SENDER,
    )
    send_ok(
        client,
        item(
            "update-contact",
            customerId="PID-1",
            phones=["abc", "xyz", "0901"],
            addresses=[{"street": "S1"}, {"street": "S2"}, {"street": "S3"}],
            websites=["w1", "w2", "w3"],
            im=[
                {"protocol": "Skype", "value": "a"},
                {"protocol": "Skype", "value": "b"},
                {"protocol": "Zalo", "value": "a"},
            ],
        ),
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [("update-contact", "updated", "PID-1", None)]
    [found] = sim.state("antcrm")["customers"]
    assert [p["value"] for p in found["phones"]] == ["abc", "xyz", "0901"]
    assert found["addresses"] == [{"street": "S1"}, {"street": "S2"}, {"street": "S3"}]
    assert found["websites"] == [{"value": "w1"}, {"value": "w2"}, {"value": "w3"}]
    assert found["im"] == [
        {"protocol": "Skype", "value": "a"},
        {"protocol": "Skype", "value": "b"},
        {"protocol": "Zalo", "value": "a"},
    ]


def test_update_lead_keeps_company_lead_unless_given(client, sim):
    load_minimal(sim, customers=[customer("LID-1", name="L", companyLead="Acme")])
    send_ok(client, item("update-lead", customerId="LID-1", title="T"), sender=ACME_SENDER)
    [lead] = sim.state("antcrm")["customers"]
    assert (lead["title"], lead["companyLead"]) == ("T", "Acme")
    send_ok(client, item("update-lead", customerId="LID-1", companyLead="Beta"), sender=ACME_SENDER)
    assert sim.state("antcrm")["customers"][0]["companyLead"] == "Beta"


def test_the_first_spelling_of_a_configured_name_wins_AC_CONF_1(client, sim):
    org = {
        "users": ["Owner@Acme.vn", "owner@acme.vn", " Sales@Acme.vn "],
        "stages": ["New", "NEW", " Won "],
        "groups": ["Sales", "SALES"],
    }
    load_minimal(sim, org=org)
    send_ok(
        client,
        item(
            "add-deal",
            name="D",
            stage="new",
            dealWith={"name": "Co", "permit": {"group": "sales", "users": ["sales@acme.vn"]}},
        ),
        item("add-deal", name="D", stage="won"),
        sender=ACME_SENDER,
    )
    state = sim.state("antcrm")
    assert state["deals"][0]["stage"] == " Won "
    [co] = state["customers"]
    assert co["created_by"] == "Owner@Acme.vn"
    assert co["permit"] == {"group": "Sales", "users": [" Sales@Acme.vn "]}


def test_company_lead_is_kept_on_leads_only(client, sim):
    load_minimal(sim)
    deal = {"stage": "New"}
    send_ok(
        client,
        item("add-deal", name="D1", **deal, dealWith={"name": "C", "companyLead": "Acme"}),
        item(
            "add-deal",
            name="D2",
            **deal,
            dealWith={"name": "L", "companyLead": "Acme", "contactType": "lead"},
        ),
        sender=ACME_SENDER,
    )
    found = [(c["customerId"], c["companyLead"]) for c in sim.state("antcrm")["customers"]]
    assert found == [("PID-1", None), ("LID-1", "Acme")]


def test_an_action_type_that_is_not_a_string_is_ignored_without_a_name_AC_OUTCOME_1(client, sim):
    load_minimal(sim)
    send_ok(
        client,
        {"actionType": 5, "data": {"name": "A"}},
        {"actionType": ["add-contact"], "data": {"name": "A"}},
        sender=ACME_SENDER,
    )
    assert outcome_details(sim) == [
        (None, "ignored", None, "unknown actionType 5"),
        (None, "ignored", None, "unknown actionType ['add-contact']"),
    ]
    assert sim.state("antcrm")["customers"] == []
