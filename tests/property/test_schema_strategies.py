"""simulator.schema_strategies: crmsim's JSON Schema generator draws only valid values, for
every schema file and keyword it models, and refuses what it does not model."""

import math
import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker

from simulator.schema_strategies import UnsupportedSchema, from_schema
from simulator.schemas import default_schemas_dir, load
from simulator.testing import inline

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMAS = load(default_schemas_dir().resolve())
# the ci profile's settings, at most 10 examples a schema (70 schemas)
FEW = settings(
    settings.default,
    max_examples=min(settings.default.max_examples, 10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def inlinable():
    found = []
    for name in sorted(SCHEMAS.documents):
        try:
            inline(SCHEMAS.documents[name], name, SCHEMAS)
        except ValueError:  # recursive (scenario.json, request-pattern.json): not inlinable
            continue
        found.append(name)
    return found


def valid(schema, value):
    return Draft7Validator(schema, format_checker=FormatChecker()).is_valid(value)


def drawn(schema, examples=100):
    """What the generator draws for ``schema`` in a fixed (derandomized) run."""
    seen = []

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(from_schema(schema))
    def collect(value):
        seen.append(value)

    collect()
    return seen


def reach(schema, condition):
    """A value the generator draws for ``schema`` that meets ``condition`` (fails if none)."""
    found = [v for v in drawn(schema) if condition(v)]
    assert found, f"no value drawn for {schema} meets the condition"
    return found[0]


@pytest.mark.parametrize("name", inlinable())
def test_every_schema_file_draws_values_it_accepts(name):
    schema = inline(SCHEMAS.documents[name], name, SCHEMAS)

    @FEW
    @given(from_schema(schema))
    def check(value):
        assert SCHEMAS.validate(name, value) == []

    check()


def test_most_schema_files_are_drawn_from():
    # the two recursive ones are the scenario file and the request pattern
    assert len(inlinable()) >= len(SCHEMAS.documents) - 2


# -- objects ------------------------------------------------------------------------------------
OBJECT = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
}


@FEW
@given(from_schema({**OBJECT, "additionalProperties": False}))
def test_closed_objects_hold_their_required_and_only_declared_keys(doc):
    assert "id" in doc and doc["id"] >= 1
    assert set(doc) <= {"id", "note"}


def test_optional_and_undeclared_keys_are_both_reachable():
    seen = drawn(OBJECT)
    assert any("note" in d for d in seen) and any("note" not in d for d in seen)
    extra = [d for d in seen if set(d) - {"id", "note"}]
    assert extra and all(valid(OBJECT, d) for d in extra)
    with pytest.raises(AssertionError, match="no value drawn"):
        reach({**OBJECT, "additionalProperties": False}, lambda d: set(d) - {"id", "note"})


@FEW
@given(
    from_schema(
        {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]+$"},
            "additionalProperties": {"type": "boolean"},
            "minProperties": 1,
            "maxProperties": 2,
        }
    )
)
def test_property_names_and_counts(doc):
    assert 1 <= len(doc) <= 2
    assert all(re.search("^[a-z]+$", k) and isinstance(v, bool) for k, v in doc.items())


# -- strings and numbers ------------------------------------------------------------------------
@FEW
@given(from_schema({"type": "string", "pattern": "^CID-[0-9]{1,18}$", "maxLength": 10}))
def test_patterns_and_lengths(text):
    assert re.search("^CID-[0-9]{1,18}$", text) and len(text) <= 10


@FEW
@given(from_schema({"type": "integer", "exclusiveMinimum": 5, "maximum": 9, "multipleOf": 2}))
def test_integer_bounds_and_multiples(n):
    assert n in (6, 8)


@FEW
@given(from_schema({"type": "number", "minimum": 0.5, "exclusiveMaximum": 1}))
def test_number_bounds(x):
    assert 0.5 <= x < 1 and math.isfinite(x)


@FEW
@given(from_schema({"type": "string", "format": "date-time"}))
def test_date_times_parse(text):
    assert datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None


