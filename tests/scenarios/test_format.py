"""Scenario files are checked before anything runs; matchers and references."""

import pytest

from simulator.scenarios import (
    Bindings,
    ScenarioInvalid,
    UnknownReference,
    differences,
    loads,
    match_value,
)

GOOD = """\
name: ok
given:
  botw: {api_keys: {K: ["1"]}}
steps:
  - operation: botw.create_contact
    method: POST
    path: /crm/1
    headers: {Authorization: Bearer K}
    form: {email: a@b.co}
    expect:
      status: 201
"""


def problems(text, file="s.yaml"):
    with pytest.raises(ScenarioInvalid) as info:
        loads(text, file)
    return [(p.file, p.line, p.pointer, p.message) for p in info.value.problems]


def test_a_valid_file_loads():
    s = loads(GOOD, "s.yaml")
    assert (s.name, s.seed, s.is_property, s.given) == (
        "ok",
        0,
        False,
        {"botw": {"api_keys": {"K": ["1"]}}},
    )


def test_times_stay_text():
    s = loads(GOOD + "frozen_at: 2024-06-01T12:00:00Z\n")
    assert s.doc["frozen_at"] == "2024-06-01T12:00:00Z"


def test_yaml_errors_name_the_line():
    [(file, line, pointer, message)] = problems("name: x\nsteps: [\n  - a: 1\n  b\n", "bad.yaml")
    assert file == "bad.yaml" and line is not None and line >= 3
    assert message.startswith("not valid YAML")


def test_schema_problems_name_file_line_and_pointer():
    text = GOOD.replace("status: 201", "status: 201\n      stauts: 1").replace(
        "method: POST", "method: FETCH"
    )
    found = problems(text)
    assert (
        "s.yaml",
        6,
        "/steps/0/method",
        'expected one of "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", got "FETCH"',
    ) in found
    assert ("s.yaml", 12, "/steps/0/expect/stauts", "unexpected property stauts") in found


def test_a_missing_required_field_points_at_its_parent_line():
    found = problems("name: x\nsteps:\n  - method: GET\n    path: /crm/1\n")
    assert found == [("s.yaml", 3, "/steps/0/expect", "missing required property 'expect'")]


def test_given_is_checked_against_the_state_schema():
    found = problems(GOOD.replace('api_keys: {K: ["1"]}', "api_keys: {K: 5}"))
    assert [(p, line) for _, line, p, _ in found] == [("/given/botw/api_keys/K", 3)]


def test_given_file_missing(tmp_path):
    with pytest.raises(ScenarioInvalid) as info:
        loads(
            GOOD.replace('  botw: {api_keys: {K: ["1"]}}', "  file: nope.json"), "s.yaml", tmp_path
        )
    [p] = info.value.problems
    assert p.pointer == "/given/file" and "cannot load" in p.message


def test_given_file_is_loaded_relative_to_the_scenario(tmp_path):
    (tmp_path / "start.json").write_text('{"botw": {"api_keys": {"K": ["1"]}}}')
    s = loads(
        GOOD.replace('  botw: {api_keys: {K: ["1"]}}', "  file: start.json"), "s.yaml", tmp_path
    )
    assert s.given == {"botw": {"api_keys": {"K": ["1"]}}}


@pytest.mark.parametrize(
    ("expect", "pointer", "message"),
    [
        (
            "{status: 201, body: {id: {$regex: x}}}",
            "/steps/0/expect/body/id",
            "a matcher takes only",
        ),
        (
            "{status: 201, body: {id: {$match: '('}}}",
            "/steps/0/expect/body/id/$match",
            "not a regular expression",
        ),
        (
            "{status: 201, body: {id: {$type: text}}}",
            "/steps/0/expect/body/id/$type",
            "expected one of",
        ),
        (
            "{status: 201, body: {id: {$len: -1}}}",
            "/steps/0/expect/body/id/$len",
            "expected a length",
        ),
        (
            "{status: 201, body: {id: {$any: true, $type: string}}}",
            "/steps/0/expect/body/id",
            "one test per matcher",
        ),
        (
            "{status: 201, body: {id: {$save: 1x}}}",
            "/steps/0/expect/body/id/$save",
            "expected a name",
        ),
        (
            "{status: 201, body: {id: '${nothing}'}}",
            "/steps/0/expect/body/id",
            "no earlier expectation saves 'nothing'",
        ),
        (
            "{status: 201, body: {id: '${steps.1.response.body}'}}",
            "/steps/0/expect/body/id",
            "has not run yet",
        ),
        ("{status: 201, body: {id: '${steps.x}'}}", "/steps/0/expect/body/id", "write steps.N"),
    ],
)
def test_bad_matchers_and_references(expect, pointer, message):
    found = problems(GOOD.replace("expect:\n      status: 201", f"expect: {expect}"))
    assert [(p, line) for _, line, p, m in found if message in m] == [(pointer, 10)], found


