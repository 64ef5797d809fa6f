"""Omoto properties: any body gets Omoto's own answer (never a crash), and the answer, the
invites and the stored responses agree with a small model of docs/vendors/omoto.md."""

import json

import pytest
from helpers import expect
from hypothesis import given
from hypothesis import strategies as st

from simulator import create_app

CRM = "/omoto/receivecustomerinfo.htm?key=K"
PUSH = "/omoto/endpoint.htm?key=K"
HEADER = json.dumps({"processid": "76"})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
contactish = st.one_of(st.none(), st.just(""), st.text(max_size=5), st.integers(), json_values)
customers = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "personalinfo": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "email": contactish,
                        "mobileno": contactish,
                        "transactionid": contactish,
                    },
                ),
            ),
            "qualifyinginfo": json_values,
        },
    ),
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "campaignid": st.one_of(st.just("7"), st.just(7), st.just("8"), json_values),
        "npsrating": st.one_of(st.integers(-2, 12), st.from_regex(r"\A[0-9]{1,3}\Z"), json_values),
        "catnpsmap": st.one_of(
            st.dictionaries(st.text(max_size=3), st.lists(st.text(max_size=3), max_size=2)),
            json_values,
        ),
        "comment": json_values,
        "channel": st.text(max_size=5),
    },
)


@pytest.fixture(scope="module")
def client():
    app = create_app({"seed": 7})
    c = app.test_client()
    r = c.put("/__sim/state/omoto", json={"campaigns": [{"campaign_id": "7", "api_key": "K"}]})
    assert r.status_code == 200
    return c


def invites_expected(body):
    """The model: how many invites a body sends, or None when it is a parseerror."""
    if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
        return None

    def ok(v):
        return isinstance(v, str) and v != ""

    return sum(
        1
        for c in body
        if isinstance(c.get("personalinfo"), dict)
        and (ok(c["personalinfo"].get("email")) or ok(c["personalinfo"].get("mobileno")))
    )


@given(body=st.one_of(json_values, st.lists(customers, max_size=5)))
def test_receive_customer_info_agrees_with_the_model(client, body):
    client.delete("/__sim/outbox")
    resp = client.post(CRM, data=json.dumps(body), content_type="application/json")
    expected = invites_expected(body)
    if expected is None:
        expect(resp, 400, {"response": "parseerror"})
    else:
        expect(resp, 200, {"status": "success"})
    sent = client.get("/__sim/outbox").get_json()["entries"]
    assert len(sent) == (expected or 0)
    assert all(e["campaign_id"] == "7" and e["kind"] == "survey-invite" for e in sent)


@given(raw=st.binary(max_size=200))
def test_receive_customer_info_any_bytes_get_omotos_answer(client, raw):
    resp = client.post(CRM, data=raw, content_type="application/json")
    assert resp.status_code in (200, 400)
    assert resp.get_json() in ({"status": "success"}, {"response": "parseerror"})


def response_expected(body):
    """The model of OM-RESP-2 to OM-RESP-6 for a decoded jsonbody: 400, 401 or 200."""
    if not isinstance(body, dict):
        return 400
    cid = body.get("campaignid")
    if isinstance(cid, bool) or not (isinstance(cid, int) or (isinstance(cid, str) and cid)):
        return 400
    if "npsrating" in body:
        n = body["npsrating"]
        if isinstance(n, str) and n.isascii() and n.isdigit():
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 10:
            return 400
    if "catnpsmap" in body:
        m = body["catnpsmap"]
        if not isinstance(m, dict) or not all(isinstance(v, list) for v in m.values()):
            return 400
    return 200 if str(cid) == "7" else 401


@given(body=st.one_of(fields, json_values))
def test_push_response_agrees_with_the_model(client, body):
    before = len(client.get("/__sim/state/omoto").get_json()["responses"])
    resp = client.post(PUSH, data={"jsonheader": HEADER, "jsonbody": json.dumps(body)})
    status = response_expected(body)
    assert resp.status_code == status
    assert (
        resp.get_json()
        == {
            200: {"status": "success"},
            400: {"response": "parseerror"},
            401: {"response": "keymismatch"},
        }[status]
    )
    after = client.get("/__sim/state/omoto").get_json()["responses"]
    assert len(after) == before + (status == 200)


@given(header=st.text(max_size=30), body=st.text(max_size=60), extra=st.binary(max_size=60))
def test_push_response_any_form_gets_omotos_answer(client, header, body, extra):
    for data, ctype in (
        ({"jsonheader": header, "jsonbody": body}, None),
        (extra, "application/x-www-form-urlencoded"),
        (extra, "multipart/form-data; boundary=b"),
    ):
        resp = client.post(PUSH, data=data, content_type=ctype)
        assert resp.status_code in (200, 400, 401)
        assert set(resp.get_json()) <= {"status", "response"}


@given(
    names=st.lists(st.from_regex(r"\A[a-z]{1,6}\Z"), max_size=4, unique=True),
    ids=st.lists(st.integers(1, 50), max_size=4, unique=True),
)
def test_state_round_trip(names, ids):
    names = [n for n in names if n != "receivecustomerinfo"]
    c = create_app({"seed": 1}).test_client()
    doc = {
        "campaigns": [
            {"campaign_id": str(i), "api_key": f"k{i}", "name": None} for i in range(len(names))
        ],
        "response_endpoints": names,
        "responses": [
            {
                "response_id": i,
                "endpoint": None,
                "campaign_id": "0",
                "channel": None,
                "campaigntype": None,
                "catnpsmap": None,
                "npsrating": i % 11,
                "comment": None,
                "customerinfo": None,
                "namevaluemap": None,
                "received_at": "2024-01-01T00:00:00Z",
            }
            for i in sorted(ids)
        ],
    }
    put = c.put("/__sim/state/omoto", json=doc)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == doc
    assert c.get("/__sim/state/omoto").get_json() == doc