@FEW
@given(from_schema({"type": "string", "format": "listing"}, formats={"listing": st.just("L-1")}))
def test_a_format_of_ones_own(text):
    assert text == "L-1"


# -- combinators ----------------------------------------------------------------------------------
ONE_OF = {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]}


@FEW
@given(from_schema(ONE_OF))
def test_one_of_draws_what_exactly_one_branch_accepts(x):
    # a non-negative integer is accepted by both branches, so it is not valid
    assert (isinstance(x, int) and x < 0) or (isinstance(x, float) and not x.is_integer())


IF_THEN = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["a", "b"]}},
    "if": {"properties": {"kind": {"const": "a"}}},
    "then": {"required": ["x"], "properties": {"x": {"type": "integer"}}},
    "else": {"not": {"required": ["x"]}},
}


def test_if_then_else_reaches_both_branches_validly():
    seen = drawn(IF_THEN)
    then = [d for d in seen if d["kind"] == "a"]
    other = [d for d in seen if d["kind"] == "b"]
    assert then and other and all(valid(IF_THEN, d) for d in seen)
    assert all(isinstance(d["x"], int) for d in then) and all("x" not in d for d in other)


@FEW
@given(from_schema({"type": "string", "not": {"pattern": "^a"}, "minLength": 1}))
def test_not(text):
    assert not text.startswith("a")


@FEW
@given(
    from_schema(
        {
            "allOf": [
                {"type": "object", "required": ["a"], "properties": {"a": {"minimum": 3}}},
                {"required": ["b"], "properties": {"a": {"type": "integer", "maximum": 4}}},
            ]
        }
    )
)
def test_all_of_merges_its_parts(doc):
    assert doc["a"] in (3, 4) and "b" in doc


@FEW
@given(from_schema({"type": "array", "items": {"enum": [1, 1.0, True, 2]}, "uniqueItems": True}))
def test_unique_items_in_json_schemas_sense(items):
    # 1 and 1.0 are the same JSON value, true is not 1
    assert len([i for i in items if i == 1 and not isinstance(i, bool)]) <= 1
    assert len([i for i in items if i is True]) <= 1 and len(items) <= 3


def test_contains_is_met():
    schema = {"type": "array", "items": {"type": "integer"}, "contains": {"const": 7}}
    found = reach(schema, lambda items: len(items) >= 3)
    assert 7 in found


# -- references and refusals ----------------------------------------------------------------------
def test_references_within_the_document():
    schema = {
        "definitions": {"id": {"type": "string", "pattern": "^[0-9]+$"}},
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"$ref": "#/definitions/id"}},
        "additionalProperties": False,
    }
    assert all(re.search("^[0-9]+$", d["id"]) and set(d) == {"id"} for d in drawn(schema, 20))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"patternProperties": {"^x": {}}}, "keyword 'patternProperties' at #"),
        ({"properties": {"a": {"dependencies": {}}}}, "keyword 'dependencies' at #/properties/a"),
        ({"$ref": "botw/_fields.json#/email"}, "only references within the document"),
        (
            {
                "definitions": {"n": {"items": {"$ref": "#/definitions/n"}}},
                "$ref": "#/definitions/n",
            },
            "recursive",
        ),
    ],
)
def test_what_it_does_not_model_is_refused_when_built(schema, message):
    with pytest.raises(UnsupportedSchema, match=re.escape(message)):
        from_schema(schema)


def test_false_draws_nothing():
    assert from_schema(False).is_empty
    assert from_schema({"type": "integer", "minimum": 3, "maximum": 2}).is_empty


# -- dependency health (issue 20) -------------------------------------------------------------
def test_crmsim_no_longer_holds_hypothesis_back():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + [
        d for extra in project["optional-dependencies"].values() for d in extra
    ]
    assert not [d for d in wanted if d.startswith("hypothesis-jsonschema")]
    (hypothesis,) = [d for d in wanted if re.match(r"hypothesis\b(?!-)", d)]
    assert "<" not in hypothesis
    for path in (ROOT / "simulator").rglob("*.py"):
        assert "hypothesis_jsonschema" not in path.read_text(encoding="utf-8"), path
