"""Omoto contract tests: every rule of docs/vendors/omoto.md, exact bodies, outbox, state."""

import json

import pytest
from helpers import expect
from jsonschema import Draft7Validator

from simulator.schemas import default_schemas_dir, load
from simulator.vendors.omoto.errors import http_error

CRM = "/omoto/receivecustomerinfo.htm"
PUSH = "/omoto/endpoint.htm"
NOW = "2024-06-01T12:00:00Z"
SUCCESS = {"status": "success"}
KEYMISMATCH = {"response": "keymismatch"}
PARSEERROR = {"response": "parseerror"}
NOTFOUND = {"response": "notfound"}

CAMPAIGNS = [
    {"campaign_id": "154", "api_key": "KEY-A", "name": "Book club NPS"},
    {"campaign_id": "200", "api_key": "KEY-B"},
]

# The CRM API's sample (vendor-docs/omoto-crm-api.txt), with its comma added (GEN-JSON-1).
SAMPLE_CUSTOMER = {
    "personalinfo": {
        "firstname": "bertram",
        "lastname": "wooster",
        "email": "bertie@jeeves.com",
        "mobileno": "9835132376",
        "transactionid": "202005201623",
        "regid": "tst202005201144",
    },
    "qualifyinginfo": [
        {"name": "unitname", "value": "book club"},
        {"name": "genre", "value": "comedy"},
        {"name": "author", "value": "pg wodehouse"},
        {"name": "publisher", "value": "jenkins"},
        {"name": "country", "value": "uk"},
    ],
}
# The sample exactly as the page prints it: no comma after "mobileno".
SAMPLE_AS_PRINTED = (
    '[{"personalinfo": {"firstname": "bertram", "lastname": "wooster", '
    '"email": "bertie@jeeves.com", "mobileno": "9835132376" "transactionid": "202005201623", '
    '"regid": "tst202005201144"}, "qualifyinginfo": [{"name": "unitname", "value": "book club"}]}]'
)

# The Response API's worked example (vendor-docs/omoto-response-api.txt), brackets restored.
EXAMPLE_HEADER = {"processid": "76"}
EXAMPLE_BODY = {
    "catnpsmap": {"internet availability": [], "price": []},
    "comment": "sample comment",
    "customerinfo": {
        "email": "tharun@omoto.io",
        "registrationno": "exl001",
        "mobileno": "9663798289",
        "name": "tharun",
    },
    "namevaluemap": {
        "unitname": "standard name as provided by omoto",
        "city": "city of the customer",
    },
    "npsrating": 4,
    "campaignid": 154,
}
# The template with every placeholder filled in as a string.
TEMPLATE_BODY = {
    "campaignid": "154",
    "channel": "email",
    "campaigntype": "nps",
    "catnpsmap": {"staff": ["polite"], "price": []},
    "npsrating": "9",
    "comment": "great",
    "customerinfo": {
        "email": "a@b.io",
        "regid": "r1",
        "registrationno": "x1",
        "mobileno": "9000000000",
        "name": "A",
    },
    "namevaluemap": {"unitname": "book club"},
}


@pytest.fixture
def omoto(sim):
    sim.put_state({"campaigns": CAMPAIGNS}, "omoto")
    sim.freeze(NOW)
    return sim


def crm(client, customers=None, key="KEY-A", *, data=None, content_type="application/json", **kw):
    url = CRM if key is None else f"{CRM}?key={key}"
    if data is None:
        data = json.dumps(customers)
    return client.post(url, data=data, content_type=content_type, **kw)


DEFAULT = object()


def push(client, body=DEFAULT, header=DEFAULT, key="KEY-A", endpoint="endpoint", **kw):
    url = f"/omoto/{endpoint}.htm" + ("" if key is None else f"?key={key}")
    if "data" not in kw:
        kw["data"] = {
            "jsonheader": json.dumps(EXAMPLE_HEADER if header is DEFAULT else header),
            "jsonbody": json.dumps(EXAMPLE_BODY if body is DEFAULT else body),
        }
    return client.post(url, **kw)


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


