"""crmsim replay and crmsim record: exit codes, reports, JUnit, targets, parallel runs,
property scenarios shrinking to a plain scenario, and the newcomer's record → replay →
fault workflow."""

import json
import xml.etree.ElementTree as ET

import requests
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenarios import Runner, loads

STORY = """\
name: one contact
given:
  botw: {api_keys: {K: ["1"]}}
frozen_at: "2024-06-01T12:00:00Z"
steps:
  - operation: botw.create_contact
    method: POST
    path: /crm/1
    headers: {Authorization: Bearer K}
    form: {email: a@b.co}
    expect:
      status: 201
    expect_state:
      botw: {contacts: [{contact_id: 1, email: a@b.co, created_date: "2024-06-01 12:00:00"}]}
"""


def replay(*args):
    return CliRunner().invoke(main, ["replay", *args])


def test_replay_passes_and_fails_with_exit_codes_and_junit(tmp_path):
    (tmp_path / "good.yaml").write_text(STORY)
    (tmp_path / "bad.yaml").write_text(
        STORY.replace("email: a@b.co, created", "email: z@b.co, created")
    )
    junit = tmp_path / "out.xml"
    result = replay(str(tmp_path), "--junit", str(junit))
    assert result.exit_code == 1, result.output
    assert "PASS " in result.output and "good.yaml" in result.output
    assert (
        '/expect_state/botw/contacts/0/email: not equal; expected "z@b.co", actual "a@b.co"'
        in result.output
    )
    assert "1 of 2 scenario(s) passed" in result.output
    suite = ET.parse(junit).getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures")) == ("testsuite", "2", "1")
    [failure] = suite.iter("failure")
    assert failure.get("message") == "step 0 (botw.create_contact) failed"
    assert 'expected "z@b.co"' in failure.text
    assert replay(str(tmp_path / "good.yaml")).exit_code == 0


def test_invalid_files_stop_everything_before_it_runs(tmp_path):
    (tmp_path / "good.yaml").write_text(STORY)
    (tmp_path / "bad.yaml").write_text(STORY.replace("method: POST", "method: POTS"))
    result = replay(str(tmp_path))
    assert result.exit_code == 2
    assert "bad.yaml:7: /steps/0/method: expected one of" in result.output
    assert "nothing was run" in result.output and "PASS" not in result.output


def test_an_unreachable_target_is_one_clear_message(tmp_path):
    (tmp_path / "s.yaml").write_text(STORY)
    result = replay(str(tmp_path / "s.yaml"), "--target", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "crmsim replay: crmsim is not reachable at http://127.0.0.1:9 (Connection error);"
        " start one with `crmsim serve` or pass the right --target"
    ]
    assert "Traceback" not in result.output


def test_a_target_that_is_not_crmsim(tmp_path, served):
    (tmp_path / "s.yaml").write_text(STORY)
    result = replay(str(tmp_path / "s.yaml"), "--target", served + "/nothing-here")
    assert result.exit_code == 2 and "it is not a crmsim" in result.output


def test_parallel_replays_never_see_each_other(tmp_path, served):
    for i in range(12):
        (tmp_path / f"s{i:02}.yaml").write_text(STORY.replace("a@b.co", f"p{i}@b.co"))
    for target in ([], ["--target", served]):
        result = replay(str(tmp_path), "--jobs", "6", *target)
        assert result.exit_code == 0, result.output
        assert "12 of 12 scenario(s) passed" in result.output
    # every scenario's namespace was dropped afterwards
    names = requests.get(f"{served}/__sim/namespaces", timeout=5).json()["namespaces"]
    assert not [n for n in names if n.startswith("scn-")]


def test_drop_faults_are_expected_as_dropped(app, served):
    text = (
        STORY.replace("steps:", "faults: [{vendor: botw, drop: true, times: 1}]\nsteps:")
        .replace("    expect:\n      status: 201\n", "    expect: {dropped: true}\n")
        .replace(
            'contacts: [{contact_id: 1, email: a@b.co, created_date: "2024-06-01 12:00:00"}]',
            "contacts: []",
        )
    )
    scenario = loads(text)
    for runner in (Runner(app=app), Runner(target=served)):
        result = runner.run(scenario)
        assert result.ok, result.report()


def test_setup_problems_are_reported_not_raised(app):
    scenario = loads(STORY.replace('frozen_at: "2024-06-01T12:00:00Z"', "frozen_at: yesterday"))
    result = Runner(app=app).run(scenario)
    assert not result.ok and result.steps == []
    assert result.error == (
        "setting up frozen_at failed (400): "
        '/now: expected an RFC 3339 time, years 0001 to 9999, got "yesterday"'
    )


# -- property scenarios -----------------------------------------------------------------------
PROPERTY = """\
name: first names come back as sent
given:
  botw: {api_keys: {K: ["1"]}}
seed: 4
examples: 20
steps:
  - operation: botw.create_contact
    method: POST
    path: /crm/1
    headers: {Authorization: Bearer K}
    form:
      email: a@b.co
      first_name: {$draw: {regex: "[a-z]{1,6}( [a-z]{1,6})?"}}
    expect:
      status: 201
    expect_state:
      botw: {contacts: [{first_name: {$match: "^[a-z]+$"}}]}
"""


def test_a_failing_property_shrinks_to_a_plain_scenario_that_replays(app, tmp_path):
    result = Runner(app=app).run(loads(PROPERTY))
    assert not result.ok and result.examples > 1
    [step] = result.steps
    [difference] = step.differences
    assert difference.pointer == "/expect_state/botw/contacts/0/first_name"
    # the smallest failing example: the shortest name with a space in it
    minimal = yaml.safe_load(result.minimal)
    assert minimal["steps"][0]["form"] == {"email": "a@b.co", "first_name": "a a"}
    assert "examples" not in minimal and minimal["name"].endswith("(smallest failing example)")
    # saved, it is a plain scenario that fails the same way
    (tmp_path / "minimal.yaml").write_text(result.minimal)
    out = replay(str(tmp_path / "minimal.yaml"))
    assert out.exit_code == 1 and '"a a"' in out.output
    assert "runs" not in out.output.splitlines()[0]


