"""AntCRM webhook listener contract tests: every rule of docs/vendors/antcrm.md.

One operation, ``listener``; each test names the rule it pins (section, action, A-A<n>).
Every test asserts the exact status and body, then the state and outbox it predicts.
"""

import copy
import json

import pytest
from helpers import expect

SENDER = "huy.nguyenviet@htklabs.com"
URL = "/antcrm/webhook/listener/L1"
NOW = "2024-06-01T12:00:00Z"
OK = {"success": True}
LISTENER_NOT_FOUND = {"success": False, "message": "Listener not found"}
IP_NOT_ALLOWED = {"success": False, "message": "IP not allowed"}
INVALID_JSON = {"success": False, "message": "Invalid JSON"}
SENDER_REQUIRED = {"success": False, "message": "senderUser is required"}
SENDER_NOT_FOUND = {"success": False, "message": "senderUser not found"}
DATA_NOT_ARRAY = {"success": False, "message": "data must be an array"}

ORG = {
    "org_id": "o1",
    "users": [SENDER, "Ops.Team@Example.com"],
    "groups": ["Nhom 1"],
    "stages": ["New", "Won"],
    "categories": ["UI Design"],
    "packages": ["Goi A"],
    "currencies": ["VND"],
}
# The users and groups the documented samples name, configured (AC-CONF-1 keeps only those).
SAMPLE_USERS = ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]
SAMPLE_ORG = {
    **ORG,
    "users": [SENDER, "viethuy110@gmail.com", "nhanvien1@beeiq.co", "nhanvien2@beeiq.co"]
    + SAMPLE_USERS,
    "groups": ["Nhom 1", "Nhom 2", "Nhom test", "Phong Kinh Doanh"],
}
OTHER_ORG = {"org_id": "o2", "users": ["someone@other.org"], "stages": ["New"]}
LISTENER = {
    "listener_id": "L1",
    "org_id": "o1",
    "default_tag": "from-webhook",
    "contact_source": "Website",
    "lead_source": "Facebook Ads",
}

# -- the vendor document's samples, made valid JSON (GEN-JSON-1) --------------------------
ADD_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-contact",
            "data": {
                "contactType": "customer",
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "permit": {"status": 1},
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
            },
        }
    ],
}
ADD_LEAD_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-lead",
            "data": {
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "permit": {"status": 1},
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "contactId": "1234567897",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyLead": "GOOGLE",
            },
        }
    ],
}
UPDATE_LEAD_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "update-lead",
            "data": {
                "type": 0,
                "name": "Huy",
                "lastname": "Nguyen Viet",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên của AntBuddy",
                "dateOfBirth": "Fri Jan 02 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "permit": {"status": 2},
                "contactId": "1234567897",
                "customerId": "LID-123",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyLead": "GOOGLE",
            },
        }
    ],
}
UPDATE_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "update-contact",
            "data": {
                "name": "Huy",
                "lastname": "Nguyen Viet",
                "title": "This is title",
                "passport": "1945295865",
                "gender": 1,
                "bgInfo": "Thành viên AntBuddy",
                "dateOfBirth": "Fri Jan 02 1993 00:00:00 GMT+0700 (ICT)",
                "emails": [{"value": "huy.nguyen@htklabs.com"}],
                "phones": [{"value": "01234567890"}],
                "addresses": [
                    {
                        "street": "58 Ton That Dam",
                        "city": "Da Nang",
                        "state": "Thanh Khe",
                        "zip": "5100000",
                        "country": "VN",
                    }
                ],
                "websites": [{"value": "htk-inc.com"}],
                "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
                "tag": "webhook",
                "permit": {"status": 3, "group": "Nhom test"},
                "customerId": "PID-678",
                "cusFields": [{"name": "Referred By", "value": "Cong Nguyen"}],
                "companyContact": {
                    "customerId": "CID-123",
                    "emails": [{"value": "dong.nguyen@htklabs.com"}],
                    "phones": [{"value": "01234567833"}],
                    "addresses": [
                        {
                            "street": "58 Ton That Dam",
                            "city": "Da Nang",
                            "state": "Thanh Khe",
                            "zip": "5100000",
                            "country": "VN",
                        }
                    ],
                    "websites": [{"value": "htk-inc.com"}],
                    "name": "GOOGLE",
                },
            },
        }
    ],
}
ADD_NOTE_CONTACT_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-note",
            "data": {
                "body": "This is body of Note",
                "email": "huy.nguyen@htklabs.com",
                "phone": "0123456789",
                "passport": "0123469988",
                "customerId": "LID-345",
                "contactType": "lead",
                "model": "contact",
                "tag": "webhook",
                "permit": {
                    "status": 4,
                    "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"],
                },
            },
        }
    ],
}
ADD_NOTE_DEAL_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-note",
            "data": {
                "body": "This is body of Note",
                "name": "Booking-ID1135",
                "dealId": "11358",
                "model": "deal",
            },
        }
    ],
}
ADD_DEAL_SAMPLE = {
    "senderUser": "viethuy110@gmail.com",
    "data": [
        {
            "actionType": "add-deal",
            "data": {
                "dealId": "1234567890",
                "name": "Booking-ID #0003",
                "value": 50000,
                "currency": "VND",
                "description": "This is desciption",
                "stage": "",
                "closeDate": 1482470382793,
                "category": "UI Design",
                "package": "Goi A",
                "owner_opportunity": {
                    "users": ["nhanvien1@beeiq.co", "nhanvien2@beeiq.co"],
                    "groups": ["Nhom 1", "Nhom 2"],
                },
                "dealWith": {
                    "type": 0,
                    "name": "Nguyen viet huy",
                    "lastname": "",
                    "title": "",
                    "customerId": "LID-123",
                    "contactType": "lead",
                    "passport": "",
                    "gender": "",
                    "dateOfBirth": "",
                    "emails": [{"value": "huy@gmail.com"}],
                    "phones": [{"value": "0987654321"}],
                    "addresses": [{"street": "street", "city": "city", "country": "country"}],
                    "websites": [],
                    "im": [],
                    "tag": "",
                },
                "contacts": [
                    {
                        "type": 0,
                        "name": "Quoc Phong",
                        "lastname": "",
                        "title": "",
                        "customerId": "LID-123",
                        "contactType": "lead",
                        "passport": "",
                        "gender": "",
                        "dateOfBirth": "",
                        "emails": [{"value": "phong@gmail.com"}],
                        "phones": [],
                        "addresses": [],
                        "websites": [],
                        "im": [],
                    }
                ],
                "permit": {
                    "status": 4,
                    "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"],
                },
                "cusFields": [{"name": "Booking source", "value": "web"}],
            },
        }
    ],
}
ADD_TICKET_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "add-ticket",
            "data": {
                "contactType": "lead",
                "title": "title",
                "body": "This is body of Ticket",
                "email": "huy.nguyen@htklabs.com",
                "phone": "0123456789",
                "passport": "0123469988",
                "contactId": "1234567897",
                "customerId": "LID-123",
                "groupName": "Phong Kinh Doanh",
                "slaName": "custom",
                "channel": "Contact Form",
                "tag": "webhook",
            },
        }
    ],
}
SEND_SMS_SAMPLE = {
    "senderUser": SENDER,
    "data": [
        {
            "actionType": "send-sms",
            "data": {"content": "This is content", "phones": ["0333456789", "098765431"]},
        }
    ],
}
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


