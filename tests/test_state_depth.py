"""A state load skips the keepability walk's depth count when the Rust validator accepted
the document against a schema of bounded depth (docs/serving.md, "State loads"); a document
too deep still answers the same 400 as before, whichever vendor it is sent to."""

import json
import math

import pytest
import requests
from _serve import serving
from hypothesis import given

from simulator.fake import fake_state
from simulator.http import CONTROL_MAX_DEPTH, LONE_SURROGATE, BadBody, check_keepable
from simulator.schema_strategies import from_schema
from simulator.schemas import BASE_URI, _depth_bound, _value_depth

TOO_DEEP = f"the JSON is nested deeper than {CONTROL_MAX_DEPTH} levels"


def nested(levels):
    """JSON text of ``levels`` arrays, one inside the other."""
    return "[" * levels + "]" * levels


# A value too deep, where each vendor's state schema has a field (so only its depth and
# its type are wrong); and, for the whole state, under the vendor's part.
DEEP_PARTS = {
    "crmcom": lambda v: '{"contacts": [{"first_name": ' + v + "}]}",
    "botw": lambda v: '{"api_keys": {"K": ' + v + "}}",
    "antcrm": lambda v: '{"orgs": [{"org_id": "acme", "users": ' + v + "}]}",
    "omoto": lambda v: '{"campaigns": [{"campaign_id": "1", "api_key": "K", "x": ' + v + "}]}",
}