def test_a_property_that_holds_runs_its_examples_seeded(app):
    text = PROPERTY.replace('{$match: "^[a-z]+$"}', '"${steps.0.request.form.first_name}"')
    first = Runner(app=app).run(loads(text))
    assert first.ok, first.report()
    assert first.examples >= 20
    seen = []
    runner = Runner(app=app)
    original = runner._run_once

    def spy(scenario, draw, plain=None):
        result = original(scenario, draw, plain)
        seen.append(plain[0]["form"]["first_name"])
        return result

    runner._run_once = spy
    runner.run(loads(text))
    again = list(seen)
    seen.clear()
    runner.run(loads(text))
    assert seen == again  # the same seed draws the same examples


def test_max_examples_caps_a_property(app):
    text = PROPERTY.replace('{$match: "^[a-z]+$"}', "{$type: string}")
    result = Runner(app=app, max_examples=3).run(loads(text))
    assert result.ok and result.examples <= 4


# -- record -----------------------------------------------------------------------------------
def test_record_then_replay_then_a_fault_shows_the_difference(served, tmp_path, monkeypatch):
    """The newcomer's workflow: snapshot, requests with curl (here requests), record,
    replay green in-process and against the server, add a fault rule, see the difference."""
    monkeypatch.chdir(tmp_path)
    ns = f"{served}/__ns/recording"
    requests.delete(f"{ns}/__sim", timeout=5)
    requests.put(f"{ns}/__sim/clock", json={"now": "2024-06-01T12:00:00Z"}, timeout=5)
    requests.put(
        f"{ns}/__sim/state",
        json={
            "botw": {"api_keys": {"KEY": ["123"]}},
            "crmcom": {"users": [{"username": "u", "password": "p", "organisation": "O"}]},
        },
        timeout=5,
    )
    (tmp_path / "start.json").write_text(requests.get(f"{ns}/__sim/state", timeout=5).text)
    key = {"Authorization": "Bearer KEY"}
    requests.post(
        f"{ns}/crm/123",
        headers=key,
        data={"first_name": "John", "email": "john@example.com"},
        timeout=5,
    )
    requests.get(f"{ns}/crm/123", headers=key, params={"email": "john@example.com"}, timeout=5)
    token = requests.post(
        f"{ns}/crmapi/rest/v2/authentication/token",
        json={"username": "u", "password": "p", "organisation": "O"},
        timeout=5,
    ).json()["data"]["token"]
    requests.post(
        f"{ns}/crmapi/rest/v2/contact_information/create",
        json={
            "token": token,
            "type": "PERSON",
            "first_name": "Jane",
            "last_name": "Doe",
            "fields_set": "id,number,name",
        },
        timeout=5,
    )
    # curl -d '{...}' sends JSON as a form: recorded as the raw text it was
    requests.post(
        f"{ns}/antcrm/webhook/listener/none",
        data='{"data": []}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )

    out = CliRunner().invoke(
        main,
        [
            "record",
            "--target",
            served,
            "--namespace",
            "recording",
            "--since-state",
            "start.json",
            "-o",
            "s.yaml",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = yaml.safe_load((tmp_path / "s.yaml").read_text())
    assert doc["given"] == json.loads((tmp_path / "start.json").read_text())
    assert doc["frozen_at"] == "2024-06-01T12:00:00Z"
    steps = doc["steps"]
    assert [s.get("operation") for s in steps] == [
        "botw.create_contact",
        "botw.search_contacts",
        "crmcom.authenticate",
        "crmcom.create_contact_information",
        "antcrm.listener",
    ]
    assert steps[0]["form"] == {"first_name": "John", "email": "john@example.com"}
    assert steps[0]["headers"] == {"Authorization": "Bearer KEY"}
    result_row = steps[1]["expect"]["body"]["data"]["results"][0]
    assert result_row["contact_unique_id"] == {"$match": r"^l-\d{8}$"}
    assert steps[2]["expect"]["body"]["data"]["token"]["$save"] == "token"
    assert steps[3]["json"]["token"] == "${token}"
    assert steps[3]["expect"]["body"]["data"]["id"] == {"$match": "^[0-9A-Fa-f]{32}$"}
    assert steps[4]["raw"] == '{"data": []}' and steps[4]["expect"]["status"] == 404

    for target in ([], ["--target", served]):
        again = replay("s.yaml", *target)
        assert again.exit_code == 0, again.output

    doc["faults"] = [{"vendor": "botw", "operation": "botw.search_contacts", "status": 503}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    faulted = replay("s.yaml")
    assert faulted.exit_code == 1
    assert "step 1 (botw.search_contacts):" in faulted.output
    assert "/status: not equal; expected 200, actual 503" in faulted.output


def test_record_needs_a_reachable_target_and_a_journal(tmp_path, served):
    out = CliRunner().invoke(
        main, ["record", "--target", "http://127.0.0.1:9", "-o", str(tmp_path / "s.yaml")]
    )
    assert out.exit_code == 2 and out.output.startswith("crmsim record: crmsim is not reachable")
    out = CliRunner().invoke(
        main,
        ["record", "--target", served, "--namespace", "empty-ns", "-o", str(tmp_path / "s.yaml")],
    )
    assert out.exit_code == 2 and "the journal is empty" in out.output