# -- helpers ------------------------------------------------------------------------------
def customer(code, kind=None, org="o1", **fields):
    """A customer record for the state document."""
    return {"customerId": code, "org_id": org, **({"kind": kind} if kind else {}), **fields}


def load(sim, customers=(), deals=(), tickets=(), orgs=None, listeners=None, **listener):
    sim.freeze(NOW)
    return sim.put_state(
        {
            "orgs": orgs if orgs is not None else [ORG, OTHER_ORG],
            "listeners": listeners if listeners is not None else [{**LISTENER, **listener}],
            "customers": list(customers),
            "deals": list(deals),
            "tickets": list(tickets),
        },
        vendor="antcrm",
    )


@pytest.fixture
def ant(sim):
    load(sim)
    return sim


def send(client, *items, sender=SENDER, url=URL, **kwargs):
    """The listener request with ``items``; the raw response."""
    return client.post(url, json={"senderUser": sender, "data": list(items)}, **kwargs)


def send_ok(client, *items, sender=SENDER, url=URL, **kwargs):
    """The listener request with ``items``, answered 200 success; the response."""
    r = send(client, *items, sender=sender, url=url, **kwargs)
    expect(r, 200, OK)
    return r


def item(action, **data):
    return {"actionType": action, "data": data}


def state(sim):
    return sim.state("antcrm")


def customers(sim):
    return state(sim)["customers"]


def codes(sim):
    return [c["customerId"] for c in customers(sim)]


def find(sim, code, org="o1"):
    [found] = [c for c in customers(sim) if c["customerId"] == code and c["org_id"] == org]
    return found


def history(sim, code):
    return [h["type"] for h in find(sim, code)["history"]]


def deals(sim):
    return state(sim)["deals"]


def tickets(sim):
    return state(sim)["tickets"]


def outbox(sim, kind=None):
    entries = sim.outbox(vendor="antcrm", **({"kind": kind} if kind else {}))
    return [{k: v for k, v in e.items() if k not in ("id", "at", "vendor")} for e in entries]


def created_line(kind="created"):
    return {
        "type": kind,
        "listener_id": "L1",
        "senderUser": SENDER,
        "at": NOW,
        "text": {
            "created": "Created from webhook listener L1",
            "duplicate": "Duplicate data received from webhook listener L1; nothing was created",
            "updated": "Updated from webhook listener L1",
        }[kind],
    }


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
    assert codes(sim) == ["PID-1", "PID-2"]


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


@pytest.mark.parametrize(
    "data",
    [
        {"name": 5},
        {"name": ["Huy"]},
        {"name": "A", "emails": "a@x.co"},
        {"name": "A", "emails": [{"value": 5}]},
        {"name": "A", "emails": [5]},
        {"name": "A", "phones": [{"value": 905000001}]},
        {"name": "A", "phones": {"value": "1"}},
        {"name": "A", "gender": "1"},
        {"name": "A", "gender": 3},
        {"name": "A", "gender": True},
        {"name": "A", "type": True},
        {"name": "A", "type": {"value": 1}},
        {"name": "A", "passport": 123},
        {"name": "A", "tag": ["a", "b"]},
        {"name": "A", "permit": "everybody"},
        {"name": "A", "permit": {"status": 9}},
        {"name": "A", "permit": {"status": 1, "users": [1]}},
        {"name": "A", "cusFields": [{"name": "a", "value": {"deep": [1]}}]},
        {"name": "A", "cusFields": {"name": "a"}},
        {"name": "A", "addresses": ["58 Ton That Dam"]},
        {"name": "A", "addresses": [{"country": 84}]},
        {"name": "A", "im": ["skype"]},
        {"name": "A", "websites": 5},
        {"name": "A", "companyContact": "ACME"},
        {"name": "A", "companyContact": {"name": "ACME", "emails": [{"value": []}, 5]}},
        {"name": "A", "contactType": 1},
        {"name": "A", "dateOfBirth": 725846400000},
    ],
)
def test_add_contact_wrong_types_anywhere_drop_the_item_only(client, ant, data):
    send_ok(client, item("add-contact", **data), item("add-contact", name="Next"))
    assert codes(ant) == ["PID-1"]
    assert find(ant, "PID-1")["name"] == "Next"
    assert outbox(ant) == []


def test_add_contact_numbers_out_of_json_range_are_invalid_json(client, ant):
    """A number beyond a double (``1e999``) cannot be kept: the body is refused as a whole."""
    doc = {"senderUser": SENDER, "data": [item("add-contact", name="A", cusFields="HUGE")]}
    body = json.dumps(doc).replace('"HUGE"', '[{"name": "n", "value": 1e999}]')
    r = client.post(URL, data=body, content_type="application/json")
    expect(r, 400, INVALID_JSON)
    assert customers(ant) == []
    assert client.get("/__sim/state").status_code == 200


# == add-contact (AC-ADD-1 to AC-ADD-3, AC-DUP-1, AC-DUP-2, AC-COMP-1) =====================
def test_add_contact_sample_creates_the_contact_exactly(client, ant):
    post_sample = copy.deepcopy(ADD_CONTACT_SAMPLE)
    r = client.post(URL, json=post_sample)
    expect(r, 200, OK)
    assert customers(ant) == [
        {
            "customerId": "PID-1",
            "org_id": "o1",
            "kind": "contact",
            "name": "Huy",
            "lastname": "Nguyen",
            "title": "This is title",
            "passport": "1945295865",
            "gender": 1,
            "bgInfo": "Thành viên AntBuddy",
            "dateOfBirth": "Fri Jan 01 1993 00:00:00 GMT+0700 (ICT)",
            "emails": [{"type": None, "value": "huy.nguyen@htklabs.com"}],
            "phones": [{"type": None, "value": "01234567890"}],
            "addresses": [
                {
                    "street": "58 Ton That Dam",
                    "city": "Da Nang",
                    "state": "Thanh Khe",
                    "zip": "5100000",
                    "country": "VN",
                }
            ],
            "websites": [{"value": "htk-inc.com"}],
            "im": [{"protocol": "Facebook", "value": "Huy Nguyen Viet"}],
            "tags": ["from-webhook"],
            "cusFields": [],
            "permit": {"status": 1},
            "source": "Website",
            "contactId": None,
            "companyId": None,
            "companyLead": None,
            "history": [created_line()],
            "notes": [],
            "created_by": SENDER,
        }
    ]
    assert outbox(ant) == []


def test_add_contact_contact_type_in_payload_is_ignored_A_A17(client, ant):
    send_ok(client, item("add-contact", name="A", contactType="lead"))
    assert find(ant, "PID-1")["kind"] == "contact"


def test_add_contact_requires_name(client, ant):
    send_ok(
        client,
        item("add-contact", emails=["a@x.co"]),
        item("add-contact", name="", emails=["b@x.co"]),
        item("add-contact", name="   ", emails=["c@x.co"]),
        item("add-contact", name=None),
    )
    assert customers(ant) == []


def test_add_contact_gender_defaults_to_2_and_type_0_is_a_contact(client, ant):
    send_ok(client, item("add-contact", name="A"), item("add-contact", name="B", type=0, gender=0))
    assert [(c["kind"], c["gender"]) for c in customers(ant)] == [("contact", 2), ("contact", 0)]


