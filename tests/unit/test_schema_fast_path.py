"""The Rust fast path of schema validation is never more lenient than python-jsonschema."""

import re

import jsonschema_rs

from simulator.fake import fake_state
from simulator.schemas import default_schemas_dir, ecma_pattern, load

SCHEMAS = load(default_schemas_dir().resolve())
# characters where Python's re and ECMA 262 regexes disagree (whitespace, digits, line ends)
PROBES = ["", " ", "a", "7", "\n", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\ufeff", "\u0663"]


def _patterns(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "pattern" and isinstance(v, str):
                yield v
            else:
                yield from _patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from _patterns(v)


def test_no_pattern_accepts_in_rust_what_python_rejects():
    patterns = {p for doc in SCHEMAS.documents.values() for p in _patterns(doc)}
    assert len(patterns) > 20
    samples = [a + b + c for a in PROBES for b in ("", "x@y.z", "PID-1", "12") for c in PROBES]
    for pattern in patterns:
        fast = jsonschema_rs.Draft7Validator({"type": "string", "pattern": ecma_pattern(pattern)})
        for s in samples:
            if fast.is_valid(s):
                assert re.search(pattern, s), (pattern, s)


def test_python_decides_when_the_fast_path_says_invalid():
    bad = {"botw": {"contacts": [{"contact_id": 0, "listing_id": ""}]}}
    assert not SCHEMAS.fast_valid("sim/state.schema.json", bad)
    pointers = [e["pointer"] for e in SCHEMAS.validate("sim/state.schema.json", bad)]
    assert pointers == ["/botw/contacts/0/contact_id", "/botw/contacts/0/listing_id"]
    # an integer beyond 64 bits: Rust cannot read it, Python decides (here: too large for
    # an id, which stays within 2^53 - 1)
    huge = {"contacts": [{"contact_id": 2**70, "listing_id": "1"}]}
    [error] = SCHEMAS.validate("botw/state.json", huge)
    assert (error["pointer"], error["keyword"]) == ("/contacts/0/contact_id", "maximum")
    trial = {"orgs": [{"org_id": "o", "trial_sms_remaining": 2**70}]}
    assert SCHEMAS.validate("antcrm/state.json", trial) == []


def test_both_accept_a_realistic_state():
    doc = fake_state(1, 50)
    assert SCHEMAS.fast_valid("sim/state.schema.json", doc)
    assert SCHEMAS.validator("sim/state.schema.json").is_valid(doc)


def test_a_schema_file_that_is_not_a_schema_is_refused_with_python_jsonschemas_reason(tmp_path):
    import pytest
    from jsonschema.exceptions import SchemaError

    from simulator.schemas import Schemas

    (tmp_path / "ok.json").write_text('{"type": "object"}')
    (tmp_path / "bad.json").write_text('{"type": "object", "properties": {"a": {"type": "strin"}}}')
    with pytest.raises(SchemaError, match="strin"):
        Schemas(tmp_path)
    (tmp_path / "bad.json").unlink()
    assert Schemas(tmp_path).has("ok.json")


def test_every_shipped_schema_is_a_draft_7_schema_by_both_checks():
    from jsonschema import Draft7Validator

    meta = jsonschema_rs.Draft7Validator(Draft7Validator.META_SCHEMA)
    for doc in SCHEMAS.documents.values():
        Draft7Validator.check_schema(doc)
        assert meta.is_valid(doc)
