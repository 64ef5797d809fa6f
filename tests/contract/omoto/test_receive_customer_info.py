"""Omoto CRM API, POST receivecustomerinfo.htm: keys, bodies, invites in the outbox."""

import json

import pytest
from helpers import expect

from ._support import (
    CAMPAIGNS,
    CRM,
    KEYMISMATCH,
    NOW,
    PARSEERROR,
    SAMPLE_CUSTOMER,
    SUCCESS,
    crm,
    invites,
)

# The sample exactly as the page prints it: no comma after "mobileno".
SAMPLE_AS_PRINTED = (
    '[{"personalinfo": {"firstname": "bertram", "lastname": "wooster", '
    '"email": "bertie@jeeves.com", "mobileno": "9835132376" "transactionid": "202005201623", '
    '"regid": "tst202005201144"}, "qualifyinginfo": [{"name": "unitname", "value": "book club"}]}]'
)


def invite(customer, campaign_id="154", api_key="KEY-A", at=NOW):
    info = customer["personalinfo"]
    return {
        "at": at,
        "vendor": "omoto",
        "kind": "survey-invite",
        "campaign_id": campaign_id,
        "api_key": api_key,
        "personalinfo": info,
        "qualifyinginfo": customer.get("qualifyinginfo"),
        "email": info.get("email") or None,
        "mobileno": info.get("mobileno") or None,
        "transactionid": info.get("transactionid"),
        "sent_at": at,
    }


# == CRM API: receive_customer_info (OM-CRM-1 to OM-CRM-8) ===============================
def test_receive_customer_info_documented_sample_sends_one_invite(client, omoto):
    resp = crm(client, [SAMPLE_CUSTOMER])
    expect(resp, 200, SUCCESS)
    assert resp.data == b'{"status": "success"}'
    assert invites(omoto) == [invite(SAMPLE_CUSTOMER)]


def test_receive_customer_info_invite_is_recorded_under_the_key_campaign(client, omoto):
    # OM-CRM-8: the body carries no campaign id; a key of campaign B sends under B.
    expect(crm(client, [SAMPLE_CUSTOMER], key="KEY-B"), 200, SUCCESS)
    assert invites(omoto) == [invite(SAMPLE_CUSTOMER, campaign_id="200", api_key="KEY-B")]


@pytest.mark.parametrize(
    "query",
    ["", "?key=", "?key=NOPE", "?KEY=KEY-A", "?apikey=KEY-A", "?key=key-a", "?key=KEY-A&key=KEY-A"],
)
def test_receive_customer_info_key_missing_empty_or_unknown_is_keymismatch(client, omoto, query):
    resp = client.post(CRM + query, json=[SAMPLE_CUSTOMER])
    expect(resp, 401, KEYMISMATCH)
    assert invites(omoto) == []


def test_receive_customer_info_key_is_read_from_the_query_only(client, omoto):
    # OM-KEY-1: a key in a header or the body does not count.
    resp = client.post(CRM, json=[{**SAMPLE_CUSTOMER, "key": "KEY-A"}], headers={"key": "KEY-A"})
    expect(resp, 401, KEYMISMATCH)


def test_receive_customer_info_no_campaigns_configured_is_keymismatch(client, sim):
    expect(crm(client, [SAMPLE_CUSTOMER]), 401, KEYMISMATCH)


@pytest.mark.parametrize(
    "data",
    [b"{", b"[{]", b"not json", SAMPLE_AS_PRINTED.encode(), b'{"personalinfo": {}}', b"\xff\xfe"],
)
def test_receive_customer_info_key_is_checked_before_the_body(client, omoto, data):
    expect(crm(client, key="NOPE", data=data), 401, KEYMISMATCH)


def test_receive_customer_info_key_is_checked_before_a_huge_body(client, omoto):
    expect(crm(client, key="NOPE", data=b"[" + b" " * (2 * 1024 * 1024) + b"]"), 401, KEYMISMATCH)


BAD_BODIES = {
    "empty": b"",
    "truncated": json.dumps([SAMPLE_CUSTOMER]).encode()[:-7],
    "sample as printed (missing comma)": SAMPLE_AS_PRINTED.encode(),
    "single object": json.dumps(SAMPLE_CUSTOMER).encode(),
    "string": b'"customers"',
    "number": b"42",
    "null": b"null",
    "array of numbers": b"[1, 2]",
    "array of strings": b'["bertie@jeeves.com"]',
    "array of arrays": b"[[]]",
    "array with null": b"[null]",
    "valid then a non-object": json.dumps([SAMPLE_CUSTOMER, "x"]).encode(),
    "trailing comma": b'[{"personalinfo": {"email": "a@b.c"}},]',
    "trailing data": b"[] []",
    "NaN": b'[{"personalinfo": {"email": "a@b.c"}, "score": NaN}]',
    "Infinity": b"[Infinity]",
    "single quotes": b"[{'personalinfo': {}}]",
    "leading zero": b'[{"day": 01}]',
    "not UTF-8": '[{"personalinfo": {"email": "bé@x.io"}}]'.encode("latin-1"),
    "UTF-16": json.dumps([SAMPLE_CUSTOMER]).encode("utf-16"),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "huge": b"[" + b" " * (2 * 1024 * 1024) + b"]",
    "huge digits": b"[" + b"9" * 5000 + b"]",
}


