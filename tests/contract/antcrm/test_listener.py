"""AntCRM POST webhook/listener/<id>: the envelope (listener, IP, JSON, senderUser, data),
transport errors in the vendor's shape, items in order, bad items skipped, orgs kept apart."""

import json

import pytest
from helpers import expect

from ._support import (
    ADD_CONTACT_SAMPLE,
    INVALID_JSON,
    LISTENER,
    OK,
    SENDER,
    URL,
    codes,
    customer,
    customers,
    deals,
    history,
    item,
    load,
    outbox,
    send_ok,
    state,
)

LISTENER_NOT_FOUND = {"success": False, "message": "Listener not found"}
IP_NOT_ALLOWED = {"success": False, "message": "IP not allowed"}
SENDER_REQUIRED = {"success": False, "message": "senderUser is required"}
SENDER_NOT_FOUND = {"success": False, "message": "senderUser not found"}
DATA_NOT_ARRAY = {"success": False, "message": "data must be an array"}


# == envelope: checks in the documented order (AC-ENV-1 to AC-ENV-3) =======================
def test_listener_unknown_listener_is_404_before_anything_else(client, ant):
    r = client.post("/antcrm/webhook/listener/nope", data=b"{not json")
    expect(r, 404, LISTENER_NOT_FOUND)
    assert r.mimetype == "application/json"
    assert customers(ant) == []