def invites(sim):
    return [
        {k: v for k, v in e.items() if k != "id"}
        for e in sim.outbox(vendor="omoto", kind="survey-invite")
    ]


def responses(sim):
    return sim.state("omoto")["responses"]


def stored(body, response_id=1, endpoint="endpoint", npsrating=None, campaign_id="154"):
    return {
        "response_id": response_id,
        "endpoint": endpoint,
        "campaign_id": campaign_id,
        "channel": body.get("channel"),
        "campaigntype": body.get("campaigntype"),
        "catnpsmap": body.get("catnpsmap"),
        "npsrating": npsrating,
        "comment": body.get("comment"),
        "customerinfo": body.get("customerinfo"),
        "namevaluemap": body.get("namevaluemap"),
        "received_at": NOW,
    }


@pytest.fixture(scope="module")
def schemas():
    return load(default_schemas_dir().resolve())


def test_every_omoto_schema_is_a_valid_draft7_schema():
    files = sorted((default_schemas_dir() / "omoto").glob("*.json"))
    assert [f.name for f in files] == [
        "error.json",
        "push_response.request.json",
        "push_response.response.json",
        "receive_customer_info.request.json",
        "receive_customer_info.response.json",
        "state.json",
    ]
    for f in files:
        Draft7Validator.check_schema(json.loads(f.read_text()))


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


# == Response API: push_response (OM-RESP-1 to OM-RESP-6) ================================
def test_push_response_documented_example_is_stored(client, omoto):
    expect(push(client), 200, SUCCESS)
    assert responses(omoto) == [stored(EXAMPLE_BODY, npsrating=4)]
    assert invites(omoto) == []


def test_push_response_template_with_strings_is_stored(client, omoto):
    expect(push(client, TEMPLATE_BODY), 200, SUCCESS)
    assert responses(omoto) == [stored(TEMPLATE_BODY, npsrating=9)]


def test_push_response_multipart_form_is_accepted(client, omoto):
    data = {"jsonheader": json.dumps(EXAMPLE_HEADER), "jsonbody": json.dumps(EXAMPLE_BODY)}
    resp = push(client, data=data, content_type="multipart/form-data")
    expect(resp, 200, SUCCESS)
    assert responses(omoto) == [stored(EXAMPLE_BODY, npsrating=4)]


def test_push_response_url_encoded_by_hand(client, omoto):
    data = "jsonheader=%7B%22processid%22%3A76%7D&jsonbody=%7B%22campaignid%22%3A%22154%22%7D"
    resp = push(client, data=data, content_type="application/x-www-form-urlencoded")
    expect(resp, 200, SUCCESS)
    assert responses(omoto) == [stored({})]


def test_push_response_minimal_body_stores_nulls(client, omoto):
    expect(push(client, {"campaignid": "154"}), 200, SUCCESS)
    assert responses(omoto) == [stored({})]


def test_push_response_extra_fields_are_ignored(client, omoto):
    expect(
        push(client, {"campaignid": 154, "surprise": 1}, {"processid": "76", "x": 1}), 200, SUCCESS
    )
    assert responses(omoto) == [stored({})]


def test_push_response_no_deduplication_and_ids_increase(client, omoto):
    for _ in range(3):
        expect(push(client), 200, SUCCESS)
    assert [r["response_id"] for r in responses(omoto)] == [1, 2, 3]


def test_push_response_other_form_fields_are_ignored(client, omoto):
    data = {
        "jsonheader": json.dumps(EXAMPLE_HEADER),
        "jsonbody": json.dumps(EXAMPLE_BODY),
        "x": "1",
    }
    expect(push(client, data=data), 200, SUCCESS)


def test_push_response_key_missing_empty_or_unknown_is_keymismatch(client, omoto):
    for key in (None, "", "NOPE", "key-a"):
        expect(push(client, key=key), 401, KEYMISMATCH)
    assert responses(omoto) == []