@pytest.mark.parametrize("data", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_receive_customer_info_unreadable_body_is_parseerror(client, omoto, data):
    expect(crm(client, data=data), 400, PARSEERROR)
    assert invites(omoto) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
    ],
)
def test_receive_customer_info_wrong_content_type_is_parseerror(client, omoto, content_type):
    resp = crm(client, [SAMPLE_CUSTOMER], content_type=content_type or None)
    expect(resp, 400, PARSEERROR)
    assert invites(omoto) == []


def test_receive_customer_info_accepts_a_charset_parameter(client, omoto):
    resp = crm(client, [SAMPLE_CUSTOMER], content_type="application/json; charset=utf-8")
    expect(resp, 200, SUCCESS)
    assert len(invites(omoto)) == 1


def test_receive_customer_info_empty_array_is_success_without_invite(client, omoto):
    expect(crm(client, []), 200, SUCCESS)
    assert invites(omoto) == []


SKIPPED = {
    "no personalinfo": {"qualifyinginfo": [{"name": "unitname", "value": "x"}]},
    "empty object": {},
    "personalinfo not an object": {"personalinfo": "bertie@jeeves.com"},
    "personalinfo an array": {"personalinfo": [{"email": "bertie@jeeves.com"}]},
    "personalinfo null": {"personalinfo": None},
    "neither email nor mobileno": {"personalinfo": {"firstname": "bertram", "regid": "r"}},
    "both empty": {"personalinfo": {"email": "", "mobileno": ""}},
    "both not strings": {"personalinfo": {"email": 5, "mobileno": 9835132376}},
    "both null": {"personalinfo": {"email": None, "mobileno": None}},
    "email at the top level": {"email": "bertie@jeeves.com", "personalinfo": {}},
}


@pytest.mark.parametrize("customer", list(SKIPPED.values()), ids=list(SKIPPED))
def test_receive_customer_info_failing_basic_validation_is_skipped_silently(
    client, omoto, customer
):
    expect(crm(client, [customer]), 200, SUCCESS)
    assert invites(omoto) == []


def test_receive_customer_info_skips_only_the_failing_customers_in_order(client, omoto):
    first = {"personalinfo": {"email": "one@x.io"}}
    third = {"personalinfo": {"mobileno": "9000000003"}, "qualifyinginfo": []}
    customers = [first, SKIPPED["neither email nor mobileno"], third, SKIPPED["empty object"]]
    expect(crm(client, customers), 200, SUCCESS)
    assert invites(omoto) == [invite(first), invite(third)]


def test_receive_customer_info_email_alone_is_enough(client, omoto):
    customer = {"personalinfo": {"email": "bertie@jeeves.com", "mobileno": ""}}
    expect(crm(client, [customer]), 200, SUCCESS)
    [sent] = invites(omoto)
    assert (sent["email"], sent["mobileno"], sent["transactionid"]) == (
        "bertie@jeeves.com",
        None,
        None,
    )
    assert sent["qualifyinginfo"] is None


def test_receive_customer_info_mobileno_alone_is_enough(client, omoto):
    customer = {"personalinfo": {"email": 42, "mobileno": "9835132376", "transactionid": 7}}
    expect(crm(client, [customer]), 200, SUCCESS)
    [sent] = invites(omoto)
    assert (sent["email"], sent["mobileno"], sent["transactionid"]) == (None, "9835132376", None)
    assert sent["personalinfo"] == customer["personalinfo"]


def test_receive_customer_info_extra_keys_are_ignored_and_kept_verbatim(client, omoto):
    customer = {
        **SAMPLE_CUSTOMER,
        "personalinfo": {**SAMPLE_CUSTOMER["personalinfo"], "city": "London"},
        "extra": {"a": 1},
    }
    expect(crm(client, [customer]), 200, SUCCESS)
    [sent] = invites(omoto)
    assert "extra" not in sent
    assert sent["personalinfo"]["city"] == "London"


