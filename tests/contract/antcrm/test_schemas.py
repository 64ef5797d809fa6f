"""AntCRM request schemas: the documented samples, contract violations reported without
changing the answer."""

import pytest
from helpers import expect

from ._support import (
    ADD_CONTACT_SAMPLE,
    ADD_DEAL_SAMPLE,
    ADD_LEAD_SAMPLE,
    ADD_NOTE_CONTACT_SAMPLE,
    ADD_NOTE_DEAL_SAMPLE,
    ADD_TICKET_SAMPLE,
    OK,
    SEND_SMS_SAMPLE,
    SENDER,
    UPDATE_CONTACT_SAMPLE,
    UPDATE_LEAD_SAMPLE,
    URL,
    item,
)

SAMPLES = {
    "add-contact": ADD_CONTACT_SAMPLE,
    "add-lead": ADD_LEAD_SAMPLE,
    "update-lead": UPDATE_LEAD_SAMPLE,
    "update-contact": UPDATE_CONTACT_SAMPLE,
    "add-note-contact": ADD_NOTE_CONTACT_SAMPLE,
    "add-note-deal": ADD_NOTE_DEAL_SAMPLE,
    "add-deal": ADD_DEAL_SAMPLE,
    "add-ticket": ADD_TICKET_SAMPLE,
    "send-sms": SEND_SMS_SAMPLE,
}


# == the documented samples against the request schema =========================================
def _schemas():
    from simulator.schemas import default_schemas_dir, load

    return load(default_schemas_dir())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_listener_documented_samples_pass_the_request_schema(name):
    assert _schemas().validate("antcrm/listener.request.json", SAMPLES[name]) == []


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        (item("update-deal", name="D"), "/data/0/actionType"),
        (item("add-contact", lastname="no name"), "/data/0/data/name"),
        (item("add-contact", name="A", gender="1"), "/data/0/data/gender"),
        (item("update-contact", name="only a name"), "/data/0/data"),
        (item("add-note", body="b", model="deal", customerId="PID-1"), "/data/0/data"),
        (item("add-note", body="b"), "/data/0/data"),
        (item("send-sms", content="c", phones=[]), "/data/0/data/phones"),
        (item("add-deal", name="D", closeDate="2024"), "/data/0/data/closeDate"),
    ],
)
def test_listener_request_schema_flags_contract_violations(data, pointer):
    found = _schemas().validate(
        "antcrm/listener.request.json", {"senderUser": SENDER, "data": [data]}
    )
    assert pointer in [v["pointer"] for v in found]


def test_listener_contract_check_reports_violations_without_changing_the_answer(client, ant):
    r = client.post(URL, json=ADD_CONTACT_SAMPLE)
    assert r.headers.get("X-Sim-Violations", "0") == "0"
    bad = {"senderUser": SENDER, "data": [item("update-deal", name="D"), item("add-contact")]}
    r = client.post(URL, json=bad)
    expect(r, 200, OK)
    assert int(r.headers["X-Sim-Violations"]) >= 2
    pointers = [v["pointer"] for v in ant.journal(vendor="antcrm")[-1]["violations"]]
    assert "/data/0/actionType" in pointers
    assert "/data/1/data/name" in pointers