def test_add_contact_type_1_creates_an_account_with_a_cid_code(client, ant):
    send_ok(
        client,
        item("add-contact", name="ACME", type=1, companyContact={"name": "Parent"}),
        item("add-contact", name="Huy"),
    )
    assert [(c["customerId"], c["kind"], c["companyId"]) for c in customers(ant)] == [
        ("CID-1", "account", None),
        ("PID-1", "contact", None),
    ]


def test_add_contact_codes_are_max_plus_one_per_prefix_and_org_2_2(client, sim):
    load(
        sim,
        customers=[
            customer("PID-7"),
            customer("PID-3"),
            customer("CID-12"),
            customer("LID-40"),
            customer("PID-99", org="o2"),
        ],
    )
    send_ok(
        client,
        item("add-contact", name="A"),
        item("add-contact", name="B", type=1),
        item("add-lead", name="C"),
        item("add-contact", name="D"),
    )
    assert codes(sim)[5:] == ["PID-8", "CID-13", "LID-41", "PID-9"]


DUP_STATE = [
    customer("PID-1", name="By contactId", contactId="EXT-1"),
    customer("PID-2", name="By passport", passport="P-2"),
    customer("CID-3", name="By email (an account)", emails=[{"type": "Work", "value": "E3@x.co"}]),
    customer("PID-4", name="By phone", phones=[{"type": "Home", "value": "+84 (905) 000-004"}]),
    customer("PID-5", name="By second email", emails=[{"type": None, "value": "e5@x.co"}]),
]


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"contactId": "EXT-1", "passport": "P-2", "emails": ["e3@x.co"]}, "PID-1"),
        ({"contactId": "nope", "passport": "P-2", "emails": ["e3@x.co"]}, "PID-2"),
        ({"passport": "nope", "emails": ["e3@x.co"], "phones": ["84905000004"]}, "CID-3"),
        ({"emails": ["none@x.co", "e5@x.co", "e3@x.co"]}, "PID-5"),
        ({"emails": ["none@x.co"], "phones": ["0000", "84-905-000-004"]}, "PID-4"),
        ({"contactId": " EXT-1 "}, "PID-1"),
        ({"emails": [{"value": "  E3@X.CO "}]}, "CID-3"),
    ],
)
def test_add_contact_duplicate_check_order_A_A5(client, sim, payload, target):
    load(sim, customers=DUP_STATE)
    before = {c["customerId"]: c for c in customers(sim)}
    send_ok(client, item("add-contact", name="Dup", type=1, tag="x", **payload))
    after = {c["customerId"]: c for c in customers(sim)}
    assert list(after) == list(before)
    for code, record in after.items():
        if code == target:
            assert record["history"] == [created_line("duplicate")]
            assert {**record, "history": []} == {**before[code], "history": []}
        else:
            assert record == before[code]


@pytest.mark.parametrize(
    "payload",
    [
        {"contactId": "ext-1"},
        {"passport": "p-2"},
        {"emails": ["e3@x.com"]},
        {"phones": ["905000004"]},
        {"name": "By contactId"},
    ],
)
def test_add_contact_no_duplicate_creates_normalisation_2_2(client, sim, payload):
    load(sim, customers=DUP_STATE)
    send_ok(client, item("add-contact", **{"name": "New", **payload}))
    assert codes(sim)[-1] == "PID-6"


def test_add_contact_duplicate_changes_nothing_else(client, sim):
    load(
        sim,
        customers=[customer("PID-1", name="Old", emails=[{"type": None, "value": "a@x.co"}])],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
        auto_sms={"enabled": True, "content": "Hello"},
    )
    sim.client.put("/__sim/state/antcrm", json=state(sim))
    send_ok(
        client,
        item(
            "add-contact",
            name="New name",
            lastname="L",
            emails=["a@x.co"],
            phones=["0905"],
            tag="t1",
            companyContact={"name": "ACME"},
        ),
    )
    [c] = customers(sim)
    assert (c["name"], c["lastname"], c["tags"], c["source"], c["companyId"]) == (
        "Old",
        None,
        [],
        None,
        None,
    )
    assert [h["type"] for h in c["history"]] == ["duplicate"]
    assert outbox(sim) == []


def test_add_contact_dedup_ignores_leads_A_A10(client, sim):
    load(
        sim, customers=[customer("LID-1", name="Lead", emails=[{"type": None, "value": "a@x.co"}])]
    )
    send_ok(client, item("add-contact", name="Contact", emails=["a@x.co"]))
    assert codes(sim) == ["LID-1", "PID-1"]
    assert history(sim, "LID-1") == []


def test_add_contact_oldest_record_wins_A_A19(client, sim):
    email = [{"type": None, "value": "same@x.co"}]
    load(sim, customers=[customer("PID-5", emails=email), customer("PID-2", emails=email)])
    send_ok(client, item("add-contact", name="X", emails=["SAME@x.co"]))
    assert history(sim, "PID-2") == ["duplicate"]
    assert history(sim, "PID-5") == []


def test_add_contact_tags_from_payload_replace_the_default(client, ant):
    send_ok(
        client,
        item("add-contact", name="A", tag=" vip, ,news ,vip"),
        item("add-contact", name="B", tag=""),
        item("add-contact", name="C", tag=" , "),
    )
    assert [c["tags"] for c in customers(ant)] == [
        ["vip", "news"],
        ["from-webhook"],
        ["from-webhook"],
    ]


def test_add_contact_no_default_tag_configured_gives_no_tags(client, sim):
    load(sim, default_tag=None)
    send_ok(client, item("add-contact", name="A"))
    assert find(sim, "PID-1")["tags"] == []


def test_add_contact_source_comes_from_the_listener_only(client, sim):
    load(sim, contact_source=None)
    send_ok(client, item("add-contact", name="A", source="Payload", channel="Kite Chat"))
    assert find(sim, "PID-1")["source"] is None


def test_add_contact_field_formats_2_4(client, ant):
    send_ok(
        client,
        item(
            "add-contact",
            name="  Huy  ",
            emails=["bare@x.co", {"type": "Work", "value": "w@x.co"}, {"value": ""}, None],
            phones=[{"type": "Pager", "value": "+84 905"}],
            addresses=[
                {"type": "Home", "country": {"code": "VN", "name": "Viet Nam"}},
                {},
                {"street": "", "country": ""},
            ],
            websites="htk-inc.com",
            im=[{"protocol": "Zalo", "value": "huy"}, {"protocol": "Skype", "value": ""}],
            cusFields=[
                {"name": "What animal do you like?", "value": "Dog|Cat"},
                {"name": "Enrolled", "value": "2019-07-08T00:00:00+07:00"},
                {"name": "Count", "value": 3},
                {"name": "", "value": "nameless"},
            ],
            permit={"status": 4, "users": [" ops.team@example.com"], "group": ""},
        ),
    )
    c = find(ant, "PID-1")
    assert c["name"] == "Huy"
    assert c["emails"] == [
        {"type": None, "value": "bare@x.co"},
        {"type": "Work", "value": "w@x.co"},
    ]
    assert c["phones"] == [{"type": "Pager", "value": "+84 905"}]
    assert c["addresses"] == [{"type": "Home", "country": {"code": "VN", "name": "Viet Nam"}}]
    assert c["websites"] == [{"value": "htk-inc.com"}]
    assert c["im"] == [{"protocol": "Zalo", "value": "huy"}]
    assert c["cusFields"] == [
        {"name": "What animal do you like?", "value": "Dog|Cat"},
        {"name": "Enrolled", "value": "2019-07-08T00:00:00+07:00"},
        {"name": "Count", "value": 3},
    ]
    assert c["permit"] == {"status": 4, "users": ["Ops.Team@Example.com"]}  # AC-CONF-1