def test_push_response_key_is_checked_before_the_form(client, omoto):
    expect(push(client, key="NOPE", data=b"{", content_type="application/json"), 401, KEYMISMATCH)
    expect(push(client, key="NOPE", data={"jsonheader": "{"}), 401, KEYMISMATCH)


def test_push_response_key_in_the_form_does_not_count(client, omoto):
    data = {"key": "KEY-A", "jsonheader": json.dumps(EXAMPLE_HEADER), "jsonbody": "{}"}
    expect(push(client, key=None, data=data), 401, KEYMISMATCH)


@pytest.mark.parametrize("campaignid", [200, "200", "1540", "0154", " 154", "154 ", -154])
def test_push_response_campaign_not_of_the_key_is_keymismatch(client, omoto, campaignid):
    expect(push(client, {**EXAMPLE_BODY, "campaignid": campaignid}), 401, KEYMISMATCH)
    assert responses(omoto) == []


def test_push_response_campaign_of_another_key_is_accepted_with_that_key(client, omoto):
    expect(push(client, {**EXAMPLE_BODY, "campaignid": 200}, key="KEY-B"), 200, SUCCESS)
    assert responses(omoto) == [stored(EXAMPLE_BODY, npsrating=4, campaign_id="200")]


def test_push_response_parseerror_comes_before_the_campaign_check(client, omoto):
    body = {**EXAMPLE_BODY, "campaignid": 200, "npsrating": 11}
    expect(push(client, body), 400, PARSEERROR)


H, B = json.dumps(EXAMPLE_HEADER), json.dumps(EXAMPLE_BODY)
BAD_FORMS = {
    "no fields": {},
    "jsonheader missing": {"jsonbody": B},
    "jsonbody missing": {"jsonheader": H},
    "jsonheader empty": {"jsonheader": "", "jsonbody": B},
    "jsonbody empty": {"jsonheader": H, "jsonbody": ""},
    "jsonheader not JSON": {"jsonheader": "processid=76", "jsonbody": B},
    "jsonbody not JSON": {"jsonheader": H, "jsonbody": "{campaignid: 154}"},
    "jsonbody truncated": {"jsonheader": H, "jsonbody": B[:-1]},
    "jsonbody NaN": {"jsonheader": H, "jsonbody": '{"campaignid": 154, "npsrating": NaN}'},
    "jsonbody deeply nested": {"jsonheader": H, "jsonbody": "[" * 50_000 + "]" * 50_000},
    "jsonbody trailing data": {"jsonheader": H, "jsonbody": B + " {}"},
    "wrong field names": {"jsonHeader": H, "jsonBody": B},
}


@pytest.mark.parametrize("data", list(BAD_FORMS.values()), ids=list(BAD_FORMS))
def test_push_response_unreadable_form_is_parseerror(client, omoto, data):
    expect(push(client, data=data), 400, PARSEERROR)
    assert responses(omoto) == []


RAW_BODIES = {
    "raw JSON body": (
        json.dumps({"jsonheader": EXAMPLE_HEADER, "jsonbody": EXAMPLE_BODY}),
        "application/json",
    ),
    "raw JSON body, form content type": (
        json.dumps(EXAMPLE_BODY),
        "application/x-www-form-urlencoded",
    ),
    "text/plain": (f"jsonheader={H}&jsonbody={B}", "text/plain"),
    "no content type": ("jsonheader=x", None),
    "duplicate field": (
        f"jsonheader={H}&jsonheader={H}&jsonbody={B}",
        "application/x-www-form-urlencoded",
    ),
    "not UTF-8": (b"jsonheader=%FF&jsonbody=%FE", "application/x-www-form-urlencoded"),
    "pair without a name": ("=x&jsonheader=1", "application/x-www-form-urlencoded"),
    "multipart without boundary": ("garbage", "multipart/form-data"),
    "multipart garbage": ("garbage", "multipart/form-data; boundary=zz"),
    "huge form": (b"jsonheader=" + b"x" * (2 * 1024 * 1024), "application/x-www-form-urlencoded"),
    "huge multipart": (
        b'--zz\r\nContent-Disposition: form-data; name="jsonbody"\r\n\r\n'
        + b"x" * (2 * 1024 * 1024)
        + b"\r\n--zz--\r\n",
        "multipart/form-data; boundary=zz",
    ),
}


