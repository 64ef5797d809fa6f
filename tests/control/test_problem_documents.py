"""Every failing control call answers a problem document that schemas/sim/problem.json
describes, and each error names its field and says what is wrong in words."""

import pytest

from simulator.schemas import default_schemas_dir, load

SCHEMAS = load(default_schemas_dir())

BAD_CALLS = [
    ("put", "/__sim/state/botw", {"contacts": [{"email": "x"}]}),
    ("put", "/__sim/state", {"botw": {"api_keys": {"K": "not a list"}}}),
    ("put", "/__sim/clock", {"now": "yesterday"}),
    ("post", "/__sim/clock/advance", {"seconds": "ten"}),
    ("put", "/__sim/seed", {"seed": "x"}),
    ("put", "/__sim/settings", {"strict_contract": "yes"}),
    ("post", "/__sim/faults", {"status": 99}),
]


@pytest.mark.parametrize("method, path, body", BAD_CALLS, ids=[c[1] for c in BAD_CALLS])
def test_problem_documents_carry_a_message_for_every_error(client, method, path, body):
    r = getattr(client, method)(path, json=body)
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert SCHEMAS.validate("sim/problem.json", problem) == []
    assert problem["status"] == 400
    assert problem["title"] and problem["detail"]
    assert problem["errors"], problem
    for error in problem["errors"]:
        assert error["pointer"].startswith("/") or error["pointer"] == ""
        assert isinstance(error["message"], str) and len(error["message"]) > 5


def test_a_missing_property_is_named_in_its_message(client):
    r = client.put("/__sim/state/botw", json={"contacts": [{"email": "x@y.co"}]})
    messages = " ".join(e["message"] for e in r.get_json()["errors"])
    assert "contact_id" in messages
    assert "listing_id" in messages


def test_nothing_changes_after_a_refused_state(client):
    client.put("/__sim/state/botw", json={"api_keys": {"K": ["1"]}})
    r = client.put("/__sim/state/botw", json={"api_keys": {"K": "not a list"}})
    assert r.status_code == 400
    assert client.get("/__sim/state/botw").get_json()["api_keys"] == {"K": ["1"]}