# -- companyContact ---------------------------------------------------------------------------
COMPANIES = [
    customer("CID-1", name="Google", emails=[{"type": None, "value": "g@google.com"}]),
    customer("CID-2", name="Other", phones=[{"type": None, "value": "028 1234"}]),
    customer("PID-1", name="Not a company", emails=[{"type": None, "value": "c@x.co"}]),
]


@pytest.mark.parametrize(
    ("company", "linked"),
    [
        ({"name": "  GOOGLE "}, "CID-1"),
        ({"name": "Nope", "emails": [{"value": "G@google.com"}]}, "CID-1"),
        (
            {"name": "Nope", "emails": [{"value": "x@y.co"}], "phones": [{"value": "0281234"}]},
            "CID-2",
        ),
        ({"name": "Other", "emails": [{"value": "g@google.com"}]}, "CID-2"),
        ({"customerId": "CID-2", "name": "Google"}, "CID-1"),
    ],
)
def test_add_contact_company_contact_finds_an_account_name_emails_phones(
    client, sim, company, linked
):
    load(sim, customers=COMPANIES)
    send_ok(client, item("add-contact", name="Huy", companyContact=company))
    assert codes(sim) == ["CID-1", "CID-2", "PID-1", "PID-2"]
    assert find(sim, "PID-2")["companyId"] == linked
    assert history(sim, linked) == []


def test_add_contact_company_contact_creates_the_account_when_missing(client, sim):
    load(
        sim,
        customers=COMPANIES,
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
    )
    send_ok(
        client,
        item(
            "add-contact",
            name="Huy",
            companyContact={
                "name": "Beeiq",
                "emails": [{"value": "c@x.co"}],
                "phones": [{"value": "0906613999"}],
                "websites": [{"value": "beeiq.co"}],
                "addresses": [{"city": "Da Nang"}],
                "im": [{"protocol": "Skype", "value": "beeiq"}],
            },
        ),
    )
    assert codes(sim) == ["CID-1", "CID-2", "PID-1", "CID-3", "PID-2"]
    company = find(sim, "CID-3")
    assert company["kind"] == "account"
    assert company["name"] == "Beeiq"
    assert company["emails"] == [{"type": None, "value": "c@x.co"}]
    assert company["phones"] == [{"type": None, "value": "0906613999"}]
    assert company["websites"] == [{"value": "beeiq.co"}]
    assert company["addresses"] == [{"city": "Da Nang"}]
    assert company["im"] == [{"protocol": "Skype", "value": "beeiq"}]
    assert company["source"] == "Website"
    assert company["tags"] == []
    assert company["history"] == [created_line()]
    assert find(sim, "PID-2")["companyId"] == "CID-3"
    assert find(sim, "PID-2")["tags"] == ["from-webhook"]
    assert [e["customerId"] for e in outbox(sim, "email")] == []


def test_add_contact_company_without_name_and_no_match_stays_unlinked(client, sim):
    load(sim, customers=COMPANIES)
    send_ok(
        client, item("add-contact", name="Huy", companyContact={"emails": [{"value": "n@x.co"}]})
    )
    assert codes(sim)[-1] == "PID-2"
    assert find(sim, "PID-2")["companyId"] is None


def test_add_contact_companies_created_in_one_request_are_reused(client, ant):
    send_ok(
        client,
        item("add-contact", name="A", companyContact={"name": "ACME"}),
        item("add-contact", name="B", companyContact={"name": "acme"}),
    )
    assert [(c["customerId"], c["companyId"]) for c in customers(ant)] == [
        ("CID-1", None),
        ("PID-1", "CID-1"),
        ("PID-2", "CID-1"),
    ]


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


# == add-note ================================================================================
NOTE_STATE = [
    customer("PID-1", passport="P-1", emails=[{"type": None, "value": "one@x.co"}]),
    customer("PID-2", passport="P-2", phones=[{"type": None, "value": "0905-2"}]),
    customer("LID-345", emails=[{"type": None, "value": "huy.nguyen@htklabs.com"}]),
    customer("CID-1", emails=[{"type": None, "value": "acme@x.co"}]),
]


def note(body, tag=None, channel=None, permit=None):
    return {
        "body": body,
        "tag": tag,
        "channel": channel,
        "permit": permit,
        "created_by": SENDER,
        "at": NOW,
    }


def test_add_note_contact_sample_lands_on_the_lead(client, sim):
    load(sim, customers=NOTE_STATE, orgs=[SAMPLE_ORG])
    r = client.post(URL, json=ADD_NOTE_CONTACT_SAMPLE)
    expect(r, 200, OK)
    assert find(sim, "LID-345")["notes"] == [
        note(
            "This is body of Note",
            tag="webhook",
            permit={"status": 4, "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]},
        )
    ]
    assert [c["notes"] for c in customers(sim) if c["customerId"] != "LID-345"] == [[], [], []]


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"customerId": "PID-2", "passport": "P-1", "email": "one@x.co"}, "PID-2"),
        ({"customerId": "CID-1", "contactType": "customer"}, "CID-1"),
        ({"passport": "P-2", "email": "one@x.co"}, "PID-2"),
        ({"email": "ONE@x.co", "phone": "09052"}, "PID-1"),
        ({"emails": [{"value": "acme@x.co"}], "phone": "09052"}, "CID-1"),
        ({"phone": "0905 2"}, "PID-2"),
        ({"phones": ["+0905-2"]}, "PID-2"),
        ({"customerId": "LID-345", "contactType": "lead"}, "LID-345"),
        ({"email": "huy.nguyen@htklabs.com", "contactType": "lead"}, "LID-345"),
    ],
)
def test_add_note_contact_priority_first_key_only(client, sim, payload, target):
    load(sim, customers=NOTE_STATE)
    send_ok(client, item("add-note", body="B", **payload))
    assert [c["customerId"] for c in customers(sim) if c["notes"]] == [target]
    assert find(sim, target)["notes"] == [note("B")]


@pytest.mark.parametrize(
    "payload",
    [
        {"customerId": "PID-9", "passport": "P-1"},
        {"passport": "nope", "email": "one@x.co"},
        {"email": "none@x.co", "phone": "09052"},
        {"customerId": "LID-345"},
        {"customerId": "PID-1", "contactType": "lead"},
        {"email": "huy.nguyen@htklabs.com"},
        {"contactId": "PID-9"},
        {"contactId": "PID-1", "contactType": "lead"},
        {"name": "PID-1"},
        {},
        {"customerId": "PID-1", "model": "ticket"},
        {"customerId": "PID-1", "contactType": "account"},
        {"customerId": "PID-1", "body": ""},
        {"customerId": "PID-1", "body": None},
        {"customerId": "PID-1", "body": 5},
        {"customerId": "PID-1", "permit": "all"},
    ],
)
def test_add_note_without_a_target_adds_nothing(client, sim, payload):
    load(sim, customers=NOTE_STATE)
    send_ok(client, item("add-note", **{"body": "B", **payload}))
    assert [c for c in customers(sim) if c["notes"]] == []


