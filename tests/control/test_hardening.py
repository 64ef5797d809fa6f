"""Issue 13's small defects: each test failed before its fix."""

import json

import pytest
from click.testing import CliRunner

from simulator import create_app
from simulator.cli import main
from simulator.scenarios import ScenarioInvalid, loads

H = {"Authorization": "Bearer K"}
OMOTO = {"campaigns": [{"campaign_id": "154", "api_key": "KEY-A"}]}


# -- required-property errors are reported once each ---------------------------------------
def test_state_put_lists_each_missing_property_once(client):
    r = client.put("/__sim/state/botw", json={"contacts": [{"email": "x"}]})
    assert r.status_code == 400
    doc = r.get_json()
    pointers = [e["pointer"] for e in doc["errors"] if e["keyword"] == "required"]
    assert sorted(pointers) == ["/contacts/0/contact_id", "/contacts/0/listing_id"]
    assert len(doc["errors"]) == len({(e["pointer"], e["message"]) for e in doc["errors"]})
    assert doc["detail"].startswith(f"The document has {len(doc['errors'])} error(s)")


def test_omoto_violations_count_each_missing_property_once(client, sim):
    sim.put_state(OMOTO, "omoto")
    r = client.post("/omoto/receivecustomerinfo.htm?key=KEY-A", json=[{"qualifyinginfo": [{}]}])
    [entry] = sim.journal()
    pointers = [v["pointer"] for v in entry["violations"]]
    assert r.headers["X-Sim-Violations"] == str(len(pointers))
    assert len(pointers) == len(set(pointers))
    assert sorted(p for p in pointers if "qualifyinginfo" in p) == [
        "/0/qualifyinginfo/0/name",
        "/0/qualifyinginfo/0/value",
    ]


def test_scenario_check_lists_each_missing_property_once():
    text = (
        "name: x\ngiven:\n  botw: {contacts: [{email: x}]}\n"
        "steps:\n  - {method: GET, path: /x, expect: {status: 404}}\n"
    )
    with pytest.raises(ScenarioInvalid) as info:
        loads(text, "s.yaml")
    pointers = [p.pointer for p in info.value.problems if "missing" in p.message]
    assert sorted(pointers) == [
        "/given/botw/contacts/0/contact_id",
        "/given/botw/contacts/0/listing_id",
    ]


# -- fault rules' headers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "pointer"),
    [
        ({"X-A": "a\r\nSet-Cookie: x=1"}, "/headers/X-A"),
        ({"X-A": "a\nb"}, "/headers/X-A"),
        ({"X-A": "a\x00"}, "/headers/X-A"),
        ({"X-A": "\u20ac"}, "/headers/X-A"),
        ({"X A": "v"}, "/headers"),
        ({"X-A\r\n": "v"}, "/headers"),
    ],
)
def test_fault_header_that_cannot_go_on_the_wire_is_refused(client, headers, pointer):
    r = client.post("/__sim/faults", json={"status": 503, "headers": headers})
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert [e["pointer"] for e in r.get_json()["errors"]] == [pointer]
    assert client.get("/__sim/faults").get_json()["faults"] == []
    # and vendor requests are unaffected
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 403


def test_fault_header_with_latin1_value_is_kept(client):
    r = client.post("/__sim/faults", json={"status": 503, "headers": {"X-A": "caf\u00e9\tok"}})
    assert r.status_code == 201
    assert client.post("/crm/1", data={"email": "a@b.co"}).status_code == 503


# -- CRM.COM token expiry past the year 9999 -------------------------------------------------
CRMCOM = {
    "users": [{"username": "u", "password": "p", "organisation": "ACME"}],
    "tokens": [{"token": "T1", "issued_at": "9999-12-31T23:00:00Z"}],
}
SHOW = "/crmapi/rest/v2/contact_information/show?token=T1&contact_information_identifier=number=X"


def test_crmcom_token_expiry_past_9999_is_clamped_not_a_500(client, sim):
    sim.put_state(CRMCOM, "crmcom")
    sim.freeze("9999-12-31T23:30:00Z")  # 23:00 + 7200 s is past the year 9999
    r = client.get(SHOW)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "INVALIDTOKEN" not in r.get_data(as_text=True)


def test_crmcom_huge_ttl_is_refused_and_the_largest_is_served(client, sim):
    r = client.put("/__sim/state/crmcom", json={**CRMCOM, "token_ttl_seconds": 10**15})
    assert r.status_code == 400
    assert [e["pointer"] for e in r.get_json()["errors"]] == ["/token_ttl_seconds"]
    sim.put_state({**CRMCOM, "token_ttl_seconds": 3153600000}, "crmcom")
    sim.freeze("9999-12-31T23:00:01Z")
    r = client.get(SHOW)
    assert r.status_code == 200 and "INVALIDTOKEN" not in r.get_data(as_text=True)


# -- namespace names -----------------------------------------------------------------------
@pytest.mark.parametrize("name", [".", "..", "...", "_", "-.-"])
def test_namespace_names_without_a_letter_or_digit_are_not_namespaces(client, name):
    seed = client.get("/__sim/seed").get_json()["seed"]
    r = client.put(f"/__ns/{name}/__sim/seed", json={"seed": seed + 1})
    assert r.status_code == 404
    assert client.get("/__sim/seed").get_json()["seed"] == seed
    assert name not in client.get("/__sim/namespaces").get_json()["namespaces"]


