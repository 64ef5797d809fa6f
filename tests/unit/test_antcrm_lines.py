"""History lines and notes that requests add to an AntCRM record are rows of their own
(``lines``): the record stays as stored, and a dump shows each list with the added lines
after its own, in the order they came (AC-REC-3)."""

from helpers import vendor_backend

from simulator.fake import credentials, fake_state

SEED = 5


def test_added_lines_leave_the_record_as_stored_and_follow_its_own_in_the_dump():
    doc = fake_state(SEED, 40, ["antcrm"])["antcrm"]
    creds = credentials(SEED)["antcrm"]
    api = vendor_backend("antcrm")
    api.load_state(doc)
    contact = next(c for c in doc["customers"] if c["kind"] == "contact" and c["emails"])
    deal = doc["deals"][0]
    code, email = contact["customerId"], contact["emails"][0]["value"]
    items = [
        {
            "actionType": "add-contact",
            "data": {"name": contact["name"], "emails": [{"value": email}]},
        },
        {"actionType": "add-note", "data": {"customerId": code, "body": "first"}},
        {"actionType": "update-contact", "data": {"customerId": code, "title": "Dr"}},
        {
            "actionType": "add-note",
            "data": {"model": "deal", "dealId": deal["dealId"], "body": "d"},
        },
        {
            "actionType": "add-contact",
            "data": {"name": contact["name"], "emails": [{"value": email}]},
        },
        {"actionType": "add-note", "data": {"customerId": code, "body": "second"}},
    ]
    outcomes = api.listener(
        listener_id=creds["listener_id"],
        client_ip="127.0.0.1",
        document={"senderUser": creds["sender"], "data": items},
    )
    assert [o.result for o in outcomes] == [
        "duplicate",
        "created",
        "updated",
        "created",
        "duplicate",
        "created",
    ]
    [stored] = [r for r in api.customers if r["customerId"] == code]
    assert len(stored["history"]) == len(contact.get("history", []))  # not rewritten per line
    assert len(stored["notes"]) == len(contact.get("notes", []))
    assert stored["title"] == "Dr"
    state = api.dump_state()
    [dumped] = [c for c in state["customers"] if c["customerId"] == code]
    own = len(contact.get("history", []))
    assert dumped["history"][:own] == [dict(h) for h in stored["history"]]
    assert [h["type"] for h in dumped["history"][own:]] == ["duplicate", "updated", "duplicate"]
    assert [n["body"] for n in dumped["notes"][len(contact.get("notes", [])) :]] == [
        "first",
        "second",
    ]
    [dumped_deal] = [d for d in state["deals"] if d["dealId"] == deal["dealId"]]
    assert [n["body"] for n in dumped_deal.get("notes", [])][len(deal.get("notes", [])) :] == ["d"]
    others = [c for c in state["customers"] if c["customerId"] != code]
    assert [c["history"] for c in others] == [
        [dict(h) for h in r["history"]] for r in api.customers if r["customerId"] != code
    ]