@pytest.mark.parametrize(("data", "content_type"), list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_push_response_wrong_transport_is_parseerror(client, omoto, data, content_type):
    expect(push(client, data=data, content_type=content_type), 400, PARSEERROR)
    assert responses(omoto) == []


def test_push_response_jsonbody_as_a_file_part_is_parseerror(client, omoto):
    import io

    data = {"jsonheader": H, "jsonbody": (io.BytesIO(B.encode()), "body.json")}
    expect(push(client, data=data, content_type="multipart/form-data"), 400, PARSEERROR)


BAD_HEADERS = {
    "array": [EXAMPLE_HEADER],
    "string": "76",
    "number": 76,
    "null": None,
    "no processid": {},
    "processid 77": {"processid": "77"},
    "processid 077": {"processid": "076"},
    "processid 76.0": {"processid": 76.0},
    "processid with space": {"processid": " 76"},
    "processid true": {"processid": True},
    "processid null": {"processid": None},
    "processid list": {"processid": ["76"]},
    "wrong key case": {"processId": "76"},
}


@pytest.mark.parametrize("header", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
def test_push_response_bad_jsonheader_is_parseerror(client, omoto, header):
    expect(push(client, header=header), 400, PARSEERROR)
    assert responses(omoto) == []


def test_push_response_processid_integer_76_is_accepted(client, omoto):
    expect(push(client, header={"processid": 76}), 200, SUCCESS)


BAD_BODY_DOCS = {
    "array of one object (one at a time)": [EXAMPLE_BODY],
    "array of two objects": [EXAMPLE_BODY, EXAMPLE_BODY],
    "string": "154",
    "number": 154,
    "null": None,
    "campaignid missing": {"npsrating": 4},
    "campaignid empty": {"campaignid": ""},
    "campaignid null": {"campaignid": None},
    "campaignid float": {"campaignid": 154.0},
    "campaignid true": {"campaignid": True},
    "campaignid object": {"campaignid": {"id": 154}},
    "campaignid array": {"campaignid": [154]},
    "npsrating -1": {"campaignid": 154, "npsrating": -1},
    "npsrating 11": {"campaignid": 154, "npsrating": 11},
    "npsrating '11'": {"campaignid": 154, "npsrating": "11"},
    "npsrating '-1'": {"campaignid": 154, "npsrating": "-1"},
    "npsrating '4.5'": {"campaignid": 154, "npsrating": "4.5"},
    "npsrating 4.5": {"campaignid": 154, "npsrating": 4.5},
    "npsrating 4.0": {"campaignid": 154, "npsrating": 4.0},
    "npsrating ''": {"campaignid": 154, "npsrating": ""},
    "npsrating ' 4'": {"campaignid": 154, "npsrating": " 4"},
    "npsrating '+4'": {"campaignid": 154, "npsrating": "+4"},
    "npsrating 'four'": {"campaignid": 154, "npsrating": "four"},
    "npsrating Arabic-Indic digit": {"campaignid": 154, "npsrating": "\u0664"},
    "npsrating huge digit string": {"campaignid": 154, "npsrating": "9" * 5000},
    "npsrating null": {"campaignid": 154, "npsrating": None},
    "npsrating true": {"campaignid": 154, "npsrating": True},
    "npsrating object": {"campaignid": 154, "npsrating": {"value": 4}},
    "catnpsmap array": {"campaignid": 154, "catnpsmap": ["price"]},
    "catnpsmap string": {"campaignid": 154, "catnpsmap": "price"},
    "catnpsmap null": {"campaignid": 154, "catnpsmap": None},
    "catnpsmap value a string": {"campaignid": 154, "catnpsmap": {"price": "high"}},
    "catnpsmap value an object": {"campaignid": 154, "catnpsmap": {"price": {}}},
    "catnpsmap one good one bad": {"campaignid": 154, "catnpsmap": {"a": [], "b": None}},
}


@pytest.mark.parametrize("body", list(BAD_BODY_DOCS.values()), ids=list(BAD_BODY_DOCS))
def test_push_response_bad_jsonbody_is_parseerror(client, omoto, body):
    expect(push(client, body), 400, PARSEERROR)
    assert responses(omoto) == []


@pytest.mark.parametrize(
    ("given", "rating"),
    [(0, 0), (10, 10), ("0", 0), ("10", 10), ("04", 4), ("000", 0), ("010", 10), (7, 7)],
)
def test_push_response_npsrating_integer_or_numeric_string_0_to_10(client, omoto, given, rating):
    expect(push(client, {"campaignid": "154", "npsrating": given}), 200, SUCCESS)
    assert responses(omoto)[0]["npsrating"] == rating


@pytest.mark.parametrize(
    "catnpsmap", [{}, {"price": []}, {"a": ["x", "y"], "b": []}, {"mixed": [1, None]}]
)
def test_push_response_catnpsmap_object_of_arrays_is_accepted(client, omoto, catnpsmap):
    expect(push(client, {"campaignid": 154, "catnpsmap": catnpsmap}), 200, SUCCESS)
    assert responses(omoto)[0]["catnpsmap"] == catnpsmap


def test_push_response_other_fields_are_stored_as_sent(client, omoto):
    # Not an OM-RESP-2 trigger: a wrong type elsewhere is accepted and kept verbatim.
    body = {
        "campaignid": 154,
        "channel": 3,
        "comment": ["a"],
        "customerinfo": "x",
        "namevaluemap": {"n": 1},
    }
    expect(push(client, body), 200, SUCCESS)
    [record] = responses(omoto)
    assert (
        record["channel"],
        record["comment"],
        record["customerinfo"],
        record["namevaluemap"],
    ) == (
        3,
        ["a"],
        "x",
        {"n": 1},
    )


def test_push_response_unknown_endpoint_is_404(client, omoto):
    for key in ("KEY-A", "NOPE"):
        resp = push(client, key=key, endpoint="other")
        expect(resp, 404, NOTFOUND)
        assert "/omoto/<endpoint>.htm" in resp.headers["X-Sim-Closest-Routes"]
    [entry, _] = omoto.journal(status=404)
    assert (entry["vendor"], entry["operation"]) == ("omoto", None)


def test_push_response_endpoint_names_come_from_the_state(client, sim):
    sim.put_state({"campaigns": CAMPAIGNS, "response_endpoints": ["acme", "acme.v2"]}, "omoto")
    expect(push(client, endpoint="endpoint"), 404, NOTFOUND)
    expect(push(client, endpoint="ACME"), 404, NOTFOUND)
    expect(push(client, endpoint="acme"), 200, SUCCESS)
    expect(push(client, endpoint="acme.v2"), 200, SUCCESS)
    assert [r["endpoint"] for r in responses(sim)] == ["acme", "acme.v2"]


def test_push_response_no_endpoints_disables_the_response_api(client, sim):
    sim.put_state({"campaigns": CAMPAIGNS, "response_endpoints": []}, "omoto")
    expect(push(client), 404, NOTFOUND)
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)


def test_push_response_default_endpoint_without_any_state(client):
    expect(push(client), 401, KEYMISMATCH)


def test_push_response_get_is_405(client, omoto):
    expect(client.get(PUSH + "?key=KEY-A"), 405, {"response": "methodnotallowed"})


def test_push_response_is_journaled_under_its_operation(client, omoto):
    push(client)
    [entry] = omoto.journal(vendor="omoto")
    assert entry["operation"] == "omoto.push_response"
    assert entry["response"]["body"] == SUCCESS


def test_push_response_sends_no_invite_and_crm_stores_no_response(client, omoto):
    expect(push(client), 200, SUCCESS)
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)
    assert len(invites(omoto)) == 1
    assert len(responses(omoto)) == 1


