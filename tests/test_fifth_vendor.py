"""A fifth vendor from a package under tests/ (tests/toy_vendor), added with one registry
line and nothing else in simulator/: served, journaled, contract-checked, in the OpenAPI
document, in the state document and selectable by fault rules."""

from pathlib import Path

import pytest
import toy_vendor

from simulator import create_app
from simulator.vendors import VENDORS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(VENDORS, "toy", toy_vendor.VENDOR)  # the one registry line
    app = create_app({"seed": 3, "validate_responses": True})
    yield app.test_client()
    assert app.extensions["crmsim"].response_problems == []


def test_the_toy_vendor_is_served_and_journaled(toy):
    r = toy.post("/toy/notes", json={"text": " hello "})
    assert (r.status_code, r.get_json()) == (201, {"id": 1, "text": "hello"})
    assert toy.get("/toy/notes/1").get_json() == {"id": 1, "text": "hello"}
    r = toy.get("/toy/notes/9")
    assert (r.status_code, r.get_json()) == (404, {"error": "No such note."})
    entries = toy.get("/__sim/journal", query_string={"vendor": "toy"}).get_json()["entries"]
    assert [(e["operation"], e["response"]["status"]) for e in entries] == [
        ("toy.create_note", 201),
        ("toy.get_note", 200),
        ("toy.get_note", 404),
    ]
    [sent] = toy.get("/__sim/outbox", query_string={"vendor": "toy"}).get_json()["entries"]
    assert (sent["kind"], sent["note_id"]) == ("note", 1)


def test_an_unknown_route_gets_the_toy_vendors_own_error(toy):
    r = toy.post("/toy/nothing", json={})
    assert (r.status_code, r.get_json()) == (404, {"error": "Not found."})


def test_the_toy_vendors_requests_are_contract_checked(toy):
    r = toy.post("/toy/notes", json={"text": "", "colour": "red"})
    assert (r.status_code, r.get_json()) == (400, {"error": "text is required."})
    assert r.headers["X-Sim-Violations"] == "2"
    [entry] = toy.get("/__sim/journal").get_json()["entries"]
    assert sorted(v["pointer"] for v in entry["violations"]) == ["", "/text"]
    toy.put("/__sim/settings", json={"strict_contract": True})
    r = toy.post("/toy/notes", json={"text": "fine", "colour": "red"})
    assert r.status_code == 422 and r.get_json()["operation"] == "toy.create_note"


def test_the_toy_vendor_is_in_the_openapi_document(toy):
    doc = toy.get("/__sim/openapi.json").get_json()
    post = doc["paths"]["/toy/notes"]["post"]
    assert post["operationId"] == "toy.create_note"
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/toy.create_note.request"
    }
    assert set(post["responses"]) == {"201", "400", "422"}
    assert doc["paths"]["/toy/notes/{note_id}"]["get"]["operationId"] == "toy.get_note"
    assert "toy.state" in doc["components"]["schemas"]


def test_the_toy_vendor_has_state_and_fault_rules(toy):
    r = toy.put("/__sim/state/toy", json={"notes": [{"id": 4, "text": "kept"}]})
    assert r.status_code == 200, r.get_json()
    assert toy.get("/__sim/state").get_json()["toy"]["notes"][0]["text"] == "kept"
    bad = toy.put("/__sim/state", json={"toy": {"notes": [{"id": 0}]}})
    assert bad.status_code == 400
    r = toy.post("/__sim/faults", json={"vendor": "toy", "status": 503})
    assert r.status_code == 201, r.get_json()
    r = toy.post("/toy/notes", json={"text": "x"})
    assert (r.status_code, r.get_json()) == (503, {"error": "Service Unavailable"})


def test_without_the_registry_line_there_is_no_toy_vendor():
    r = create_app({"seed": 3}).test_client().post("/toy/notes", json={"text": "x"})
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_nothing_in_simulator_knows_the_toy_vendor():
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "simulator").rglob("*.py")]
    assert not [s for s in sources if "toy_vendor" in s or '"toy"' in s]
