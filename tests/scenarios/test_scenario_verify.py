"""Scenario files' ``verify:``: request patterns checked against the journal, after a step or
after the last step, with the same matchers as expectations."""

import xml.etree.ElementTree as ET

import pytest

from simulator.scenarios import Runner, ScenarioInvalid, junit_xml, loads

STORY = """\
name: two contacts
given:
  botw: {api_keys: {K: ["1"]}}
steps:
  - operation: botw.create_contact
    method: POST
    path: /crm/1
    headers: {Authorization: Bearer K}
    form: {email: ann@b.co, first_name: Ann}
    expect: {status: 201}
    verify:
      - {operation: botw.create_contact, body: {email: ann@b.co}, times: 1}
      - {headers: {authorization: Bearer K}, body: {first_name: {$save: first}}}
  - method: GET
    path: /crm/1/nothing
    headers: {Authorization: Bearer K}
    expect: {status: 404}
  - operation: botw.create_contact
    method: POST
    path: /crm/1
    headers: {Authorization: Bearer K}
    form: {email: bob@b.co, first_name: "${first}"}
    expect: {status: 201}
verify:
  - {operation: botw.create_contact, times: 2}
  - {method: post, body: {email: {$match: "^bob@"}, first_name: Ann}}
  - {operation: botw.delete_contact, times: 0}
  - {operation: null, path: /crm/1/nothing, times: 1}
"""


@pytest.fixture(scope="module")
def runner():
    return Runner()


def test_step_and_file_verify_pass_and_a_save_feeds_later_steps(runner):
    result = runner.run(loads(STORY))
    assert result.ok, result.report()
    assert result.verify == []


def test_a_failing_step_verify_names_the_count_and_the_closest_entry(runner):
    story = STORY.replace("body: {email: ann@b.co}, times: 1", "body: {email: zed@b.co}, times: 1")
    result = runner.run(loads(story))
    assert not result.ok
    [step] = result.steps
    assert [str(d) for d in step.differences] == [
        "/verify/0: 0 of the 1 journaled requests match; the closest is "
        "#1 POST /crm/1 -> 201 (botw.create_contact); expected 1, actual 0",
        '/verify/0/body/email: not equal; expected "zed@b.co", actual "ann@b.co"',
    ]


def test_a_failing_file_verify_is_reported_after_the_steps(runner):
    story = STORY.replace(
        "{operation: botw.create_contact, times: 2}", "{operation: botw.create_contact, times: 1}"
    )
    result = runner.run(loads(story, "v.yaml"))
    assert not result.ok and all(s.ok for s in result.steps)
    [difference] = result.verify
    assert difference.pointer == "/verify/0"
    assert difference.reason == (
        "2 of the 3 journaled requests match: #1 POST /crm/1 -> 201 (botw.create_contact), "
        "#3 POST /crm/1 -> 201 (botw.create_contact)"
    )
    report = result.report()
    assert "FAIL v.yaml: two contacts (3 of 3 steps" in report
    assert "  verify (after the last step):\n    /verify/0: 2 of the 3" in report
    [failure] = ET.fromstring(junit_xml([result]).split("\n", 1)[1]).iter("failure")
    assert failure.get("message") == "verify failed"


def test_file_verify_does_not_run_when_a_step_failed(runner):
    story = STORY.replace("expect: {status: 404}", "expect: {status: 200}")
    result = runner.run(loads(story))
    assert not result.ok and result.verify == []
    assert len(result.steps) == 2


def test_at_least_once_without_times(runner):
    story = STORY.replace(
        "{operation: botw.delete_contact, times: 0}", "{operation: botw.delete_contact}"
    )
    difference, *closest = runner.run(loads(story)).verify
    assert (difference.pointer, difference.expected, difference.actual) == (
        "/verify/2",
        "at least 1",
        0,
    )
    assert [d.pointer for d in closest] == ["/verify/2/operation"]


@pytest.mark.parametrize(
    ("item", "pointer", "message"),
    [
        (
            "{body: {email: {$match: '('}}}",
            "/verify/0/body/email/$match",
            "not a regular expression",
        ),
        (
            "{body: {email: {$match: a, $type: string}}}",
            "/verify/0/body/email",
            "one test per matcher",
        ),
        ("{status: 201}", "/verify/0/status", "unexpected property status"),
        ("{times: -1}", "/verify/0/times", ""),
        (
            "{body: {email: '${nobody}'}}",
            "/verify/0/body/email",
            "no earlier expectation saves 'nobody'",
        ),
        (
            "{body: {email: '${steps.9.request.form.email}'}}",
            "/verify/0/body/email",
            "has not run yet",
        ),
    ],
)
def test_verify_items_are_checked_before_anything_runs(item, pointer, message):
    story = STORY.replace("  - {operation: botw.create_contact, times: 2}", f"  - {item}")
    with pytest.raises(ScenarioInvalid) as invalid:
        loads(story, "s.yaml")
    [problem] = [p for p in invalid.value.problems if p.pointer.startswith("/verify")]
    assert problem.pointer == pointer and message in problem.message
    assert problem.line == STORY.splitlines().index("verify:") + 2


def test_a_step_verify_may_use_what_earlier_expectations_saved():
    story = STORY.replace(
        "      - {operation: botw.create_contact, body: {email: ann@b.co}, times: 1}",
        "      - {body: {first_name: '${first}'}}",
    )
    with pytest.raises(ScenarioInvalid, match="no earlier expectation saves 'first'"):
        loads(story)