def test_push_response_response_matches_its_schema(client, omoto, schemas):
    resp = push(client)
    assert schemas.validate("omoto/push_response.response.json", resp.get_json()) == []


def test_push_response_documented_samples_match_the_request_schema(schemas):
    name = "omoto/push_response.request.json"
    for header in (EXAMPLE_HEADER, {"processid": 76}):
        for body in (EXAMPLE_BODY, TEMPLATE_BODY, {"campaignid": "154"}):
            assert schemas.validate(name, {"jsonheader": header, "jsonbody": body}) == []
    assert schemas.validate(name, {"jsonheader": EXAMPLE_HEADER, "jsonbody": [EXAMPLE_BODY]}) != []
    for body in (
        {"campaignid": ""},
        {"campaignid": 1, "npsrating": 11},
        {"campaignid": 1, "npsrating": "11"},
    ):
        assert schemas.validate(name, {"jsonheader": EXAMPLE_HEADER, "jsonbody": body}) != []
    assert (
        schemas.validate(name, {"jsonheader": {"processid": "77"}, "jsonbody": EXAMPLE_BODY}) != []
    )


# == Transport errors ======================================================================
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "parseerror"),
        (401, "keymismatch"),
        (404, "notfound"),
        (405, "methodnotallowed"),
        (413, "requestentitytoolarge"),
        (429, "toomanyrequests"),
        (500, "internalservererror"),
        (503, "serviceunavailable"),
        (599, "error"),
    ],
)
def test_http_error_keeps_omotos_shape(status, code):
    error = http_error(status)
    assert (error.status, error.body()) == (status, {"response": code})
    assert error.to_response().get_json() == {"response": code}


