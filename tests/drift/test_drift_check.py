"""crmsim drift: scenarios replayed against the "real" vendor (a crmsim process) and against
crmsim in-process; a stand-in that answers one rule differently (a fault rule's one-off
answer) is caught, and each difference named by step, kind and pointer."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.drift import compare, run
from simulator.scenarios import Answer

SCENARIO = {
    "name": "create and find John",
    "given": {"botw": {"api_keys": {"KEY": ["123"]}}},
    "steps": [
        {
            "name": "create",
            "operation": "botw.create_contact",
            "method": "POST",
            "path": "/crm/123",
            "headers": {"Authorization": "Bearer KEY"},
            "form": {"first_name": "John", "email": "john@example.com"},
            "expect": {"status": 201},
        },
        {
            "name": "find",
            "method": "GET",
            "path": "/crm/123",
            "query": {"email": "john@example.com"},
            "headers": {"Authorization": "Bearer KEY"},
            "expect": {
                "status": 200,
                "body": {"data": {"results": [{"contact_id": {"$save": "id"}}]}},
            },
        },
        {
            "name": "update",
            "operation": "botw.update_contact",
            "method": "PUT",
            "path": "/crm/123",
            "headers": {"Authorization": "Bearer KEY"},
            "form": {"id": "${id}", "first_name": "Jack"},
            "expect": {"status": 200},
        },
        {
            "name": "wrong key",
            "operation": "botw.search_contacts",
            "method": "GET",
            "path": "/crm/123",
            "headers": {"Authorization": "Bearer NOPE"},
            "expect": {"status": 401},
        },
    ],
}


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "botw" / "session.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
    return str(path)


def fault(real, rule):
    r = requests.post(real + "/__sim/faults", json=rule, timeout=10)
    assert r.status_code == 201, r.text


def test_an_honest_stand_in_shows_no_drift(real, scenario, tmp_path):
    lines = []
    junit = tmp_path / "drift.xml"
    assert run([scenario], {"botw": real}, junit_path=str(junit), echo=lines.append) == 0
    assert lines == ["crmsim drift: 1 of 1 scenario(s) without drift (4 step(s) compared)"]
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("4", "0")


def test_one_rule_answered_differently_is_caught_precisely(real, scenario, tmp_path):
    # the real vendor's update answers 200 with another message and no status field
    fault(
        real,
        {
            "vendor": "botw",
            "operation": "botw.update_contact",
            "status": 200,
            "body": {"message": "Updated.", "updated": "${request.body.id}"},
        },
    )
    lines = []
    junit = tmp_path / "drift.xml"
    assert run([scenario], {"botw": real}, junit_path=str(junit), echo=lines.append) == 1
    out = "\n".join(lines)
    lines = out.splitlines()
    rows = [line.split() for line in lines[2:-1]]
    # step 2 only, and its differences by kind and pointer
    assert {(r[1], r[2], r[3], r[4]) for r in rows} == {
        ("2", "botw.update_contact", "schema", "/body"),
        ("2", "botw.update_contact", "schema", "/body/status"),
        ("2", "botw.update_contact", "body", "/body/message"),
        ("2", "botw.update_contact", "body", "/body/updated"),
        ("2", "botw.update_contact", "body", "/body/status"),
    }, out
    assert lines[0].split() == [
        "scenario",
        "step",
        "operation",
        "kind",
        "pointer",
        "real",
        "crmsim",
        "detail",
    ]
    message_row = next(line for line in lines if "/body/message" in line)
    assert '"Updated."' in message_row and '"Contact successfully updated."' in message_row
    assert lines[-1] == "crmsim drift: 0 of 1 scenario(s) without drift (4 step(s) compared)"
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["step 2 (update)"]
    failure = failed[0].find("failure")
    assert failure.get("message") == "5 difference(s) from the real vendor"
    assert "body /body/message: the values differ" in failure.text


def test_a_different_status_and_error_envelope(real, scenario):
    fault(
        real,
        {
            "vendor": "botw",
            "operation": "botw.search_contacts",
            "status": 403,
            "body": {"error": {"code": "forbidden"}},
        },
    )
    lines = []
    assert run([scenario], {"botw": real}, echo=lines.append) == 1
    lines = "\n".join(lines).splitlines()
    rows = {tuple(line.split()[1:5]) for line in lines[2:-1]}
    # the first search (step 1) answers 403 on the real side, in another envelope
    assert ("1", "botw.search_contacts", "status", "/status") in rows
    assert ("1", "botw.search_contacts", "envelope", "/body/error") in rows
    assert ("1", "botw.search_contacts", "envelope", "/body/status") in rows
    assert ("1", "botw.search_contacts", "schema", "/body") in rows
    assert not any(r[1] == "botw.create_contact" for r in rows)


def test_compare_normalises_generated_values_and_reads_ignore():
    real = Answer(200, {}, {"at": "2024-06-01 12:00:00", "uid": "l-12345678", "id": 5})
    sim = Answer(200, {}, {"at": "2026-12-02 03:00:00", "uid": "l-87654321", "id": 1})
    drifts = compare(None, real, sim)
    assert [(d.kind, d.pointer, d.real, d.crmsim) for d in drifts] == [("body", "/body/id", 5, 1)]
    assert compare(None, real, sim, ignore=["id"]) == []
    typed = compare(None, Answer(200, {}, {"id": "5"}), sim, ignore=["id"])
    assert [(d.pointer, d.detail) for d in typed][0] == ("/body/id", "the JSON types differ")
    dropped = compare(None, Answer(None, {}, None, dropped=True), sim)
    assert [d.detail for d in dropped] == ["the real vendor dropped the connection"]


def test_the_command(real, scenario, tmp_path):
    fault(real, {"vendor": "botw", "operation": "botw.create_contact", "status": 500})
    junit = tmp_path / "out.xml"
    result = CliRunner().invoke(
        main, ["drift", "--real", f"botw={real}", "--junit", str(junit), scenario]
    )
    assert result.exit_code == 1, result.output
    assert "status    /status" in result.output
    assert junit.exists()
    result = CliRunner().invoke(main, ["drift", "--real", "crmcom=" + real, scenario])
    assert result.exit_code == 1
    assert "step 0 is for botw: no --real botw=URL" in result.output


SHIPPED = sorted(
    p
    for p in (Path(__file__).parents[2] / "scenarios" / "botw").glob("*.yaml")
    if "$draw" not in p.read_text()
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_botw_scenarios_show_no_drift_against_an_honest_stand_in(real, path):
    """The sandbox holds what the scenario's given says (and runs its clock and seed); the
    scenario's fault rules are crmsim's own misbehaviour, not set up by the drift check."""
    doc = yaml.safe_load(path.read_text())
    assert requests.put(real + "/__sim/seed", json={"seed": doc.get("seed", 0)}).ok
    if "frozen_at" in doc:
        assert requests.put(real + "/__sim/clock", json={"now": doc["frozen_at"]}).ok
    assert requests.put(real + "/__sim/state", json=doc.get("given", {})).ok
    lines = []
    assert run([str(path)], {"botw": real}, echo=lines.append) == 0, "\n".join(lines)
    assert lines[-1].startswith("crmsim drift: 1 of 1 scenario(s) without drift")