def test_listener_ip_not_allowed_is_403_before_the_body(client, sim):
    load(sim, allowed_ips=["10.1.2.3", "192.168.0.0/24"])
    r = client.post(URL, data=b"{not json")
    expect(r, 403, IP_NOT_ALLOWED)
    r = client.post(URL, json=ADD_CONTACT_SAMPLE)
    expect(r, 403, IP_NOT_ALLOWED)
    assert customers(sim) == []
    send_ok(client, item("add-contact", name="A"), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    send_ok(client, item("add-contact", name="B"), environ_base={"REMOTE_ADDR": "192.168.0.77"})
    # an IPv4 client of a dual-stack server (serve --host ::) is seen as ::ffff:a.b.c.d
    send_ok(client, item("add-contact", name="C"), environ_base={"REMOTE_ADDR": "::ffff:10.1.2.3"})
    r = client.post(URL, json=ADD_CONTACT_SAMPLE, environ_base={"REMOTE_ADDR": "::ffff:10.1.2.4"})
    expect(r, 403, IP_NOT_ALLOWED)
    assert codes(sim) == ["PID-1", "PID-2", "PID-3"]


def test_listener_empty_allowed_ips_lets_any_ip_in(client, ant):
    send_ok(client, item("add-contact", name="A"), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert codes(ant) == ["PID-1"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"{not json}",
        b'{"senderUser": "a", "data": [],}',
        b'{"senderUser": NaN, "data": []}',
        b'{"a": 1} {"b": 2}',
        b"[]",
        b'[{"senderUser": "huy.nguyenviet@htklabs.com", "data": []}]',
        b'"a string"',
        b"42",
        b"null",
        b"true",
        b'{"senderUser": "\xff\xfe", "data": []}',
        b"[" * 100_000 + b"]" * 100_000,
        # GEN-JSON-1: the document's own update-contact sample fragment, as published
        b'{ "senderUser": "huy.nguyenviet@htklabs.com", "data": [ { "actionType": '
        b'"update-contact", "data": { "name": "Huy", "permit: { "status": 3 } } } ] }',
        b'{"senderUser": "huy.nguyenviet@htklabs.com", "data": [{"actionType": "add-lead", '
        b'"data": {"name": "Huy", "gender": 01}}]}',
    ],
)
def test_listener_invalid_json_is_400(client, ant, body):
    r = client.post(URL, data=body, content_type="application/json")
    expect(r, 400, INVALID_JSON)
    assert customers(ant) == []


def test_listener_form_body_is_invalid_json(client, ant):
    r = client.post(URL, data={"senderUser": SENDER, "data": "[]"})
    expect(r, 400, INVALID_JSON)


def test_listener_content_type_is_not_consulted(client, ant):
    body = json.dumps({"senderUser": SENDER, "data": [item("add-contact", name="A")]})
    r = client.post(URL, data=body, content_type="text/plain")
    expect(r, 200, OK)
    assert codes(ant) == ["PID-1"]


@pytest.mark.parametrize(
    "envelope",
    [{"data": []}, {"senderUser": None, "data": []}, {"senderUser": "", "data": []}]
    + [{"senderUser": "   ", "data": []}, {"senderUser": [], "data": []}, {}],
)
def test_listener_sender_user_required(client, ant, envelope):
    r = client.post(URL, json=envelope)
    expect(r, 400, SENDER_REQUIRED)


@pytest.mark.parametrize(
    "sender", ["nobody@htklabs.com", "someone@other.org", 42, {"email": SENDER}, ["x"]]
)
def test_listener_sender_user_not_in_org_is_400_A_A18(client, ant, sender):
    r = client.post(URL, json={"senderUser": sender, "data": [item("add-contact", name="A")]})
    expect(r, 400, SENDER_NOT_FOUND)
    assert customers(ant) == []


def test_listener_sender_user_is_case_insensitive_and_trimmed(client, ant):
    send_ok(client, item("add-contact", name="A"), sender="  ops.team@EXAMPLE.com ")
    [c] = customers(ant)
    assert c["created_by"] == "Ops.Team@Example.com"
    assert c["history"][0]["senderUser"] == "Ops.Team@Example.com"


@pytest.mark.parametrize("data", [None, {}, "x", 5, {"actionType": "add-contact"}, "missing"])
def test_listener_data_must_be_an_array_A_A3(client, ant, data):
    envelope = {"senderUser": SENDER} if data == "missing" else {"senderUser": SENDER, "data": data}
    r = client.post(URL, json=envelope)
    expect(r, 400, DATA_NOT_ARRAY)
    assert customers(ant) == []


def test_listener_check_order_sender_before_data(client, ant):
    r = client.post(URL, json={"data": "nope"})
    assert r.get_json() == SENDER_REQUIRED
    r = client.post(URL, json={"senderUser": "x@y.z", "data": "nope"})
    assert r.get_json() == SENDER_NOT_FOUND


def test_listener_empty_data_array_is_200(client, ant):
    send_ok(client)
    assert customers(ant) == []


def test_listener_4xx_changes_nothing(client, ant):
    before = state(ant)
    client.post(URL, json={"senderUser": "x@y.z", "data": [item("add-contact", name="A")]})
    client.post(URL, json={"senderUser": SENDER, "data": {"0": item("add-contact", name="A")}})
    assert state(ant) == before
    assert outbox(ant) == []


def test_listener_bodies_validate_against_their_schemas(client, ant):
    from jsonschema import Draft7Validator

    from simulator.schemas import default_schemas_dir, load

    schemas = load(default_schemas_dir())
    ok = client.post(URL, json={"senderUser": SENDER, "data": []}).get_json()
    assert schemas.validate("antcrm/listener.response.json", ok) == []
    for body in (
        client.post("/antcrm/webhook/listener/x", json={}).get_json(),
        client.post(URL, json={}).get_json(),
        client.get(URL).get_json(),
    ):
        assert schemas.validate("antcrm/error.json", body) == []
    for name in schemas.names():
        if name.startswith("antcrm/"):
            Draft7Validator.check_schema(schemas.documents[name])


def test_listener_is_journaled_as_antcrm_listener(client, ant):
    send_ok(client, item("add-contact", name="A"))
    client.post("/antcrm/webhook/listener/nope", json={})
    entries = ant.journal(vendor="antcrm")
    assert [(e["operation"], e["response"]["status"]) for e in entries] == [
        ("antcrm.listener", 200),
        ("antcrm.listener", 404),
    ]
    assert entries[0]["response"]["body"] == OK


# -- transport errors in the vendor's shape --------------------------------------------------
def test_listener_transport_errors_use_the_vendor_error_shape(client, ant):
    r = client.get(URL)
    expect(r, 405, {"success": False, "message": "Method not allowed"})
    assert "POST" in r.headers["Allow"]
    r = client.post("/antcrm/webhook/listener/")
    expect(r, 404, {"success": False, "message": "Not found"})
    r = client.post("/antcrm/webhook/listener/L1/extra", json={})
    expect(r, 404, {"success": False, "message": "Not found"})


def test_listener_body_over_1_mib_is_413(client, ant):
    big = json.dumps({"senderUser": SENDER, "data": [item("add-note", body="x" * 1_100_000)]})
    r = client.post(URL, data=big, content_type="application/json")
    expect(r, 413, {"success": False, "message": "Request body too large"})
    r = client.post("/antcrm/webhook/listener/nope", data=big, content_type="application/json")
    assert r.status_code == 404


# == items: sequential, independent (AC-ENV-3, AC-ENV-4, AC-ACT-1) ==========================
@pytest.mark.parametrize(
    "bad",
    [
        "not an object",
        42,
        None,
        [item("add-contact", name="Nested")],
        {"actionType": "update-deal", "data": {"name": "D", "stage": "New"}},
        {"actionType": "ADD-CONTACT", "data": {"name": "Upper"}},
        {"actionType": " add-contact", "data": {"name": "Spaced"}},
        {"actionType": 1, "data": {"name": "Numeric"}},
        {"data": {"name": "No action"}},
        {"actionType": "add-contact"},
        {"actionType": "add-contact", "data": None},
        {"actionType": "add-contact", "data": "Huy"},
        {"actionType": "add-contact", "data": [{"name": "Huy"}]},
    ],
)
def test_listener_ignores_bad_items_and_processes_the_rest_A_A2_A_A4(client, ant, bad):
    send_ok(client, item("add-contact", name="First"), bad, item("add-contact", name="Last"))
    assert [(c["customerId"], c["name"]) for c in customers(ant)] == [
        ("PID-1", "First"),
        ("PID-2", "Last"),
    ]
    assert deals(ant) == []


def test_listener_items_run_in_order_each_seeing_the_ones_before(client, ant):
    send_ok(
        client,
        item("update-contact", emails=["a@x.co"], lastname="Too early"),
        item("add-contact", name="A", emails=["a@x.co"]),
        item("update-contact", emails=["A@X.CO"], lastname="Later"),
        item("add-note", email="a@x.co", body="hello"),
        item("add-contact", name="A again", emails=["a@x.co"]),
    )
    [c] = customers(ant)
    assert c["lastname"] == "Later"
    assert [n["body"] for n in c["notes"]] == ["hello"]
    assert history(ant, "PID-1") == ["created", "updated", "duplicate"]


def test_listener_ten_thousand_items_in_one_request(client, ant):
    items = [item("add-contact", name=f"N{i}", emails=[f"n{i}@x.co"]) for i in range(10_000)]
    send_ok(client, *items)
    found = customers(ant)
    assert len(found) == 10_000
    assert found[-1]["customerId"] == "PID-10000"


# == orgs are separate ===========================================================================
def test_orgs_do_not_see_each_others_records(client, sim):
    load(
        sim,
        customers=[customer("PID-1", org="o2", emails=[{"type": None, "value": "a@x.co"}])],
        deals=[{"dealId": "1", "org_id": "o2", "name": "D"}],
        listeners=[LISTENER, {"listener_id": "L2", "org_id": "o2"}],
    )
    send_ok(
        client,
        item("update-contact", customerId="PID-1", title="T"),
        item("add-note", body="n", model="deal", dealId="1"),
        item("add-contact", name="A", emails=["a@x.co"]),
    )
    assert [(c["org_id"], c["customerId"], c["title"]) for c in customers(sim)] == [
        ("o2", "PID-1", None),
        ("o1", "PID-1", None),
    ]
    assert [d["notes"] for d in deals(sim)] == [[]]
    r = client.post(
        "/antcrm/webhook/listener/L2",
        json={"senderUser": SENDER, "data": [item("add-contact", name="A")]},
    )
    assert r.get_json() == SENDER_NOT_FOUND
