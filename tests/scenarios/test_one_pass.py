"""A scenario file's problems in one pass (issue 20): schema errors, unknown operations and
undefined ${references} together, ordered by line, each as file:line: /pointer: message,
never a Python repr of the value."""

import pytest

from simulator.scenarios import ScenarioInvalid, loads

BAD = """\
name: every problem at once
steps:
  - operation: botw.create_contactx
    method: POST
    path: /crm/123
    form: {email: "${nope}"}
    expect: {stauts: 201}
  - operation: botw.search_contacts
    method: FETCH
    path: /crm/123
    expect: {status: 200, body: {x: "${missing}"}}
  - just text
verify:
  - {operation: botw.create_contact, body: {email: "${gone}"}}
"""


def test_schema_operation_and_reference_problems_come_together():
    with pytest.raises(ScenarioInvalid) as info:
        loads(BAD, "s.yaml")
    assert str(info.value).splitlines() == [
        "s.yaml:3: /steps/0/operation: unknown operation botw.create_contactx",
        "s.yaml:6: /steps/0/form/email: ${nope}: no earlier expectation saves 'nope'",
        "s.yaml:7: /steps/0/expect: needs status or dropped",
        "s.yaml:7: /steps/0/expect/stauts: unexpected property stauts",
        's.yaml:9: /steps/1/method: expected one of "GET", "POST", "PUT", "DELETE", "PATCH", '
        '"HEAD", "OPTIONS", got "FETCH"',
        "s.yaml:11: /steps/1/expect/body/x: ${missing}: no earlier expectation saves 'missing'",
        "s.yaml:12: /steps/2: expected object, got string",
        "s.yaml:14: /verify/0/body/email: ${gone}: no earlier expectation saves 'gone'",
    ]
    assert "is not valid under any" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "name: x\nsteps: 5\n",
        "name: x\ngiven: [1]\nsteps: []\nverify: {a: 1}\n",
        "name: x\nvars: 3\nsteps:\n  - {method: GET, path: /x, expect: 7, verify: 3}\n",
    ],
)
def test_misshapen_parts_are_schema_problems_not_crashes(text):
    with pytest.raises(ScenarioInvalid) as info:
        loads(text, "s.yaml")
    assert info.value.problems
