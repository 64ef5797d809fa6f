"""Control-plane tests: namespaces, reset, state, clock, seed, settings, journal, outbox."""

import pytest
from helpers import expect

KEY = "K"
H = {"Authorization": f"Bearer {KEY}"}
BOTW = {"api_keys": {KEY: ["1"]}}


def create(client, prefix="", email="a@b.co"):
    r = client.post(f"{prefix}/crm/1", data={"email": email}, headers=H)
    assert r.status_code == 201, r.get_json()


def test_health(client):
    r = client.get("/__sim/health")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ok"
    assert r.get_json()["version"]


# -- namespaces ---------------------------------------------------------------------------
def test_namespaces_are_isolated(client, sim):
    client.put("/__ns/t1/__sim/state/botw", json=BOTW)
    create(client, "/__ns/t1")
    assert client.get("/__ns/t1/__sim/state/botw").get_json()["contacts"][0]["email"] == "a@b.co"
    assert sim.state("botw")["contacts"] == []
    assert client.get("/__ns/t2/__sim/state/botw").get_json()["contacts"] == []
    # the same key means nothing in another namespace
    assert client.post("/__ns/t2/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 403
    assert [
        e["response"]["status"] for e in client.get("/__ns/t1/__sim/journal").get_json()["entries"]
    ] == [201]
    assert [
        e["response"]["status"] for e in client.get("/__ns/t2/__sim/journal").get_json()["entries"]
    ] == [403]
    assert sim.journal() == []


def test_namespace_reset_does_not_touch_others(client, sim):
    for ns in ("a", "b"):
        client.put(f"/__ns/{ns}/__sim/state/botw", json=BOTW)
        create(client, f"/__ns/{ns}")
    client.post("/__ns/a/__sim/reset")
    assert client.get("/__ns/a/__sim/state/botw").get_json()["contacts"] == []
    assert len(client.get("/__ns/b/__sim/state/botw").get_json()["contacts"]) == 1


def test_namespaces_list_and_drop(client):
    client.put("/__ns/alpha/__sim/seed", json={"seed": 1})
    client.put("/__ns/beta.1/__sim/state/botw", json=BOTW)
    names = client.get("/__sim/namespaces").get_json()["namespaces"]
    assert {"alpha", "beta.1"} <= set(names)
    r = client.delete("/__ns/beta.1/__sim")
    assert r.status_code == 200
    assert "beta.1" not in client.get("/__sim/namespaces").get_json()["namespaces"]
    # a dropped namespace comes back empty on next use
    assert client.get("/__ns/beta.1/__sim/state/botw").get_json()["api_keys"] == {}


@pytest.mark.parametrize("name", ["bad name", "x" * 65, "a/b"])
def test_invalid_namespace_names_are_not_namespaces(client, name):
    r = client.get(f"/__ns/{name}/__sim/health")
    assert r.status_code == 404


def test_vendor_routes_work_under_a_namespace_prefix(client):
    client.put("/__ns/n-1_x/__sim/state/botw", json=BOTW)
    create(client, "/__ns/n-1_x")
    r = client.get("/__ns/n-1_x/crm/1?email=a@b.co", headers=H)
    assert r.status_code == 200
    entry = client.get("/__ns/n-1_x/__sim/journal").get_json()["entries"][-1]
    assert entry["request"]["path"] == "/crm/1"


# -- reset --------------------------------------------------------------------------------
def test_reset_empties_everything(client, sim):
    sim.put_state({"botw": BOTW})
    create(client)
    sim.freeze("2024-01-01T00:00:00Z")
    r = client.post("/__sim/reset")
    expect(r, 200, {"status": "ok"})
    assert sim.state("botw") == {"api_keys": {}, "blacklist": {}, "contacts": []}
    assert sim.journal() == []
    assert client.get("/__sim/clock").get_json()["frozen"] is False


def test_reset_some_vendors_keeps_journal(client, sim):
    sim.put_state({"botw": BOTW})
    create(client)
    r = client.post("/__sim/reset", json={"vendors": ["botw"]})
    assert r.status_code == 200
    assert sim.state("botw")["contacts"] == []
    assert len(sim.journal()) == 1


def test_reset_unknown_vendor_is_a_problem(client, sim):
    sim.put_state({"botw": BOTW})
    r = client.post("/__sim/reset", json={"vendors": ["nope"]})
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["errors"][0]["pointer"] == "/vendors/0"
    assert sim.state("botw")["api_keys"] == {KEY: ["1"]}


def test_reset_restarts_id_sequences(client, sim):
    for _ in range(2):
        client.post("/__sim/reset")
        sim.put_state({"botw": BOTW})
        create(client)
        assert sim.state("botw")["contacts"][0]["contact_id"] == 1


# -- state --------------------------------------------------------------------------------
FULL = {
    "botw": {
        "api_keys": {"K1": ["1", "2"]},
        "blacklist": {"1": {"emails": ["x@y.co"], "phones": ["123"]}},
        "contacts": [
            {
                "contact_id": 5,
                "listing_id": "1",
                "unique_id": "l-1",
                "first_name": "A",
                "last_name": None,
                "email": "a@b.co",
                "phone": "5551234567",
                "created_date": "2024-01-01 00:00:00",
                "ip_address": "10.0.0.1",
                "source": "api",
                "status": "active",
            },
        ],
    }
}


def test_state_round_trip(client, sim):
    put = sim.put_state(FULL)
    assert put["botw"] == FULL["botw"]
    got = sim.state()
    assert got["botw"] == FULL["botw"]
    sim.put_state(got)
    assert sim.state() == got


def test_state_fills_defaults(client, sim):
    sim.freeze("2024-02-03T04:05:06Z")
    doc = sim.put_state({"botw": {"contacts": [{"contact_id": 1, "listing_id": "9"}]}})
    c = doc["botw"]["contacts"][0]
    assert c["source"] == "api" and c["status"] == "active"
    assert c["created_date"] == "2024-02-03 04:05:06"
    assert c["unique_id"].startswith("l-")
    assert sim.state() == doc


def test_state_errors_name_each_field_and_change_nothing(client, sim):
    sim.put_state(FULL)
    bad = {
        "botw": {
            "api_keys": {"K": "1"},
            "contacts": [{"contact_id": 0, "listing_id": "1", "email": 5}],
        }
    }
    r = client.put("/__sim/state", json=bad)
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/botw/api_keys/K", "/botw/contacts/0/contact_id", "/botw/contacts/0/email"}
    assert all(e["message"] and e["keyword"] for e in body["errors"])
    assert sim.state()["botw"] == FULL["botw"]


def test_state_rule_errors_have_pointers_and_change_nothing(client, sim):
    sim.put_state(FULL)
    dup = {
        "botw": {
            "contacts": [{"contact_id": 1, "listing_id": "1"}, {"contact_id": 1, "listing_id": "2"}]
        }
    }
    r = client.put("/__sim/state", json=dup)
    assert r.status_code == 400
    assert [e["pointer"] for e in r.get_json()["errors"]] == ["/botw/contacts/1/contact_id"]
    assert sim.state()["botw"] == FULL["botw"]


def test_state_per_vendor(client, sim):
    r = client.put("/__sim/state/botw", json=FULL["botw"])
    assert r.status_code == 200
    assert sim.state("botw") == FULL["botw"]
    r = client.put("/__sim/state/botw", json={"contacts": [{"listing_id": "1"}]})
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["pointer"] == "/contacts/0/contact_id"
    assert sim.state("botw") == FULL["botw"]


@pytest.mark.parametrize("path", ["/__sim/state", "/__sim/state/botw"])
@pytest.mark.parametrize("prefer", ["return=minimal", "respond-async, RETURN=minimal"])
def test_a_state_load_that_prefers_a_minimal_answer_gets_204_and_loads(client, sim, path, prefer):
    doc = FULL if path == "/__sim/state" else FULL["botw"]
    r = client.put(path, json=doc, headers={"Prefer": prefer})
    assert (r.status_code, r.data) == (204, b"")
    assert r.headers["Preference-Applied"] == "return=minimal"
    assert sim.state()["botw"] == FULL["botw"]


def test_an_invalid_state_is_refused_whatever_the_client_prefers(client, sim):
    r = client.put(
        "/__sim/state/botw", json={"contacts": [{}]}, headers={"Prefer": "return=minimal"}
    )
    assert r.status_code == 400


def test_other_preferences_get_the_loaded_state(client):
    r = client.put(
        "/__sim/state/botw", json=FULL["botw"], headers={"Prefer": "return=representation"}
    )
    assert r.status_code == 200 and r.get_json() == FULL["botw"]
    assert "Preference-Applied" not in r.headers


def test_state_unknown_vendor_and_unknown_keys(client):
    assert client.get("/__sim/state/nope").status_code == 404
    r = client.put("/__sim/state", json={"nope": {}})
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["keyword"] == "additionalProperties"


@pytest.mark.parametrize("body", [b"{", b"[1,", b"NaN", b"\xff"])
def test_state_invalid_json_is_a_problem(client, body):
    r = client.put("/__sim/state", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["title"] == "Invalid JSON"


def test_state_vendor_left_out_is_empty(client, sim):
    sim.put_state(FULL)
    sim.put_state({})
    assert sim.state("botw") == {"api_keys": {}, "blacklist": {}, "contacts": []}


# -- clock --------------------------------------------------------------------------------
def test_clock_freeze_advance_and_release(client, sim):
    r = client.get("/__sim/clock").get_json()
    assert r["frozen"] is False and r["now"].endswith("Z")
    r = client.put("/__sim/clock", json={"now": "2024-06-01T12:00:00Z"})
    assert r.get_json() == {"now": "2024-06-01T12:00:00Z", "frozen": True}
    r = client.post("/__sim/clock/advance", json={"seconds": 3600})
    assert r.get_json() == {"now": "2024-06-01T13:00:00Z", "frozen": True}
    sim.put_state({"botw": BOTW})
    create(client)
    assert sim.state("botw")["contacts"][0]["created_date"] == "2024-06-01 13:00:00"
    r = client.put("/__sim/clock", json={"now": None})
    assert r.get_json()["frozen"] is False


def test_clock_accepts_offsets_and_rejects_garbage(client):
    r = client.put("/__sim/clock", json={"now": "2024-06-01T14:00:00+02:00"})
    assert r.get_json()["now"] == "2024-06-01T12:00:00Z"
    r = client.put("/__sim/clock", json={"now": "yesterday"})
    assert r.status_code == 400 and r.get_json()["errors"][0]["pointer"] == "/now"
    r = client.post("/__sim/clock/advance", json={"seconds": -1})
    assert r.status_code == 400 and r.get_json()["errors"][0]["pointer"] == "/seconds"
    r = client.put("/__sim/clock", json={})
    assert r.get_json()["errors"][0] == {
        "pointer": "/now",
        "message": "missing required property 'now'",
        "keyword": "required",
    }


def test_clock_advance_on_a_running_clock_moves_it(client):
    before = client.get("/__sim/clock").get_json()["now"]
    after = client.post("/__sim/clock/advance", json={"seconds": 86400 * 365}).get_json()
    assert after["frozen"] is False
    assert after["now"][:4] > before[:4]


# -- seed ---------------------------------------------------------------------------------
def unique_ids(client, sim, seed):
    client.post("/__sim/reset")
    assert client.put("/__sim/seed", json={"seed": seed}).get_json() == {"seed": seed}
    sim.put_state({"botw": BOTW})
    for i in range(3):
        create(client, email=f"{i}@b.co")
    return [c["unique_id"] for c in sim.state("botw")["contacts"]]


def test_seed_makes_ids_deterministic(client, sim):
    first = unique_ids(client, sim, 42)
    assert unique_ids(client, sim, 42) == first
    assert unique_ids(client, sim, 43) != first
    assert client.get("/__sim/seed").get_json() == {"seed": 43}


def test_seed_is_deterministic_across_apps():
    from simulator import create_app

    results = []
    for _ in range(2):
        c = create_app().test_client()
        c.put("/__sim/seed", json={"seed": 5})
        c.put("/__sim/state/botw", json=BOTW)
        create(c)
        results.append(c.get("/__sim/state/botw").get_json()["contacts"][0]["unique_id"])
    assert results[0] == results[1]


def test_seed_rejects_non_integers(client):
    r = client.put("/__sim/seed", json={"seed": "x"})
    assert r.status_code == 400 and r.get_json()["errors"][0]["pointer"] == "/seed"


# -- settings -----------------------------------------------------------------------------
def test_settings_defaults_and_partial_update(client):
    s = client.get("/__sim/settings").get_json()
    assert s == {
        "strict_contract": False,
        "journal_limit": 1000,
        "outbox_limit": 10000,
        "journal_max_bytes": 16 * 1024 * 1024,
        "outbox_max_bytes": 16 * 1024 * 1024,
        "latency": {},
    }
    r = client.put("/__sim/settings", json={"journal_limit": 2})
    assert r.get_json() == {**s, "journal_limit": 2}
    r = client.put("/__sim/settings", json={"journal_limit": 0, "bogus": 1})
    assert r.status_code == 400
    assert {e["pointer"] for e in r.get_json()["errors"]} == {"/journal_limit", ""}


def test_journal_limit_keeps_the_newest(client, sim):
    client.put("/__sim/settings", json={"journal_limit": 3})
    for i in range(5):
        client.get(f"/crm/1?email={i}@b.co")
    entries = sim.journal()
    assert len(entries) == 3
    assert [e["request"]["query"]["email"] for e in entries] == ["2@b.co", "3@b.co", "4@b.co"]


# -- journal ------------------------------------------------------------------------------
def test_journal_records_and_filters(client, sim):
    sim.put_state({"botw": BOTW})
    create(client)
    client.get("/crm/1?email=a@b.co", headers=H)
    client.get("/crm/1?email=a@b.co")
    client.get("/nowhere/at/all")
    all_entries = sim.journal()
    assert len(all_entries) == 4
    first = all_entries[0]
    assert set(first) == {
        "id",
        "at",
        "vendor",
        "operation",
        "request",
        "response",
        "duration_ms",
        "violations",
        "fault",
        "outcomes",
    }
    assert first["outcomes"] is None  # only AntCRM listener requests have items
    assert first["request"]["method"] == "POST"
    assert first["request"]["headers"]["Authorization"] == "Bearer K"
    assert first["response"]["headers"]["Content-Type"] == "application/json"
    assert first["duration_ms"] >= 0
    assert [e["operation"] for e in sim.journal(operation="botw.search_contacts")] == [
        "botw.search_contacts"
    ] * 2
    assert [e["response"]["status"] for e in sim.journal(status=403)] == [403]
    assert len(sim.journal(vendor="botw")) == 3
    assert [e["id"] for e in sim.journal(limit=2)] == [e["id"] for e in all_entries[-2:]]
    unmatched = all_entries[-1]
    assert (unmatched["vendor"], unmatched["operation"], unmatched["response"]["status"]) == (
        None,
        None,
        404,
    )
    one = client.get(f"/__sim/journal/{first['id']}").get_json()
    assert one == first


def test_journal_unmatched_route_names_closest_routes(client):
    r = client.get("/__sim/stat")
    assert r.status_code == 404
    assert "/__sim/state" in r.get_json()["closest_routes"]
    r = client.post("/cr/1")
    assert r.get_json()["closest_routes"][0] == "/crm/<listing_id>"


def test_journal_does_not_record_control_calls(client, sim):
    client.get("/__sim/state")
    client.get("/__sim/health")
    assert sim.journal() == []


def test_journal_entry_unknown_and_clear(client, sim):
    client.get("/crm/1")
    assert client.get("/__sim/journal/999").status_code == 404
    assert client.delete("/__sim/journal").status_code == 200
    assert sim.journal() == []


@pytest.mark.parametrize("query", ["status=abc", "limit=-1", "status=99"])
def test_journal_bad_filters_are_problems(client, query):
    r = client.get(f"/__sim/journal?{query}")
    assert r.status_code == 400


# -- outbox -------------------------------------------------------------------------------
def test_outbox_empty_and_clear(client, sim):
    assert client.get("/__sim/outbox").get_json() == {"entries": [], "count": 0}
    assert client.delete("/__sim/outbox").get_json() == {"status": "ok"}


# -- GET never changes anything -----------------------------------------------------------
def test_control_gets_change_nothing(client, sim):
    sim.put_state(FULL)
    before = sim.state()
    for path in (
        "/__sim/state",
        "/__sim/state/botw",
        "/__sim/clock",
        "/__sim/seed",
        "/__sim/settings",
        "/__sim/journal",
        "/__sim/outbox",
        "/__sim/namespaces",
        "/__sim/health",
    ):
        assert client.get(path).status_code == 200
    assert sim.state() == before


def test_control_unknown_method_is_a_problem(client):
    r = client.post("/__sim/state")
    assert r.status_code == 405
    assert r.mimetype == "application/problem+json"


def test_body_limit_applies_to_vendor_routes_not_control_documents():
    from simulator import create_app

    c = create_app({"max_body_bytes": 2048}).test_client()
    contacts = [{"contact_id": i, "listing_id": "1", "first_name": "x" * 50} for i in range(1, 100)]
    r = c.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}, "contacts": contacts})
    assert r.status_code == 200
    r = c.post("/crm/1", data={"email": "a@b.co", "first_name": "x" * 4096}, headers=H)
    assert r.status_code == 413


def test_validate_responses_catches_answers_outside_their_schema(monkeypatch):
    import jsonschema_rs
    from jsonschema import Draft7Validator

    from simulator import create_app

    app = create_app({"validate_responses": True})
    sim = app.extensions["crmsim"]
    c = app.test_client()
    c.put("/__sim/state/botw", json=BOTW)
    create(c)
    assert sim.response_problems == []
    # the schemas are shared by every app of the process: patch, then restore
    monkeypatch.setitem(
        sim.schemas._validators,
        "botw/create_contact.response.json",
        Draft7Validator({"type": "object", "required": ["nope"]}),
    )
    # and the Rust fast path, which answers first when it finds the document valid
    monkeypatch.setitem(
        sim.schemas._fast,
        "botw/create_contact.response.json",
        jsonschema_rs.Draft7Validator({"type": "object", "required": ["nope"]}),
    )
    create(c)
    [problem] = sim.response_problems
    assert problem["operation"] == "botw.create_contact" and problem["status"] == 201
    assert problem["problem"][0][0]["pointer"] == "/nope"