def test_dot_dot_namespace_does_not_reach_the_default_namespace(client):
    before = client.get("/__sim/seed").get_json()["seed"]
    assert client.put("/__ns/../__sim/seed", json={"seed": before + 1}).status_code == 404
    assert client.put("/__ns/%2e%2e/__sim/seed", json={"seed": before + 1}).status_code == 404
    assert client.get("/__sim/seed").get_json()["seed"] == before
    assert client.put("/__ns/a.b/__sim/seed", json={"seed": 5}).status_code == 200


# -- scenarios: given.file stays in the scenario's folder -------------------------------------
GIVEN = (
    "name: x\ngiven:\n  file: {}\nsteps:\n  - {{method: GET, path: /x, expect: {{status: 404}}}}\n"
)


@pytest.mark.parametrize("where", ["../outside.json", "sub/../../outside.json", "ABS"])
def test_given_file_outside_the_scenario_folder_is_refused(tmp_path, where):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"botw": {"api_keys": {"K": ["1"]}}}))
    name = str(outside) if where == "ABS" else where
    with pytest.raises(ScenarioInvalid) as info:
        loads(GIVEN.format(json.dumps(name)), "s.yaml", folder)
    [p] = info.value.problems
    assert p.pointer == "/given/file" and "inside the scenario's folder" in p.message


def test_given_file_in_a_subfolder_is_loaded(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "s.json").write_text(json.dumps({"botw": {"api_keys": {"K": ["1"]}}}))
    s = loads(GIVEN.format("sub/s.json"), "s.yaml", tmp_path)
    assert s.given == {"botw": {"api_keys": {"K": ["1"]}}}


# -- replay in process: a query in the step's path -------------------------------------------
STEP_WITH_QUERY = """\
name: query in path
given:
  omoto: {campaigns: [{campaign_id: "154", api_key: KEY-A}]}
steps:
  - method: POST
    path: /omoto/receivecustomerinfo.htm?key=KEY-A
    json: []
    expect: {status: 200}
  - method: POST
    path: /omoto/receivecustomerinfo.htm?key=nope
    query: {extra: "1"}
    json: []
    expect: {status: 401}
"""


def test_replay_in_process_takes_a_query_written_in_the_path(tmp_path):
    (tmp_path / "q.yaml").write_text(STEP_WITH_QUERY)
    result = CliRunner().invoke(main, ["replay", str(tmp_path / "q.yaml")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert "PASS " in result.output


# -- no internals in a control-plane 500 -------------------------------------------------------
def test_control_plane_500_shows_no_internals(monkeypatch):
    app = create_app({"seed": 1})

    def boom(*_a, **_k):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(app.extensions["crmsim"].namespaces, "names", boom)
    r = app.test_client().get("/__sim/namespaces")
    assert r.status_code == 500
    assert r.mimetype == "application/problem+json"
    text = r.get_data(as_text=True)
    assert "secret" not in text and "RuntimeError" not in text


# -- the OpenAPI document says what the control plane does --------------------------------------
def test_openapi_documents_the_201_of_a_new_fault_rule(client):
    doc = client.get("/__sim/openapi.json").get_json()
    responses = doc["paths"]["/__sim/faults"]["post"]["responses"]
    assert "201" in responses and "200" not in responses
    assert client.post("/__sim/faults", json={"status": 503}).status_code == 201


def test_openapi_clock_time_is_a_date_time_the_clock_accepts(client):
    doc = client.get("/__sim/openapi.json").get_json()
    now = doc["components"]["schemas"]["sim.clock"]["properties"]["now"]
    assert now["format"] == "date-time"
    r = client.put("/__sim/clock", json={"now": ""})
    assert r.status_code == 400
    assert {e["keyword"] for e in r.get_json()["errors"]} <= {"format", "pattern"}
    for at in (
        "0001-01-01T00:00:00Z",
        "2024-06-01T12:00:00.123456789+05:30",
        "2024-06-01t12:00:00z",
    ):
        assert client.put("/__sim/clock", json={"now": at}).status_code == 200, at
    r = client.put("/__sim/clock", json={"now": "0000-01-01T00:00:00Z"})
    assert r.status_code == 400 and len(r.get_json()["errors"]) == 1
    assert client.put("/__sim/clock", json={"now": None}).status_code == 200
    # past the year 9999 once in UTC: refused, never a 500
    r = client.put("/__sim/clock", json={"now": "9999-12-31T23:00:00-05:00"})
    assert r.status_code == 400


def test_openapi_documents_each_vendor_state_body(client):
    doc = client.get("/__sim/openapi.json").get_json()
    put = doc["paths"]["/__sim/state/botw"]["put"]
    assert put["requestBody"]["required"] is True
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/botw.state"
    }
    assert "/__sim/state/{vendor}" not in doc["paths"]
    r = client.put("/__sim/state/botw", data=b"", content_type="application/json")
    assert r.status_code == 400