DEAL_STATE = [
    {"dealId": "11358", "org_id": "o1", "name": "Booking-ID1135"},
    {"dealId": "7", "org_id": "o1", "name": "Other"},
    {"dealId": "3", "org_id": "o1", "name": "booking-id1135"},
]


@pytest.mark.parametrize(
    ("payload", "target"),
    [
        ({"dealId": "11358", "name": "Other"}, "11358"),
        ({"dealId": 7, "name": "Booking-ID1135"}, "7"),
        ({"name": " BOOKING-id1135 "}, "3"),
        ({"dealId": "", "name": "Other"}, "7"),
    ],
)
def test_add_note_deal_priority_deal_id_then_name(client, sim, payload, target):
    load(sim, deals=DEAL_STATE)
    send_ok(
        client, item("add-note", body="Deal note", model="deal", channel="Kite Chat", **payload)
    )
    assert [(d["dealId"], d["notes"]) for d in deals(sim) if d["notes"]] == [
        (target, [note("Deal note", channel="Kite Chat")])
    ]


def test_add_note_deal_sample(client, sim):
    load(sim, deals=DEAL_STATE)
    r = client.post(URL, json=ADD_NOTE_DEAL_SAMPLE)
    expect(r, 200, OK)
    assert [d["dealId"] for d in deals(sim) if d["notes"]] == ["11358"]


@pytest.mark.parametrize(
    "payload", [{"dealId": "99", "name": "Other"}, {"name": "nope"}, {"customerId": "PID-1"}, {}]
)
def test_add_note_deal_without_a_match_adds_nothing(client, sim, payload):
    load(sim, deals=DEAL_STATE, customers=NOTE_STATE)
    send_ok(client, item("add-note", body="B", model="deal", **payload))
    assert [d for d in deals(sim) if d["notes"]] == []
    assert [c for c in customers(sim) if c["notes"]] == []


# == add-deal ================================================================================
def test_add_deal_sample_with_empty_stage_is_ignored_A_A11(client, sim):
    load(sim, orgs=[{**ORG, "users": ["viethuy110@gmail.com"]}])
    r = client.post(URL, json=ADD_DEAL_SAMPLE)
    expect(r, 200, OK)
    assert deals(sim) == []
    assert customers(sim) == []


def test_add_deal_sample_with_a_stage_creates_deal_and_customers(client, sim):
    load(
        sim,
        orgs=[SAMPLE_ORG],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
    )
    sample = copy.deepcopy(ADD_DEAL_SAMPLE)
    sample["data"][0]["data"]["stage"] = "won"
    r = client.post(URL, json=sample)
    expect(r, 200, OK)
    assert deals(sim) == [
        {
            "dealId": "1",
            "org_id": "o1",
            "name": "Booking-ID #0003",
            "value": 50000,
            "currency": "VND",
            "description": "This is desciption",
            "stage": "Won",
            "closeDate": 1482470382793,
            "category": "UI Design",
            "package": "Goi A",
            "owner_opportunity": {
                "users": ["nhanvien1@beeiq.co", "nhanvien2@beeiq.co"],
                "groups": ["Nhom 1", "Nhom 2"],
            },
            "customer": "LID-1",
            "contacts": ["LID-2"],
            "permit": {"status": 4, "users": ["huy.nguyen@htklabs.com", "luyt.ngo@htklabs.com"]},
            "cusFields": [{"name": "Booking source", "value": "web"}],
            "notes": [],
        }
    ]
    leads = customers(sim)
    assert [(c["customerId"], c["name"], c["source"], c["tags"]) for c in leads] == [
        ("LID-1", "Nguyen viet huy", "Facebook Ads", ["from-webhook"]),
        ("LID-2", "Quoc Phong", "Facebook Ads", ["from-webhook"]),
    ]
    assert leads[0]["addresses"] == [{"street": "street", "city": "city", "country": "country"}]
    assert [h["senderUser"] for c in leads for h in c["history"]] == ["viethuy110@gmail.com"] * 2
    assert [(e["to"], e["customerId"]) for e in outbox(sim, "email")] == [
        ("huy@gmail.com", "LID-1"),
        ("phong@gmail.com", "LID-2"),
    ]


def deal_item(**data):
    return item("add-deal", **{"name": "D", "stage": "New", "dealWith": {"name": "C"}, **data})


@pytest.mark.parametrize(
    "data",
    [
        {"stage": None},
        {"stage": ""},
        {"stage": "Lost"},
        {"dealWith": None},
        {"dealWith": {}},
        {"dealWith": {"emails": ["nobody@x.co"], "customerId": "PID-9"}},
        {"dealWith": {"name": "C"}, "name": ""},
        {"dealWith": "PID-1"},
        {"contacts": {"name": "X"}},
        {"contacts": [{"name": "X", "gender": 7}]},
        {"value": {"amount": 1}},
        {"closeDate": "2024-01-01"},
        {"owner_opportunity": {"users": "a@x.co"}},
        {"dealId": 1.5},
        {"dealId": True},
    ],
)
def test_add_deal_create_requirements_A_A11(client, ant, data):
    send_ok(
        client,
        deal_item(contacts=[{"name": "Side"}], **data)
        if "contacts" not in data
        else deal_item(**data),
    )
    assert deals(ant) == []
    assert customers(ant) == []


def test_add_deal_dealwith_needs_no_single_key_A_A12(client, ant):
    send_ok(client, deal_item(dealWith={"name": "Only a name"}))
    assert [d["customer"] for d in deals(ant)] == ["PID-1"]
    assert find(ant, "PID-1")["name"] == "Only a name"


def test_add_deal_upsert_by_deal_id_only_when_given(client, sim):
    load(sim, customers=[customer("PID-1", name="C")], deals=DEAL_STATE)
    send_ok(
        client,
        deal_item(dealId="7", name="Renamed", dealWith={"customerId": "PID-1"}),
        deal_item(dealId="999", name="Booking-ID1135", dealWith={"customerId": "PID-1"}),
    )
    assert [(d["dealId"], d["name"]) for d in deals(sim)] == [
        ("11358", "Booking-ID1135"),
        ("7", "Renamed"),
        ("3", "booking-id1135"),
        ("11359", "Booking-ID1135"),
    ]


def test_add_deal_upsert_by_name_oldest_wins(client, sim):
    load(sim, customers=[customer("PID-1", name="C")], deals=DEAL_STATE)
    send_ok(client, item("add-deal", name=" BOOKING-ID1135", description="matched"))
    send_ok(
        client, item("add-deal", name="Brand new", stage="New", dealWith={"customerId": "PID-1"})
    )
    assert [(d["dealId"], d["name"], d["description"]) for d in deals(sim)] == [
        ("11358", "Booking-ID1135", None),
        ("7", "Other", None),
        ("3", "BOOKING-ID1135", "matched"),
        ("11359", "Brand new", None),
    ]