@pytest.mark.parametrize(
    "path", ["/omoto", "/omoto/", "/omoto/x", "/omoto/endpoint.htm/", "/omoto/a/b.htm"]
)
def test_unknown_omoto_paths_are_404_in_omotos_shape(client, path):
    expect(client.post(path), 404, NOTFOUND)


# == State document ========================================================================
FULL_STATE = {
    "campaigns": [
        {"campaign_id": "154", "api_key": "KEY-A", "name": "Book club NPS"},
        {"campaign_id": "200", "api_key": "KEY-B", "name": None},
    ],
    "response_endpoints": ["endpoint", "acme"],
    "responses": [
        {
            "response_id": 4,
            "endpoint": "acme",
            "campaign_id": "154",
            "channel": "email",
            "campaigntype": "nps",
            "catnpsmap": {"price": ["high"]},
            "npsrating": 9,
            "comment": "ok",
            "customerinfo": {"email": "a@b.io"},
            "namevaluemap": {"unitname": "u"},
            "received_at": "2024-05-01T10:00:00Z",
        }
    ],
}


def test_state_round_trip_is_equal(client, sim):
    assert sim.put_state(FULL_STATE, "omoto") == FULL_STATE
    assert sim.state("omoto") == FULL_STATE
    assert sim.put_state(sim.state())["omoto"] == FULL_STATE
    assert sim.state()["omoto"] == FULL_STATE


def test_state_defaults_are_filled_in(client, sim):
    sim.freeze(NOW)
    empty = {"campaigns": [], "response_endpoints": ["endpoint"], "responses": []}
    assert sim.state("omoto") == empty
    assert sim.put_state({}, "omoto") == empty
    doc = sim.put_state(
        {"campaigns": [{"campaign_id": "1", "api_key": "K"}], "responses": [{"campaign_id": "1"}]},
        "omoto",
    )
    assert doc["campaigns"] == [{"campaign_id": "1", "api_key": "K", "name": None}]
    assert doc["responses"] == [stored({}, campaign_id="1", endpoint=None)]
    assert sim.put_state(doc, "omoto") == doc


