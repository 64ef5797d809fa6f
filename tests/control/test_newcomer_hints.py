"""What tells a newcomer what is going on, beside the answers and never in them: the
X-Sim-Hint header on a vendor's error when no state is loaded for it, and ?pretty on the
control plane (docs/control-plane.md, "Hints for people")."""

import json

import pytest

BOTW_STATE = {"api_keys": {"KEY": ["123"]}}
KEY = {"Authorization": "Bearer KEY"}


def test_an_error_on_an_empty_namespace_carries_a_hint_and_the_vendors_own_body(client):
    r = client.post("/crm/123", headers=KEY, data={"email": "a@b.co"})
    assert r.status_code == 403
    assert r.get_json() == {"status": "error", "message": "Invalid API key or unauthorized access."}
    assert r.headers["X-Sim-Hint"] == (
        "no botw state loaded in namespace 'default'; load one with PUT /__sim/state/botw "
        "(or PUT /__sim/state)"
    )


def test_the_hint_names_the_namespace_and_its_control_path(client):
    r = client.post("/__ns/t-1/antcrm/webhook/listener/wh-1", json={"senderUser": "a@b.c"})
    assert r.status_code == 404
    assert "Listener not found" in r.get_data(as_text=True)
    assert r.headers["X-Sim-Hint"].startswith(
        "no antcrm state loaded in namespace 't-1'; load one with PUT /__ns/t-1/__sim/state/antcrm"
    )


@pytest.mark.parametrize("path", ["/__sim/state/botw", "/__sim/state"])
def test_no_hint_once_the_vendors_state_is_loaded(client, path):
    doc = BOTW_STATE if path.endswith("botw") else {"botw": BOTW_STATE}
    assert client.put(path, json=doc).status_code == 200
    assert (
        "X-Sim-Hint" not in client.post("/crm/123", headers={"Authorization": "Bearer NO"}).headers
    )
    assert client.post("/crm/123", headers=KEY, data={"email": "a@b.co"}).status_code == 201


def test_a_success_has_no_hint_and_a_reset_brings_it_back(client):
    client.put("/__sim/state/botw", json=BOTW_STATE)
    assert (
        "X-Sim-Hint" not in client.post("/crm/123", headers=KEY, data={"email": "a@b.co"}).headers
    )
    client.post("/__sim/reset", json={})
    assert "X-Sim-Hint" in client.post("/crm/123", headers=KEY, data={"email": "a@b.co"}).headers


def test_crmcoms_refusal_with_http_200_carries_the_hint_too(client):
    r = client.post("/crmapi/rest/v2/authentication/token", json={"username": "u"})
    assert r.status_code == 200 and r.get_json()["status"]["code"].startswith("COM.CRM.")
    assert r.headers["X-Sim-Hint"].startswith("no crmcom state loaded in namespace 'default'")


def test_an_answer_of_a_fault_rule_has_no_hint(client):
    client.post("/__sim/faults", json={"vendor": "botw", "status": 201, "body": {}})
    r = client.post("/crm/123", headers=KEY, data={"email": "a@b.co"})
    assert r.status_code == 201 and "X-Sim-Hint" not in r.headers


def test_an_empty_part_of_a_whole_state_is_no_state(client):
    client.put("/__sim/state", json={"botw": BOTW_STATE})
    r = client.post("/omoto/receivecustomerinfo.htm?key=K", json=[])
    assert r.headers["X-Sim-Hint"].startswith("no omoto state loaded")


def test_pretty_indents_a_control_answer_and_compact_is_the_default(client):
    compact = client.get("/__sim/health")
    pretty = client.get("/__sim/health?pretty")
    assert b"\n" not in compact.get_data()
    assert pretty.get_data(as_text=True) == json.dumps(compact.get_json(), indent=2) + "\n"
    assert int(pretty.headers["Content-Length"]) == len(pretty.get_data())


def test_pretty_keeps_text_as_utf_8_as_the_compact_answer_does(client):
    doc = {"api_keys": {"K": ["1"]}, "contacts": [{"contact_id": 1, "listing_id": "1"}]}
    doc["contacts"][0]["first_name"] = "Zo\u00eb \u5f20"
    client.put("/__sim/state/botw", json=doc)
    pretty = client.get("/__sim/state/botw?pretty").get_data()
    assert "Zo\u00eb \u5f20".encode() in pretty and b"\\u" not in pretty


def test_pretty_indents_streamed_answers_and_problems(client):
    journal = client.get("/__ns/p/__sim/journal?pretty")
    assert journal.get_data(as_text=True) == '{\n  "entries": [],\n  "count": 0\n}\n'
    problem = client.get("/__sim/nope?pretty")
    assert problem.status_code == 404
    assert problem.get_data(as_text=True).startswith('{\n  "type": "about:blank",\n')


def test_pretty_leaves_vendor_answers_alone(client):
    r = client.get("/crm/123?pretty", headers=KEY)
    assert b"\n" not in r.get_data()