def test_add_deal_update_rules(client, sim):
    load(
        sim,
        customers=[customer("PID-1", name="C"), customer("PID-2", name="D")],
        deals=[
            {
                "dealId": "5",
                "org_id": "o1",
                "name": "Deal",
                "stage": "New",
                "currency": "VND",
                "customer": "PID-1",
                "contacts": ["PID-1"],
                "value": 1,
                "cusFields": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
            }
        ],
    )
    send_ok(
        client,
        item(
            "add-deal",
            dealId="5",
            name="Deal",
            stage="Lost",
            currency="USD",
            category="Nope",
            value="2,000",
            closeDate=1.5e12,
            dealWith={"emails": ["nobody@x.co"]},
            contacts=[{"customerId": "PID-2"}, {"customerId": "PID-9"}, {"customerId": "PID-2"}],
            cusFields=[{"name": "b", "value": "3"}],
        ),
    )
    [d] = deals(sim)
    assert (d["stage"], d["currency"], d["category"], d["value"], d["closeDate"]) == (
        "New",
        "VND",
        None,
        "2,000",
        1.5e12,
    )
    assert (d["customer"], d["contacts"]) == ("PID-1", ["PID-2"])
    assert d["cusFields"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "3"}]
    send_ok(
        client, item("add-deal", dealId=5, name="Deal", stage="WON", dealWith={"name": "New C"})
    )
    [d] = deals(sim)
    assert (d["stage"], d["customer"]) == ("Won", "PID-3")


def test_add_deal_unconfigured_catalogue_values_are_left_empty(client, ant):
    send_ok(client, deal_item(currency="USD", category="X", package="Y"))
    [d] = deals(ant)
    assert (d["currency"], d["category"], d["package"]) == (None, None, None)


@pytest.mark.parametrize(
    ("deal_with", "customer_code"),
    [
        ({"customerId": "PID-2", "passport": "P-1"}, "PID-2"),
        ({"customerId": "PID-9", "passport": "P-1"}, "PID-1"),
        ({"passport": "nope", "emails": ["x@x.co", "TWO@x.co"]}, "PID-2"),
        ({"phones": ["0", "+84 906"]}, "CID-1"),
        ({"customerId": "LID-1"}, None),
        ({"customerId": "LID-1", "contactType": "lead"}, "LID-1"),
        ({"emails": ["two@x.co"], "contactType": "lead"}, "LID-1"),
        ({"phones": ["84906"], "contactType": "lead"}, None),
    ],
)
def test_add_deal_dealwith_find_falls_through_in_its_pool(client, sim, deal_with, customer_code):
    load(
        sim,
        customers=[
            customer("PID-1", passport="P-1"),
            customer("PID-2", emails=[{"type": None, "value": "two@x.co"}]),
            customer("CID-1", phones=[{"type": None, "value": "84906"}]),
            customer("LID-1", emails=[{"type": None, "value": "two@x.co"}]),
        ],
    )
    send_ok(client, deal_item(dealWith=deal_with))
    assert [d["customer"] for d in deals(sim)] == ([customer_code] if customer_code else [])
    assert len(customers(sim)) == 4


def test_add_deal_dealwith_and_contacts_are_created_like_add_contact(client, sim):
    load(
        sim,
        orgs=[{**ORG, "trial_sms_remaining": 5}],
        auto_email={"enabled": True, "subject": "Hi", "body": "Welcome"},
        auto_sms={"enabled": True, "content": "Hello"},
    )
    send_ok(
        client,
        deal_item(
            dealWith={"name": "Acc", "type": 1, "tag": "t", "phones": ["0905"]},
            contacts=[
                {"name": "P", "emails": ["p@x.co"], "companyContact": {"name": "Acc"}},
                {"emails": ["unknown@x.co"]},
                {"name": "L", "contactType": "lead", "emails": ["p@x.co"]},
                {"name": "P again", "emails": ["P@x.co"]},
            ],
        ),
    )
    assert [(c["customerId"], c["tags"], c["source"], c["companyId"]) for c in customers(sim)] == [
        ("CID-1", ["t"], "Website", None),
        ("PID-1", ["from-webhook"], "Website", "CID-1"),
        ("LID-1", ["from-webhook"], "Facebook Ads", None),
    ]
    [d] = deals(sim)
    assert (d["customer"], d["contacts"]) == ("CID-1", ["PID-1", "LID-1"])
    assert [(e["kind"], e["to"], e["customerId"]) for e in outbox(sim)] == [
        ("sms", "0905", "CID-1"),
        ("email", "p@x.co", "PID-1"),
        ("email", "p@x.co", "LID-1"),
    ]
    assert all(history(sim, c) == ["created"] for c in ("CID-1", "PID-1", "LID-1"))


def test_add_deal_ids_are_max_plus_one_per_org(client, sim):
    load(
        sim,
        deals=[
            {"dealId": "41", "org_id": "o1", "name": "A"},
            {"dealId": "9", "org_id": "o1", "name": "B"},
            {"dealId": "500", "org_id": "o2", "name": "C"},
        ],
    )
    send_ok(
        client, deal_item(name="New 1"), deal_item(name="New 2", dealWith={"customerId": "PID-1"})
    )
    assert [d["dealId"] for d in deals(sim)] == ["41", "9", "500", "42", "43"]
    assert [d["customer"] for d in deals(sim)][3:] == ["PID-1", "PID-1"]


# == add-ticket ==============================================================================
def test_add_ticket_sample_links_the_lead(client, sim):
    load(
        sim,
        customers=[customer("LID-123"), customer("PID-1", contactId="1234567897")],
        orgs=[{**SAMPLE_ORG, "slas": ["Custom"]}],
    )
    r = client.post(URL, json=ADD_TICKET_SAMPLE)
    expect(r, 200, OK)
    assert tickets(sim) == [
        {
            "ticketId": "1",
            "org_id": "o1",
            "contactType": "lead",
            "title": "title",
            "body": "This is body of Ticket",
            "customer": "LID-123",
            "dealId": None,
            "tag": "webhook",
            "groupName": "Phong Kinh Doanh",
            "slaName": "Custom",
            "channel": "Contact Form",
            "cusFields": [],
        }
    ]


TICKET_STATE = [
    customer("PID-1", contactId="C-1", passport="P-1", emails=[{"type": None, "value": "a@x.co"}]),
    customer("PID-2", contactId="C-2", passport="P-2", phones=[{"type": None, "value": "0905"}]),
    customer("LID-1", contactId="C-1", emails=[{"type": None, "value": "a@x.co"}]),
]


@pytest.mark.parametrize(
    ("payload", "linked"),
    [
        ({"customerId": "PID-2", "contactId": "C-1"}, "PID-2"),
        ({"contactId": "C-2", "passport": "P-1"}, "PID-2"),
        ({"passport": "P-2", "email": "a@x.co"}, "PID-2"),
        ({"email": "A@x.co", "phone": "0905"}, "PID-1"),
        ({"phone": "09-05"}, "PID-2"),
        ({"customerId": "PID-9", "contactId": "C-1"}, None),
        ({"customerId": "LID-1"}, None),
        ({"customerId": "LID-1", "contactType": "lead"}, "LID-1"),
        ({"contactId": "C-1", "contactType": "lead"}, "LID-1"),
        ({"name": "PID-1"}, None),
        ({}, None),
    ],
)
def test_add_ticket_customer_link_first_key_only(client, sim, payload, linked):
    load(sim, customers=TICKET_STATE)
    send_ok(client, item("add-ticket", body="Help", **payload))
    [t] = tickets(sim)
    assert t["customer"] == linked
    assert t["contactType"] == payload.get("contactType", "customer")