def test_state_response_ids_are_assigned_above_the_highest(client, sim):
    doc = sim.put_state(
        {
            "campaigns": CAMPAIGNS,
            "responses": [{"campaign_id": "154"}, {"campaign_id": "154", "response_id": 7}],
        },
        "omoto",
    )
    assert [r["response_id"] for r in doc["responses"]] == [7, 8]
    expect(push(client), 200, SUCCESS)
    assert [r["response_id"] for r in responses(sim)] == [7, 8, 9]


def test_state_loaded_campaign_keys_work(client, sim):
    sim.put_state({"omoto": {"campaigns": CAMPAIGNS}})
    expect(crm(client, [SAMPLE_CUSTOMER], key="KEY-B"), 200, SUCCESS)


def put_bad(client, doc, vendor=True):
    url = "/__sim/state/omoto" if vendor else "/__sim/state"
    resp = client.put(url, json=doc if vendor else {"omoto": doc})
    assert resp.status_code == 400, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return [e["pointer"] for e in resp.get_json()["errors"]]


def test_state_api_key_clash_is_400_with_the_pointer(client, sim):
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "2", "api_key": "K"}]
    }
    assert put_bad(client, doc) == ["/campaigns/1/api_key"]
    assert put_bad(client, doc, vendor=False) == ["/omoto/campaigns/1/api_key"]


def test_state_campaign_id_clash_is_400_with_the_pointer(client, sim):
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "1", "api_key": "L"}]
    }
    assert put_bad(client, doc) == ["/campaigns/1/campaign_id"]


def test_state_endpoint_rules_are_400_with_the_pointer(client, sim):
    doc = {"response_endpoints": ["endpoint", "receivecustomerinfo", "endpoint"]}
    assert put_bad(client, doc) == ["/response_endpoints/1", "/response_endpoints/2"]
    assert put_bad(client, {"response_endpoints": ["a/b"]}) == ["/response_endpoints/0"]
    assert put_bad(client, {"response_endpoints": [""]}) == ["/response_endpoints/0"]


def test_state_duplicate_response_id_is_400_with_the_pointer(client, sim):
    doc = {
        "responses": [
            {"campaign_id": "1", "response_id": 3},
            {"campaign_id": "1", "response_id": 3},
        ]
    }
    assert put_bad(client, doc) == ["/responses/1/response_id"]


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"campaigns": [{"campaign_id": "1"}]}, "/campaigns/0/api_key"),
        ({"campaigns": [{"campaign_id": 154, "api_key": "K"}]}, "/campaigns/0/campaign_id"),
        ({"campaigns": [{"campaign_id": "1", "api_key": ""}]}, "/campaigns/0/api_key"),
        ({"campaigns": [{"campaign_id": "1", "api_key": "K", "x": 1}]}, "/campaigns/0"),
        ({"responses": [{"campaign_id": "1", "npsrating": 11}]}, "/responses/0/npsrating"),
        (
            {"responses": [{"campaign_id": "1", "received_at": "yesterday"}]},
            "/responses/0/received_at",
        ),
        ({"invites": []}, ""),
    ],
)
def test_state_schema_violations_are_400_with_the_pointer(client, sim, doc, pointer):
    assert put_bad(client, doc) == [pointer]


def test_state_invalid_put_changes_nothing(client, omoto):
    before = omoto.state("omoto")
    doc = {
        "campaigns": [{"campaign_id": "1", "api_key": "K"}, {"campaign_id": "2", "api_key": "K"}]
    }
    put_bad(client, doc)
    assert omoto.state("omoto") == before
    expect(crm(client, [SAMPLE_CUSTOMER]), 200, SUCCESS)


def test_state_reset_of_omoto_only(client, omoto):
    expect(push(client), 200, SUCCESS)
    assert client.post("/__sim/reset", json={"vendors": ["omoto"]}).status_code == 200
    assert omoto.state("omoto") == {
        "campaigns": [],
        "response_endpoints": ["endpoint"],
        "responses": [],
    }
