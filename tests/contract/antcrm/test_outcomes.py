"""AntCRM: each listener item's outcome in the journal (issue 12 item 10, AC-OUTCOME-1)."""

from simulator.schemas import default_schemas_dir
from simulator.schemas import load as load_schemas

from ._support import ACME_SENDER, URL, customer, item, load_acme, send_ok


def entry(sim):
    return sim.journal(vendor="antcrm")[-1]


def test_every_item_has_its_outcome_in_the_journal_AC_OUTCOME_1(client, sim):
    load_acme(sim, customers=[customer("CID-7", name="Old")], org={"trial_sms_remaining": 1})
    send_ok(
        client,
        item("add-contact", name="Huy", emails=["huy@x.co"]),
        item("add-contact", name="Huy again", emails=["HUY@x.co"]),
        item("update-contact", customerId="PID-1", title="CTO"),
        item("update-contact", customerId="PID-99", title="CTO"),
        item("add-contact", lastname="no name"),
        {"actionType": "update-deal", "data": {"name": "D"}},
        "not an object",
        item("add-note", customerId="CID-7", body="Called"),
        item("add-deal", name="D", stage="New", dealWith={"customerId": "PID-1"}),
        item("add-ticket", body="Help", customerId="PID-1", dealId="1"),
        item("send-sms", content="Hi", phones=["0905", "0906"]),
        item("send-sms", content="Hi", phones=["0907"]),
        item("add-lead", name="Lan", type="0"),
        sender=ACME_SENDER,
    )
    found = entry(sim)["outcomes"]
    assert [o["item"] for o in found] == list(range(13))
    assert [(o["actionType"], o["result"], o["id"], o["detail"]) for o in found] == [
        ("add-contact", "created", "PID-1", None),
        (
            "add-contact",
            "duplicate",
            "PID-1",
            "PID-1 already exists: nothing created, History line added",
        ),
        ("update-contact", "updated", "PID-1", None),
        ("update-contact", "ignored", None, "no Contact or Account has customerId 'PID-99'"),
        ("add-contact", "ignored", None, "name is required"),
        ("update-deal", "ignored", None, "unknown actionType 'update-deal'"),
        (None, "ignored", None, "the item is not an object"),
        ("add-note", "created", "CID-7", "note on CID-7"),
        ("add-deal", "created", "1", "deal 1 with customer PID-1 (found)"),
        ("add-ticket", "created", "1", "ticket 1, customer PID-1"),
        ("send-sms", "sent", None, "1 of 2 SMS sent"),
        (
            "send-sms",
            "ignored",
            None,
            "the org may not send SMS (no SMS account, no trial SMS left)",
        ),
        ("add-lead", "created", "LID-1", None),
    ]


def test_outcomes_are_null_when_nothing_was_processed_AC_OUTCOME_1(client, sim):
    load_acme(sim)
    r = client.post(URL, json={"data": [item("add-contact", name="A")]})
    assert r.status_code == 400
    assert entry(sim)["outcomes"] is None
    client.put("/__sim/settings", json={"strict_contract": True})
    r = client.post(URL, json={"senderUser": ACME_SENDER, "data": [item("add-contact")]})
    assert r.status_code == 422
    assert entry(sim)["outcomes"] is None
    r = client.post(URL, json={"senderUser": ACME_SENDER, "data": []})
    assert entry(sim)["outcomes"] == []


def test_journal_entries_with_outcomes_match_the_journal_entry_schema(client, sim):
    load_acme(sim)
    send_ok(
        client,
        item("add-contact", name="A"),
        item("add-note", body="x", customerId="PID-9"),
        sender=ACME_SENDER,
    )
    client.post(URL, json={"data": []})
    client.get("/crm/1")  # another vendor: no outcomes
    schemas = load_schemas(default_schemas_dir())
    entries = sim.journal()
    assert len(entries) == 3
    for e in entries:
        assert schemas.validate("sim/journal-entry.json", e) == []
    assert [e["outcomes"] is None for e in entries] == [False, True, True]
    one = client.get(f"/__sim/journal/{entries[0]['id']}").get_json()
    assert one["outcomes"][1] == {
        "item": 1,
        "actionType": "add-note",
        "result": "ignored",
        "id": None,
        "detail": "no Contact or Account has customerId 'PID-9'",
    }


def test_outcomes_count_toward_the_journal_byte_bound_AC_OUTCOME_1(app, client, sim):
    """A request of many small items holds an outcome for each: the journal's byte bound
    (journal_max_bytes) counts them, not only the (small) body."""
    from simulator.world import DEFAULT

    load_acme(sim)
    journal = app.extensions["crmsim"].namespaces.find(DEFAULT).journal
    client.post(URL, json={"senderUser": ACME_SENDER, "data": []})
    empty_entry = journal.bytes
    client.post(URL, json={"senderUser": ACME_SENDER, "data": [1] * 500})
    assert len(entry(sim)["outcomes"]) == 500
    items_entry = journal.bytes - empty_entry
    body_growth = len(", 1") * 500
    assert items_entry - empty_entry >= body_growth + 500 * (120 + len("the item is not an object"))