def test_add_ticket_contact_type_is_optional_A_A13_and_deal_link(client, sim):
    load(sim, deals=DEAL_STATE, tickets=[{"ticketId": "8", "org_id": "o1", "body": "old"}])
    send_ok(
        client,
        item("add-ticket", body="One", dealId="7", channel="Carrier pigeon"),
        item("add-ticket", body="Two", dealId="404"),
    )
    assert [(t["ticketId"], t["contactType"], t["dealId"], t["channel"]) for t in tickets(sim)] == [
        ("8", "customer", None, None),
        ("9", "customer", "7", "Carrier pigeon"),
        ("10", "customer", None, None),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"body": ""},
        {"body": 5},
        {"body": "x", "contactType": "account"},
        {"body": "x", "cusFields": "a"},
    ],
)
def test_add_ticket_requires_a_body_and_valid_fields(client, ant, payload):
    send_ok(client, item("add-ticket", **payload))
    assert tickets(ant) == []


# == send-sms =================================================================================
def sms(to, content, origin="send-sms", customer_id=None):
    return {
        "kind": "sms",
        "to": to,
        "content": content,
        "customerId": customer_id,
        "origin": origin,
        "listener_id": "L1",
        "org_id": "o1",
    }


def test_send_sms_sample_with_an_sms_account(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}])
    r = client.post(URL, json=SEND_SMS_SAMPLE)
    expect(r, 200, OK)
    assert outbox(sim) == [
        sms("0333456789", "This is content"),
        sms("098765431", "This is content"),
    ]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0


def test_send_sms_uses_up_the_trial_counter(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 3}])
    send_ok(client, item("send-sms", content="A", phones=["1", "2"]))
    send_ok(client, item("send-sms", content="B", phones=["3", "4"]))
    send_ok(client, item("send-sms", content="C", phones=["5"]))
    assert outbox(sim) == [sms("1", "A"), sms("2", "A"), sms("3", "B")]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0


def test_send_sms_not_allowed_records_nothing(client, ant):
    send_ok(client, item("send-sms", content="A", phones=["1"]))
    assert outbox(ant) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"phones": ["1"]},
        {"content": "", "phones": ["1"]},
        {"content": "A"},
        {"content": "A", "phones": []},
        {"content": "A", "phones": [""]},
        {"content": "A", "phones": "0333456789"},
        {"content": "A", "phones": [333456789]},
        {"content": 5, "phones": ["1"]},
    ],
)
def test_send_sms_requires_content_and_phones(client, sim, payload):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}])
    send_ok(client, item("send-sms", **payload))
    assert outbox(sim) == []


# == automatic side effects (AC-AUTO-1 to AC-AUTO-3) =========================================
AUTO = {
    "auto_email": {"enabled": True, "subject": "Welcome", "body": "Hello from us"},
    "auto_sms": {"enabled": True, "content": "Hi!"},
}


def email(to, code):
    return {
        "kind": "email",
        "to": to,
        "subject": "Welcome",
        "body": "Hello from us",
        "customerId": code,
        "listener_id": "L1",
        "org_id": "o1",
    }


def test_auto_email_and_sms_go_to_the_first_address_A_A14(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}], **AUTO)
    send_ok(
        client,
        item("add-contact", name="A", emails=["first@x.co", "second@x.co"], phones=["01", "02"]),
        item("add-lead", name="L", emails=["lead@x.co"]),
        item("add-contact", name="Acc", type=1, phones=["03"]),
        item("add-contact", name="Nothing"),
    )
    assert outbox(sim) == [
        email("first@x.co", "PID-1"),
        sms("01", "Hi!", "auto", "PID-1"),
        email("lead@x.co", "LID-1"),
        sms("03", "Hi!", "auto", "CID-1"),
    ]


def test_auto_messages_never_for_duplicates_updates_or_auto_companies(client, sim):
    load(sim, orgs=[{**ORG, "sms_account_configured": True}], **AUTO)
    send_ok(
        client,
        item(
            "add-contact",
            name="A",
            emails=["a@x.co"],
            companyContact={"name": "Co", "emails": ["co@x.co"]},
        ),
    )
    assert [e["to"] for e in outbox(sim)] == ["a@x.co"]
    send_ok(
        client,
        item("add-contact", name="A", emails=["a@x.co"], phones=["09"]),
        item("update-contact", emails=["a@x.co"], phones=["09"]),
        item("add-lead", name="L", emails=["l@x.co"]),
        item("add-lead", name="L", emails=["l@x.co"]),
    )
    assert [e["to"] for e in outbox(sim)] == ["a@x.co", "l@x.co"]


@pytest.mark.parametrize(
    "config",
    [
        {"auto_email": {"enabled": False, "subject": "S", "body": "B"}},
        {"auto_email": {"enabled": True, "subject": "", "body": "B"}},
        {"auto_email": {"enabled": True, "subject": "S"}},
        {"auto_sms": {"enabled": False, "content": "C"}},
        {"auto_sms": {"enabled": True, "content": None}},
        {"auto_sms": {"enabled": True, "content": "C"}, "orgs": [ORG]},
    ],
)
def test_auto_messages_need_to_be_enabled_and_configured(client, sim, config):
    load(sim, **config)
    send_ok(client, item("add-contact", name="A", emails=["a@x.co"], phones=["09"]))
    assert outbox(sim) == []


def test_auto_sms_uses_the_trial_counter(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 1}], auto_sms={"enabled": True, "content": "C"})
    send_ok(
        client,
        item("add-contact", name="A", phones=["01"]),
        item("add-contact", name="B", phones=["02"]),
        item("send-sms", content="X", phones=["03"]),
    )
    assert outbox(sim) == [sms("01", "C", "auto", "PID-1")]
    assert state(sim)["orgs"][0]["trial_sms_remaining"] == 0


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