@pytest.mark.parametrize("vendor", sorted(DEEP_PARTS))
@pytest.mark.parametrize("whole", [False, True])
def test_a_state_document_too_deep_is_invalid_json_for_every_vendor(client, vendor, whole):
    part = DEEP_PARTS[vendor](nested(CONTROL_MAX_DEPTH))
    raw = '{"' + vendor + '": ' + part + "}" if whole else part
    path = "/__sim/state" if whole else f"/__sim/state/{vendor}"
    r = client.put(path, data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert (r.get_json()["title"], r.get_json()["detail"]) == ("Invalid JSON", TOO_DEEP)
    assert client.get("/__sim/state/botw").get_json()["api_keys"] == {}


@pytest.mark.parametrize("vendor", sorted(DEEP_PARTS))
def test_a_deep_value_within_the_limit_is_a_schema_violation(client, vendor):
    """Deep enough that the walk would run (more brackets than the limit), not too deep:
    the schema's violations answer, as before."""
    part = DEEP_PARTS[vendor](nested(CONTROL_MAX_DEPTH - 6))
    r = client.put(f"/__sim/state/{vendor}", data=part, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["title"] != "Invalid JSON"
    assert r.get_json()["errors"]


def test_a_valid_state_with_more_brackets_than_the_limit_loads(client):
    part = fake_state(1, 100, ["crmcom"])["crmcom"]
    raw = json.dumps(part)
    assert raw.count("[") + raw.count("{") > CONTROL_MAX_DEPTH
    r = client.put("/__sim/state/crmcom", data=raw, content_type="application/json")
    assert r.status_code == 200, r.get_json()
    assert [c["id"] for c in r.get_json()["contacts"]] == [c["id"] for c in part["contacts"]]


def test_a_surrogate_is_refused_even_when_the_depth_is_vouched_for(client):
    part = fake_state(1, 100, ["crmcom"])["crmcom"]
    part["contacts"][-1]["last_name"] = "\ud800"
    raw = json.dumps(part)  # ensure_ascii: the surrogate as an escape
    r = client.put("/__sim/state/crmcom", data=raw, content_type="application/json")
    assert (r.status_code, r.get_json()["detail"]) == (400, LONE_SURROGATE)


# -- check_keepable's ``shallow`` ----------------------------------------------------------
def test_check_keepable_trusts_shallow_for_depth_only():
    doc = json.loads(nested(20))
    with pytest.raises(BadBody, match="deeper than 10"):
        check_keepable(doc, nested(20), 10, lambda _: False)
    check_keepable(doc, nested(20), 10, lambda _: True)  # vouched for: not walked
    with pytest.raises(BadBody, match="unpaired surrogate"):
        check_keepable(["\ud800"] * 20, json.dumps(["\ud800"] * 20), 10, lambda _: True)


def test_shallow_is_not_asked_when_an_escape_needs_the_walk():
    asked = []
    with pytest.raises(BadBody, match="unpaired surrogate"):
        check_keepable(["\ud800"], '["\\ud800"]', 10, lambda d: asked.append(d) or True)
    assert asked == []


# -- Schemas.depth_bound --------------------------------------------------------------------
def bound(schema, **documents):
    documents = {**documents, "root.json": schema} if isinstance(schema, dict) else documents
    docs = {name: {"$id": BASE_URI + name, **doc} for name, doc in documents.items()}
    root = docs.get("root.json", schema)
    return _depth_bound(docs, root, BASE_URI + "root.json", frozenset())


OBJ = {"type": "object", "additionalProperties": False}


@pytest.mark.parametrize(
    "schema, expected",
    [
        ({"type": "string"}, 0),
        ({"type": ["string", "null"]}, 0),
        ({}, math.inf),
        (True, math.inf),
        (False, 0),
        (OBJ, 1),
        ({"type": "object"}, math.inf),  # additionalProperties: anything
        ({**OBJ, "properties": {"a": {"type": "array", "items": OBJ}}}, 3),
        ({**OBJ, "patternProperties": {"^x": {"type": "array"}}}, math.inf),
        ({"type": "array", "items": [{"type": "string"}], "additionalItems": OBJ}, 2),
        ({"type": "array", "items": [{"type": "string"}]}, math.inf),
        ({"properties": {"a": OBJ}, "additionalProperties": False}, math.inf),  # any array
        ({"allOf": [{}, OBJ]}, 1),
        ({"anyOf": [{"type": "null"}, OBJ]}, 1),
        ({"oneOf": [{"type": "null"}, {"type": "array"}]}, math.inf),
        ({"enum": [1, [[2]], {"a": [3]}]}, 2),
        ({"const": [[]]}, 2),
        ({"type": "array", "items": {"$ref": "#"}}, math.inf),  # a cycle
        ({"$ref": "other.json#/definitions/o"}, 1),
        ({"$ref": "other.json#/definitions/missing"}, math.inf),
        ({"$ref": "nowhere.json"}, math.inf),
        ({**OBJ, "properties": {"a": {"$id": "inner.json", **OBJ}}}, math.inf),
    ],
)
def test_depth_bound(schema, expected):
    assert bound(schema, **{"other.json": {"definitions": {"o": OBJ}}}) == expected


@pytest.mark.parametrize("value, depth", [(1, 0), ([], 1), ({"a": [1, [2]]}, 3), ([{}, 1], 2)])
def test_value_depth(value, depth):
    assert _value_depth(value) == depth


def test_the_state_schemas_bounds(app):
    """Bounded where the walk is skipped, and above the depth of what a valid document
    holds (``crmsim fake``'s, and the state each vendor answers with)."""
    schemas = app.extensions["crmsim"].schemas
    client = app.test_client()
    state = fake_state(1, 20)
    for vendor in ("antcrm", "botw", "crmcom"):
        limit = schemas.depth_bound(f"{vendor}/state.json")
        assert limit <= CONTROL_MAX_DEPTH
        assert _value_depth(state[vendor]) <= limit
        r = client.put(f"/__sim/state/{vendor}", json=state[vendor])
        assert r.status_code == 200
        assert _value_depth(r.get_json()) <= limit
    assert schemas.depth_bound("omoto/state.json") == math.inf  # free-form values
    assert schemas.depth_bound("sim/state.schema.json") == math.inf


# -- served: the RSGI bridge's body ---------------------------------------------------------
def test_served_state_loads_read_the_bridges_body():
    """Under granian the body the bridge read is parsed as it is: a valid part loads, a
    too-deep one is invalid JSON, one over the control bound is 413 (not read)."""
    part = fake_state(1, 100, ["crmcom"])["crmcom"]
    with serving(env={"CRMSIM_MAX_CONTROL_BYTES": "200000"}) as (base, _proc):
        url = f"{base}/__sim/state/crmcom"
        json_type = {"Content-Type": "application/json"}
        minimal = {**json_type, "Prefer": "return=minimal"}
        r = requests.put(url, data=json.dumps(part), headers=minimal)
        assert r.status_code == 204
        got = requests.get(url).json()
        assert [c["id"] for c in got["contacts"]] == [c["id"] for c in part["contacts"]]
        r = requests.put(
            url, data=DEEP_PARTS["crmcom"](nested(CONTROL_MAX_DEPTH)), headers=json_type
        )
        assert (r.status_code, r.json()["detail"]) == (400, TOO_DEEP)
        big = json.dumps(fake_state(1, 1000, ["crmcom"])["crmcom"])
        assert len(big) > 200000
        assert requests.put(url, data=big, headers=json_type).status_code == 413
        assert len(requests.get(url).json()["contacts"]) == 100


BOUNDED = [
    {**OBJ, "properties": {"a": {"type": "array", "items": OBJ}}},
    {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
    {"anyOf": [{"type": "null"}, {**OBJ, "properties": {"b": {"type": "array", "items": OBJ}}}]},
    {"enum": [1, [[2]], {"a": [3]}]},
    {
        **OBJ,
        "definitions": {
            "o": {**OBJ, "properties": {"c": {"type": ["array", "null"], "items": OBJ}}}
        },
        "properties": {"d": {"$ref": "#/definitions/o"}},
    },
]


@pytest.mark.parametrize("schema", BOUNDED)
def test_what_a_bounded_schema_accepts_is_within_its_bound(schema):
    """An instance the schema accepts nests no deeper than the bound says (drawn from the
    schema; a bound that is too low would let a deep document skip the walk)."""
    limit = bound(schema)
    assert limit < math.inf

    @given(from_schema(schema))
    def check(value):
        assert _value_depth(value) <= limit

    check()
