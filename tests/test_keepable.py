"""What a route accepts, a snapshot keeps: the limits of PHP's json_decode, refused up front
with each vendor's own malformed-body error (issue 13, "Nothing accepted is lost")."""

import json

import pytest
from helpers import expect

from simulator import create_app
from simulator.http import (
    CONTROL_MAX_DEPTH,
    LONE_SURROGATE,
    MAX_DEPTH,
    TOO_DEEP,
    BadBody,
    check_keepable,
    parse_json,
)
from simulator.persist import Persister

OMOTO = {"campaigns": [{"campaign_id": "154", "api_key": "KEY-A"}]}
HEADER = json.dumps({"processid": "76"})
ANTCRM = {
    "orgs": [{"org_id": "acme", "users": ["me@acme.vn"]}],
    "listeners": [{"listener_id": "wh-1", "org_id": "acme"}],
}
PARSEERROR = {"response": "parseerror"}


def nest(levels, leaf=1):
    """``leaf`` inside ``levels`` arrays."""
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def omoto_body(total_depth):
    """A push_response jsonbody (text) whose arrays and objects nest ``total_depth`` deep."""
    # the body object (1), namevaluemap (2), then the arrays
    arrays = total_depth - 2
    return (
        '{"campaignid": 154, "namevaluemap": {"deep": ' + "[" * arrays + "1" + "]" * arrays + "}}"
    )


def push(client, body, prefix=""):
    return client.post(
        f"{prefix}/omoto/endpoint.htm?key=KEY-A", data={"jsonheader": HEADER, "jsonbody": body}
    )


def restarted(app, tmp_path):
    """A fresh app loaded from a snapshot of ``app`` (what a restart does)."""
    sim = app.extensions["crmsim"]
    path = tmp_path / "data.json"
    saver = Persister(sim.namespaces, sim.schemas, path)
    assert saver.save(force=True)
    assert saver.problem is None
    fresh = create_app({"seed": 7})
    fresh_sim = fresh.extensions["crmsim"]
    Persister(fresh_sim.namespaces, fresh_sim.schemas, path).load()
    return fresh


# -- the parser -----------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH])
def test_json_up_to_phps_depth_is_read(depth):
    assert parse_json(json.dumps(nest(depth - 1, []))) == nest(depth - 1, [])
    assert parse_json(json.dumps(nest(depth - 1, {}))) == nest(depth - 1, {})


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 970, 100_000])
def test_json_deeper_than_phps_depth_is_refused(depth):
    with pytest.raises(BadBody) as caught:
        parse_json("[" * depth + "]" * depth)
    assert (caught.value.reason, caught.value.detail) == ("json", TOO_DEEP)


def test_objects_count_as_levels_too():
    doc = {"a": 1}
    for _ in range(MAX_DEPTH - 1):
        doc = {"a": doc}
    assert parse_json(json.dumps(doc)) == doc
    with pytest.raises(BadBody, match="nested deeper than 512"):
        parse_json(json.dumps({"a": doc}))


def test_control_documents_may_nest_a_little_deeper():
    deep = "[" * CONTROL_MAX_DEPTH + "]" * CONTROL_MAX_DEPTH
    assert parse_json(deep, CONTROL_MAX_DEPTH) == nest(CONTROL_MAX_DEPTH - 1, [])
    with pytest.raises(BadBody, match=f"deeper than {CONTROL_MAX_DEPTH} levels"):
        parse_json("[" + deep + "]", CONTROL_MAX_DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '["ok", "a\\udfffb"]',
        '{"k": {"\\uDC00": 1}}',
        '{"k": "\\ude00\\ud83d"}',  # the pair in the wrong order: two lone halves
        '[{"x": ["\\ud83d"]}]',
    ],
)
def test_unpaired_surrogates_are_refused(text):
    with pytest.raises(BadBody) as caught:
        parse_json(text)
    assert (caught.value.reason, caught.value.detail) == ("json", LONE_SURROGATE)


def test_paired_surrogates_are_one_character_and_accepted():
    assert parse_json('{"e": "\\ud83d\\ude00", "\\uD83D\\uDE00": 1}') == {"e": "😀", "😀": 1}
    assert parse_json('"\\ud7ff\\ue000"') == "\ud7ff\ue000"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309"])
def test_numbers_beyond_a_double_are_refused(number):
    with pytest.raises(BadBody, match="out of range"):
        parse_json(f"[{number}]")