# == the state document =========================================================================
FULL_STATE = {
    "orgs": [
        {
            "org_id": "o1",
            "users": [SENDER],
            "groups": ["Nhom 1"],
            "sms_account_configured": False,
            "trial_sms_remaining": 4,
            "stages": ["New"],
            "categories": ["UI Design"],
            "packages": ["Goi A"],
            "currencies": ["VND"],
            "channels": ["Kite Chat"],
            "slas": ["Gold"],
        }
    ],
    "listeners": [
        {
            "listener_id": "L1",
            "org_id": "o1",
            "default_tag": "t",
            "contact_source": "Website",
            "lead_source": "Ads",
            "auto_email": {"enabled": True, "subject": "S", "body": "B"},
            "auto_sms": {"enabled": False, "content": None},
            "allowed_ips": ["127.0.0.1", "10.0.0.0/8"],
        }
    ],
    "customers": [
        {
            "customerId": "CID-1",
            "org_id": "o1",
            "kind": "account",
            "name": "ACME",
            "lastname": None,
            "title": None,
            "passport": None,
            "gender": 2,
            "bgInfo": None,
            "dateOfBirth": None,
            "emails": [],
            "phones": [{"type": "Work", "value": "028"}],
            "addresses": [{"city": "Hue", "country": {"code": "VN"}}],
            "websites": [{"value": "acme.vn"}],
            "im": [],
            "tags": [],
            "cusFields": [],
            "permit": None,
            "source": "Website",
            "contactId": None,
            "companyId": None,
            "companyLead": None,
            "history": [],
            "notes": [],
            "created_by": None,
        },
        {
            "customerId": "PID-4",
            "org_id": "o1",
            "kind": "contact",
            "name": "Huy",
            "lastname": "Nguyen",
            "title": "CTO",
            "passport": "P",
            "gender": 0,
            "bgInfo": "bg",
            "dateOfBirth": "1993",
            "emails": [{"type": None, "value": "h@x.co"}],
            "phones": [],
            "addresses": [],
            "websites": [],
            "im": [{"protocol": "Skype", "value": "huy"}],
            "tags": ["vip"],
            "cusFields": [{"name": "n", "value": 1.5}],
            "permit": {"status": 3, "group": "Nhom 1"},
            "source": "Website",
            "contactId": "EXT",
            "companyId": "CID-1",
            "companyLead": None,
            "history": [
                {
                    "type": "created",
                    "listener_id": "L1",
                    "senderUser": SENDER,
                    "at": "2024-01-01T00:00:00Z",
                    "text": "t",
                }
            ],
            "notes": [
                {
                    "body": "b",
                    "tag": None,
                    "channel": None,
                    "permit": None,
                    "created_by": SENDER,
                    "at": "2024-01-01T00:00:00Z",
                }
            ],
            "created_by": SENDER,
        },
    ],
    "deals": [
        {
            "dealId": "3",
            "org_id": "o1",
            "name": "D",
            "value": "1000",
            "currency": "VND",
            "description": None,
            "stage": "New",
            "closeDate": 1482470382793,
            "category": None,
            "package": None,
            "owner_opportunity": {"users": [SENDER], "groups": []},
            "customer": "PID-4",
            "contacts": ["CID-1"],
            "permit": None,
            "cusFields": [],
            "notes": [],
        }
    ],
    "tickets": [
        {
            "ticketId": "2",
            "org_id": "o1",
            "contactType": "customer",
            "title": "T",
            "body": "B",
            "customer": "PID-4",
            "dealId": "3",
            "tag": None,
            "groupName": None,
            "slaName": None,
            "channel": "Email",
            "cusFields": [],
        }
    ],
}


def test_state_round_trip_full_document(client, sim):
    assert sim.put_state(FULL_STATE, vendor="antcrm") == FULL_STATE
    assert state(sim) == FULL_STATE
    assert sim.put_state({"antcrm": FULL_STATE})["antcrm"] == FULL_STATE


def test_state_round_trip_fills_defaults_and_is_stable(client, sim):
    minimal = {
        "orgs": [{"org_id": "o1", "users": [SENDER]}],
        "listeners": [{"listener_id": "L1", "org_id": "o1"}],
        "customers": [
            {"customerId": "LID-2", "org_id": "o1", "history": [{"type": "created", "at": NOW}]}
        ],
        "deals": [{"dealId": "1", "org_id": "o1", "name": "D"}],
        "tickets": [{"ticketId": "1", "org_id": "o1", "body": "B"}],
    }
    filled = sim.put_state(minimal, vendor="antcrm")
    assert filled["orgs"][0] == {
        "org_id": "o1",
        "users": [SENDER],
        "groups": [],
        "sms_account_configured": False,
        "trial_sms_remaining": 0,
        "stages": [],
        "categories": [],
        "packages": [],
        "currencies": [],
        "channels": [],
        "slas": [],
    }
    assert filled["listeners"][0] == {
        "listener_id": "L1",
        "org_id": "o1",
        "default_tag": None,
        "contact_source": None,
        "lead_source": None,
        "auto_email": {"enabled": False, "subject": None, "body": None},
        "auto_sms": {"enabled": False, "content": None},
        "allowed_ips": [],
    }
    assert filled["customers"][0]["kind"] == "lead"
    assert filled["customers"][0]["gender"] == 2
    assert filled["customers"][0]["history"] == [
        {"type": "created", "listener_id": None, "senderUser": None, "at": NOW, "text": None}
    ]
    assert sim.put_state(filled, vendor="antcrm") == filled


def test_state_round_trip_after_traffic(client, sim):
    load(sim, orgs=[{**ORG, "trial_sms_remaining": 2}], **AUTO)
    send_ok(
        client,
        *[
            item(k, **v)
            for k, v in [
                ("add-contact", {"name": "A", "phones": ["1"], "companyContact": {"name": "Co"}})
            ]
        ],
    )
    send_ok(
        client,
        deal_item(contacts=[{"name": "B"}]),
        item("add-ticket", body="x", customerId="PID-1", dealId="1"),
    )
    send_ok(
        client,
        item("add-note", body="n", customerId="PID-1"),
        item("add-note", body="d", model="deal", dealId="1"),
    )
    dumped = state(sim)
    assert sim.put_state(dumped, vendor="antcrm") == dumped
    # counters are rebuilt from the loaded records
    send_ok(
        client, item("add-contact", name="Z"), deal_item(name="D2"), item("add-ticket", body="y")
    )
    assert codes(sim)[-2:] == ["PID-4", "PID-5"]
    assert [d["dealId"] for d in deals(sim)] == ["1", "2"]
    assert [t["ticketId"] for t in tickets(sim)] == ["1", "2"]


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"orgs": [{"org_id": "o1"}, {"org_id": "o1"}]}, "/orgs/1/org_id"),
        ({"listeners": [{"listener_id": "L", "org_id": "nope"}]}, "/listeners/0/org_id"),
        (
            {"orgs": [{"org_id": "o1"}], "listeners": [{"listener_id": "L", "org_id": "o1"}] * 2},
            "/listeners/1/listener_id",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "listeners": [{"listener_id": "L", "org_id": "o1", "allowed_ips": ["x"]}],
            },
            "/listeners/0/allowed_ips/0",
        ),
        ({"customers": [{"customerId": "PID-1", "org_id": "o9"}]}, "/customers/0/org_id"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1"}] * 2,
            },
            "/customers/1/customerId",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1", "companyId": "CID-1"}],
            },
            "/customers/0/companyId",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "customers": [{"customerId": "PID-1", "org_id": "o1", "kind": "lead"}],
            },
            "/customers/0/customerId",
        ),
        ({"customers": [{"customerId": "XID-1", "org_id": "o1"}]}, "/customers/0/customerId"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "deals": [{"dealId": "1", "org_id": "o1", "name": "D", "customer": "PID-1"}],
            },
            "/deals/0/customer",
        ),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "deals": [{"dealId": "1", "org_id": "o1", "name": "D"}] * 2,
            },
            "/deals/1/dealId",
        ),
        ({"deals": [{"dealId": "x1", "org_id": "o1", "name": "D"}]}, "/deals/0/dealId"),
        (
            {
                "orgs": [{"org_id": "o1"}],
                "tickets": [{"ticketId": "1", "org_id": "o1", "body": "b", "dealId": "4"}],
            },
            "/tickets/0/dealId",
        ),
        ({"orgs": [{"org_id": "o1", "trial_sms_remaining": -1}]}, "/orgs/0/trial_sms_remaining"),
        (
            {"customers": [{"customerId": "PID-1", "org_id": "o1", "emails": ["a@x.co"]}]},
            "/customers/0/emails/0",
        ),
    ],
)
def test_state_invalid_documents_are_400_with_pointers(client, sim, doc, pointer):
    r = client.put("/__sim/state/antcrm", json=doc)
    assert r.status_code == 400
    assert pointer in [e["pointer"] for e in r.get_json()["errors"]]
    assert state(sim)["orgs"] == []


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
