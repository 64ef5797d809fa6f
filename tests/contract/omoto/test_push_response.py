"""Omoto Response API, POST endpoint.htm: keys, forms, jsonheader and jsonbody, endpoints."""

import json

import pytest
from helpers import expect

from ._support import (
    CAMPAIGNS,
    EXAMPLE_BODY,
    EXAMPLE_HEADER,
    KEYMISMATCH,
    NOTFOUND,
    PARSEERROR,
    SAMPLE_CUSTOMER,
    SUCCESS,
    crm,
    invites,
    push,
    responses,
    stored,
)

PUSH = "/omoto/endpoint.htm"
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