def test_check_keepable_without_text_walks_everything():
    check_keepable({"a": [1, "x", {"b": None}]})
    with pytest.raises(BadBody):
        check_keepable({"a": ["\udc80"]})
    with pytest.raises(BadBody):
        check_keepable(nest(MAX_DEPTH + 1))
    check_keepable(nest(MAX_DEPTH))


# -- each vendor's own malformed-body error --------------------------------------------------
def test_omoto_push_response_nested_970_deep_is_parseerror_and_not_stored(client, sim):
    sim.put_state(OMOTO, "omoto")
    r = push(client, omoto_body(970))
    expect(r, 400, PARSEERROR)
    assert sim.state("omoto")["responses"] == []


def test_omoto_push_response_at_the_depth_limit_is_kept_by_a_restart(client, sim, app, tmp_path):
    sim.put_state(OMOTO, "omoto")
    assert push(client, omoto_body(MAX_DEPTH + 1)).status_code == 400
    r = push(client, omoto_body(MAX_DEPTH))
    expect(r, 200, {"status": "success"})
    before = client.get("/__sim/state").get_json()
    assert before["omoto"]["responses"][0]["namevaluemap"]["deep"] == nest(MAX_DEPTH - 2)
    after = restarted(app, tmp_path).test_client()
    assert after.get("/__sim/state").get_json() == before
    # and the state document a dump gives loads back through the control plane
    again = after.put("/__sim/state", data=json.dumps(before), content_type="application/json")
    assert again.status_code == 200, again.get_json()


def test_omoto_customers_with_an_infinite_number_are_parseerror(client, sim):
    sim.put_state(OMOTO, "omoto")
    r = client.post(
        "/omoto/receivecustomerinfo.htm?key=KEY-A",
        data='[{"personalinfo": {"email": "a@b.io", "mobileno": "9835132376"}, "n": 1e999}]',
        content_type="application/json",
    )
    expect(r, 400, PARSEERROR)


def test_antcrm_item_with_a_lone_surrogate_is_invalid_json_and_not_stored(client, sim):
    sim.put_state(ANTCRM, "antcrm")
    raw = (
        '{"senderUser": "me@acme.vn", "data": [{"actionType": "add-contact", '
        '"data": {"name": "Bad\\ud800"}}]}'
    )
    r = client.post("/antcrm/webhook/listener/wh-1", data=raw, content_type="application/json")
    expect(r, 400, {"success": False, "message": "Invalid JSON"})
    assert sim.state("antcrm")["customers"] == []


def test_crmcom_body_over_the_depth_limit_is_invalidrequestbody(client):
    body = '{"username": "u", "x": ' + "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH + "}"  # 513 deep
    r = client.post(
        "/crmapi/rest/v2/authentication/token", data=body, content_type="application/json"
    )
    status = r.get_json()["status"]
    assert status["code"] == "COM.CRM.EXCEPTION.GENERAL.INVALIDREQUESTBODYEXCEPTION"
    assert status["description"] == "The JSON is nested too deeply."


def test_botw_form_values_cannot_carry_a_surrogate(client, sim):
    sim.put_state({"api_keys": {"KEY": ["1"]}}, "botw")
    r = client.post(
        "/crm/1",
        data="email=a%ED%A0%80b@example.com",  # a surrogate's UTF-8-like bytes: not UTF-8
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": "Bearer KEY"},
    )
    assert (r.status_code, r.get_json()["message"]) == (
        400,
        "Malformed request: parameters must be UTF-8.",
    )
    assert sim.state("botw")["contacts"] == []


# -- control documents ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, raw, detail",
    [
        ("/__sim/state/botw", '{"api_keys": {"K\\ud800": ["1"]}}', LONE_SURROGATE),
        ("/__sim/state", '{"botw": {"api_keys": {"K": ["\\udfff"]}}}', LONE_SURROGATE),
        (
            "/__sim/state",
            "[" * (CONTROL_MAX_DEPTH + 1) + "]" * (CONTROL_MAX_DEPTH + 1),
            f"the JSON is nested deeper than {CONTROL_MAX_DEPTH} levels",
        ),
        ("/__sim/faults", '{"status": 503, "body": {"m": "\\ud800"}}', LONE_SURROGATE),
    ],
)
def test_control_documents_a_snapshot_cannot_write_are_problems(client, path, raw, detail):
    method = client.post if path.endswith("faults") else client.put
    r = method(path, data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == "Invalid JSON"
    assert r.get_json()["detail"] == detail
    assert client.get("/__sim/state/botw").get_json()["api_keys"] == {}
