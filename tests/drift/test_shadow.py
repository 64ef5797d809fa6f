"""serve --shadow: each vendor request also goes to the "real" vendor (a crmsim process) in
the background; the differences land in the journal entry, the caller's answer is crmsim's."""

import time

import pytest
import requests
from _serve import serving
from helpers import wait_until

from simulator import create_app

AUTH = {"Authorization": "Bearer KEY"}
STATE = {"botw": {"api_keys": {"KEY": ["123"]}}}


@pytest.fixture
def shadowed(real):
    """An in-process crmsim shadowing BOTW to ``real``, with the same key and seed."""
    app = create_app({"seed": 0, "shadow": {"botw": real}, "shadow_queue": 2})
    client = app.test_client()
    assert client.put("/__sim/state", json=STATE).status_code == 200
    try:
        yield client, app.extensions["crmsim"].shadow
    finally:
        app.extensions["crmsim"].shadow.close()


def settled(client, n):
    """The journal once its first ``n`` entries have left ``pending``."""

    def done():
        entries = client.get("/__sim/journal").get_json()["entries"]
        if len(entries) >= n and all(e["shadow"] != "pending" for e in entries[:n]):
            return entries
        return None

    return wait_until(done, timeout=20, what="the shadow comparisons")


def create(client, email):
    return client.post("/crm/123", headers=AUTH, data={"first_name": "A", "email": email})


def test_agreeing_answers_leave_an_empty_drift(shadowed):
    client, _ = shadowed
    assert create(client, "a@b.co").status_code == 201
    assert client.get("/crm/123?email=a@b.co", headers=AUTH).status_code == 200
    entries = settled(client, 2)
    assert [(e["shadow"], e["drift"]) for e in entries] == [("compared", []), ("compared", [])]


def test_a_divergent_real_vendor_shows_in_the_entry_not_in_the_answer(shadowed, real):
    client, shadow = shadowed
    rule = {"vendor": "botw", "operation": "botw.create_contact", "status": 409, "body": {"x": 1}}
    assert requests.post(real + "/__sim/faults", json=rule, timeout=10).status_code == 201
    r = create(client, "a@b.co")
    assert r.status_code == 201  # crmsim's answer, whatever the real one says
    assert r.get_json()["status"] == "success"
    [entry] = settled(client, 1)
    assert entry["shadow"] == "compared"
    found = {(d["kind"], d["pointer"]) for d in entry["drift"]}
    assert ("status", "/status") in found
    assert ("envelope", "/body/x") in found
    assert ("envelope", "/body/status") in found
    status = next(d for d in entry["drift"] if d["kind"] == "status")
    assert (status["real"], status["crmsim"]) == (409, 201)
    assert shadow.counts["compared"] == 1


def test_a_full_queue_drops_and_counts_and_never_waits(shadowed, real):
    client, shadow = shadowed
    # the real vendor takes 1.5 s per create: the worker is busy, the queue (2) fills up
    rule = {"vendor": "botw", "operation": "botw.create_contact", "delay_ms": 1500}
    assert requests.post(real + "/__sim/faults", json=rule, timeout=10).status_code == 201
    started = time.monotonic()
    statuses = [create(client, f"u{i}@b.co").status_code for i in range(6)]
    took = time.monotonic() - started
    assert statuses == [201] * 6
    assert took < 1.5, f"the callers waited {took:.2f}s for the real vendor"
    entries = client.get("/__sim/journal").get_json()["entries"]
    dropped = [e for e in entries if e["shadow"] == "dropped"]
    assert len(dropped) >= 3  # at most one in flight and two queued
    assert shadow.counts["dropped"] == len(dropped)
    assert all(e["drift"] is None for e in dropped)


def test_a_fault_answer_is_not_compared(shadowed):
    client, shadow = shadowed
    rule = {"vendor": "botw", "operation": "botw.create_contact", "status": 503}
    assert client.post("/__sim/faults", json=rule).status_code == 201
    assert create(client, "a@b.co").status_code == 503
    [entry] = client.get("/__sim/journal").get_json()["entries"]
    assert entry["shadow"] == "skipped: a fault rule answered"
    assert shadow.counts["queued"] == 0


def test_serve_shadow_through_the_command(real):
    with serving("--shadow", f"botw={real}", "--seed", "0") as (base, _):
        assert requests.put(base + "/__sim/state", json=STATE, timeout=10).status_code == 200
        rule = {"vendor": "botw", "operation": "botw.search_contacts", "status": 401}
        assert requests.post(real + "/__sim/faults", json=rule, timeout=10).status_code == 201
        r = requests.get(base + "/crm/123?email=a@b.co", headers=AUTH, timeout=10)
        assert r.status_code == 404  # nobody found: crmsim's answer, not the real 401

        def compared():
            [entry] = requests.get(base + "/__sim/journal", timeout=10).json()["entries"]
            return entry if entry["shadow"] != "pending" else None

        entry = wait_until(compared, timeout=20, what="the shadow comparison")
        assert entry["shadow"] == "compared"
        status = next(d for d in entry["drift"] if d["kind"] == "status")
        assert (status["real"], status["crmsim"]) == (401, 404)


def test_entries_with_drift_match_the_journal_entry_schema(shadowed, real):
    from simulator.schemas import default_schemas_dir, load

    client, _ = shadowed
    rule = {"vendor": "botw", "operation": "botw.create_contact", "status": 409}
    assert requests.post(real + "/__sim/faults", json=rule, timeout=10).status_code == 201
    create(client, "a@b.co")
    [entry] = settled(client, 1)
    assert entry["drift"]
    assert load(default_schemas_dir()).validate("sim/journal-entry.json", entry) == []