def test_receive_customer_info_no_deduplication(client, omoto):
    expect(crm(client, [SAMPLE_CUSTOMER, SAMPLE_CUSTOMER]), 200, SUCCESS)
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    assert invites(omoto) == [invite(SAMPLE_CUSTOMER)] * 3


def test_receive_customer_info_invites_carry_the_clock_time(client, omoto):
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    omoto.advance(90)
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    assert [(e["at"], e["sent_at"]) for e in invites(omoto)] == [
        (NOW, NOW),
        ("2024-06-01T12:01:30Z", "2024-06-01T12:01:30Z"),
    ]


def test_receive_customer_info_sent_at_equals_at_on_a_running_clock(client, sim):
    sim.put_state({"campaigns": CAMPAIGNS}, "omoto")
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    [sent] = sim.outbox()
    assert sent["sent_at"] == sent["at"]


def test_receive_customer_info_outbox_entries_have_ids_and_filters(client, omoto):
    expect(crm(client, [SAMPLE_CUSTOMER, SAMPLE_CUSTOMER]), 200, SUCCESS)
    assert [e["id"] for e in omoto.outbox()] == [1, 2]
    assert len(omoto.outbox(vendor="omoto")) == 2
    assert omoto.outbox(vendor="botw") == []
    assert omoto.outbox(kind="email") == []
    assert client.delete("/__sim/outbox").status_code == 200
    assert omoto.outbox() == []


def test_receive_customer_info_invites_are_isolated_per_namespace(client, sim):
    Sim = type(sim)  # the conftest helper, bound to a namespace prefix
    one, two = Sim(client, "/__ns/one"), Sim(client, "/__ns/two")
    for ns in (one, two):
        ns.put_state({"campaigns": CAMPAIGNS}, "omoto")
    resp = client.post(one.url(CRM) + "?key=KEY-A", json=[SAMPLE_CUSTOMER])
    expect(resp, 200, SUCCESS)
    assert len(one.outbox(kind="survey-invite")) == 1
    assert two.outbox() == []
    assert Sim(client).outbox() == []
    # Each namespace's keys are its own.
    Sim(client, "/__ns/three").put_state({"campaigns": [CAMPAIGNS[1]]}, "omoto")
    expect(client.post("/__ns/three" + CRM + "?key=KEY-A", json=[]), 401, KEYMISMATCH)


def test_receive_customer_info_reset_clears_invites(client, omoto):
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    assert client.post("/__sim/reset").status_code == 200
    assert omoto.outbox() == []
    expect(crm(client, [SAMPLE_CUSTOMER]), 401, KEYMISMATCH)


def test_receive_customer_info_is_journaled_under_its_operation(client, omoto):
    crm(client, [SAMPLE_CUSTOMER])
    crm(client, key="NOPE", data=b"[")
    entries = omoto.journal(vendor="omoto")
    assert [(e["operation"], e["response"]["status"]) for e in entries] == [
        ("omoto.receive_customer_info", 200),
        ("omoto.receive_customer_info", 401),
    ]
    assert entries[0]["request"]["query"] == {"key": "KEY-A"}
    assert entries[0]["request"]["body"] == [SAMPLE_CUSTOMER]


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_receive_customer_info_other_methods_are_405(client, omoto, method):
    resp = getattr(client, method)(CRM + "?key=KEY-A")
    expect(resp, 405, {"response": "methodnotallowed"})
    assert "POST" in resp.headers["Allow"]


def test_receive_customer_info_response_matches_its_schema(client, omoto, schemas):
    resp = crm(client, [SAMPLE_CUSTOMER])
    assert schemas.validate("omoto/receive_customer_info.response.json", resp.get_json()) == []
    for status, body in ((401, KEYMISMATCH), (400, PARSEERROR)):
        assert schemas.validate("omoto/error.json", body) == []
        assert crm(client, key="NOPE" if status == 401 else "KEY-A", data=b"{").status_code == (
            status
        )


def test_receive_customer_info_documented_sample_matches_the_request_schema(schemas):
    name = "omoto/receive_customer_info.request.json"
    assert schemas.validate(name, [SAMPLE_CUSTOMER]) == []
    assert schemas.validate(name, []) == []
    # What Omoto skips or ignores is no violation (OM-R1); what it refuses is one.
    assert schemas.validate(name, [{"personalinfo": {"firstname": "x"}}]) == []
    assert schemas.validate(name, [{"personalinfo": {"email": ""}}]) == []
    assert schemas.validate(name, [{"personalinfo": {"Email": "a@b.c"}}]) == []
    assert schemas.validate(name, SAMPLE_CUSTOMER) != []
    assert schemas.validate(name, [SAMPLE_CUSTOMER, 1]) != []