def test_a_step_cannot_refer_to_its_own_response_in_its_request():
    text = GOOD.replace("form: {email: a@b.co}", "form: {email: '${steps.0.response.body}'}")
    [(_, line, pointer, message)] = problems(text)
    assert (line, pointer) == (9, "/steps/0/form/email") and "has not run yet" in message


def test_unknown_operations_and_draws():
    text = GOOD.replace(
        "operation: botw.create_contact", "operation: botw.create_contacts"
    ).replace("form: {email: a@b.co}", "form: {$draw: botw.nope}")
    found = {(p, m) for _, _, p, m in problems(text)}
    assert found == {
        ("/steps/0/operation", "unknown operation botw.create_contacts"),
        ("/steps/0/form/$draw", "unknown operation botw.nope"),
    }


def test_every_problem_of_every_file_at_once(tmp_path):
    from simulator.scenarios import load_all

    (tmp_path / "a.yaml").write_text("name: a\n")
    (tmp_path / "b.yaml").write_text("steps: []\n")
    (tmp_path / "c.yaml").write_text(GOOD)
    with pytest.raises(ScenarioInvalid) as info:
        load_all([tmp_path])
    assert sorted((p.file.rsplit("/", 1)[1], p.pointer) for p in info.value.problems) == [
        ("a.yaml", "/steps"),
        ("b.yaml", "/name"),
        ("b.yaml", "/steps"),
    ]


# -- matchers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ({"$match": r"^PID-\d+$"}, "PID-12", True),
        ({"$match": r"^PID-\d+$"}, "LID-12", False),
        ({"$match": "x"}, 5, False),
        ({"$any": True}, None, True),
        ({"$type": "string"}, "a", True),
        ({"$type": "integer"}, True, False),
        ({"$type": "number"}, 3, True),
        ({"$len": 2}, [1, 2], True),
        ({"$len": 2}, "abc", False),
        ({"$contains": [{"a": 1}]}, [{"a": 2}, {"a": 1, "b": 2}], True),
        ({"$contains": [{"a": 3}]}, [{"a": 2}], False),
        ({"$eq": {"a": 1}}, {"a": 1, "b": 2}, False),
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ([{"a": 1}], [{"a": 1}, {"a": 2}], False),
        (1, 1.0, True),
        (1, True, False),
        ({"a": {"$absent": True}}, {"b": 1}, True),
        ({"a": {"$absent": True}}, {"a": None}, False),
    ],
)
def test_matchers(expected, actual, ok):
    assert match_value(expected, actual)[0] is ok


def test_differences_name_pointer_expected_and_actual():
    [d] = differences(
        {"data": {"results": [{"email": "a@b.co"}]}},
        {"data": {"results": [{"email": "x@b.co"}]}},
        "/body",
    )
    assert (d.pointer, d.expected, d.actual) == ("/body/data/results/0/email", "a@b.co", "x@b.co")
    assert str(d) == '/body/data/results/0/email: not equal; expected "a@b.co", actual "x@b.co"'
    ok, reason = match_value({"id": {"$match": "^l-"}}, {"id": "x"})
    assert not ok and reason == '/id: does not match /^l-/; expected {"$match": "^l-"}, actual "x"'


def test_save_stores_the_matched_value_only_when_it_matches():
    saved = {}
    assert differences({"id": {"$match": "^l-", "$save": "uid"}}, {"id": "l-1"}, saved=saved) == []
    assert saved == {"uid": "l-1"}
    differences({"id": {"$match": "^l-", "$save": "other"}}, {"id": "x"}, saved=saved)
    assert "other" not in saved


def test_substitution():
    bound = Bindings(
        steps=[
            {
                "request": {"form": {"email": "a@b.co"}},
                "response": {"body": {"n": 3}, "headers": {"Retry-After": "7"}},
            }
        ],
        saved={"token": "T"},
    )
    assert bound.substitute("${steps.0.request.form.email}") == "a@b.co"
    assert bound.substitute("${steps.0.response.body.n}") == 3  # a whole reference keeps its type
    assert bound.substitute("n=${steps.0.response.body.n}&t=${token}") == "n=3&t=T"
    assert bound.substitute("${steps.0.response.headers.retry-after}") == "7"
    assert bound.substitute("$${token}") == "${token}"
    assert bound.substitute({"$save": "${x}", "a": ["${token}"]}) == {"$save": "${x}", "a": ["T"]}
    with pytest.raises(UnknownReference, match="no 'phone'"):
        bound.substitute("${steps.0.request.form.phone}")
