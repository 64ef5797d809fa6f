"""What any route accepts, a snapshot keeps and a restart reloads (issue 13).

Arbitrary requests (the operations' own strategies from ``simulator.testing``, some with a
hostile value put in: unpaired surrogates, deep nesting, huge numbers) go to two
namespaces, mixed with control writes; then a snapshot is written (``simulator.persist``),
a fresh app loads it, and every namespace's state, settings, seed and clock must be what
they were. Whatever a route refused must have been refused in the vendor's own way (never
a 500), and the snapshot must be complete (no namespace left out).
"""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import create_app
from simulator.http import MAX_DEPTH
from simulator.persist import Persister
from simulator.testing import strategy

NOW = "2024-06-01T12:00:00Z"
LOGIN = {"username": "u", "password": "p", "organisation": "o"}
STATE = {
    "omoto": {"campaigns": [{"campaign_id": "154", "api_key": "KEY"}]},
    "antcrm": {
        "orgs": [{"org_id": "acme", "users": ["me@acme.vn"]}],
        "listeners": [{"listener_id": "wh-1", "org_id": "acme"}],
    },
    "crmcom": {"users": [LOGIN]},
    "botw": {"api_keys": {"KEY": ["1"]}},
}
NAMESPACES = ("default", "n2")
BOTW_KEY = {"Authorization": "Bearer KEY"}

# Values no vendor should keep if a snapshot could not: lone surrogates, any JSON.
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, blacklist_categories=())
HOSTILE_TEXT = st.text(st.characters(blacklist_categories=()) | SURROGATES, max_size=4)
LONE = st.builds(lambda a, s, b: a + s + b, HOSTILE_TEXT, SURROGATES, HOSTILE_TEXT)
HOSTILE = HOSTILE_TEXT | st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(HOSTILE_TEXT, inner, max_size=2),
    max_leaves=6,
)
DEEP = st.sampled_from([MAX_DEPTH - 4, MAX_DEPTH, MAX_DEPTH + 1, 700])  # arrays
HUGE = st.sampled_from(["1e400", "-1e999", "123456789012345678901234567890"])


SLOT = "__hostile__"


def _raw_json(doc, hostile, *where):
    """``doc`` as JSON text (escaped ASCII) with the hostile part at ``where`` (keys), a
    place the vendor keeps (so that only the parser's limits stand between it and a
    snapshot)."""
    if hostile is None or not isinstance(doc, dict):
        return json.dumps(doc)
    kind, value = hostile
    node = doc = json.loads(json.dumps(doc))
    for key in where[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[where[-1]] = SLOT
    if kind == "deep":
        part = "[" * value + "1" + "]" * value
    elif kind == "huge":
        part = value
    else:
        part = json.dumps(value)
    return json.dumps(doc).replace(json.dumps(SLOT), part, 1)


def _form(fields, hostile):
    if hostile is not None and hostile[0] == "value":
        fields = {**fields, "first_name": str(hostile[1])}
    body = urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()},
        errors="surrogatepass",
    )
    return body, "application/x-www-form-urlencoded"


def _listener(doc, hostile):
    """AntCRM: the hostile part goes into the first item's ``data.name``."""
    items = doc.get("data")
    if hostile is None or not (isinstance(items, list) and items and isinstance(items[0], dict)):
        return json.dumps(doc)
    if not isinstance(items[0].get("data"), dict):
        return json.dumps(doc)
    first = json.loads(_raw_json(items[0], hostile, "data", "name"))
    return (
        json.dumps({**doc, "data": [SLOT, *items[1:]]}).replace(
            json.dumps(SLOT), _raw_json(first, None), 1
        )
        if hostile[0] == "value"
        else _raw_json(doc, hostile, "x")
    )


def request_for(op, doc, hostile, token):
    """(method, path, body text, content type)."""
    if op == "omoto.receive_customer_info":
        return "POST", "/omoto/receivecustomerinfo.htm?key=KEY", json.dumps(doc), "application/json"
    if op == "omoto.push_response":
        body = doc.get("jsonbody")
        if isinstance(body, dict):
            body = {**body, "campaignid": 154}
        fields = {
            "jsonheader": json.dumps(doc.get("jsonheader")),
            "jsonbody": _raw_json(body, hostile, "namevaluemap", "x"),
        }
        return ("POST", "/omoto/endpoint.htm?key=KEY", *_form(fields, None))
    if op == "antcrm.listener":
        doc = {**doc, "senderUser": "me@acme.vn"}
        return "POST", "/antcrm/webhook/listener/wh-1", _listener(doc, hostile), "application/json"
    if op == "crmcom.authenticate":
        return "POST", "/crmapi/rest/v2/authentication/token", json.dumps(LOGIN), "application/json"
    if op == "crmcom.create_contact_information":
        doc = {**doc, "token": token}
        return (
            "POST",
            "/crmapi/rest/v2/contact_information/create",
            _raw_json(doc, hostile, "last_name"),
            "application/json",
        )
    method = {"create_contact": "POST", "update_contact": "PUT", "delete_contact": "DELETE"}
    return (method[op.split(".")[1]], "/crm/1", *_form(doc, hostile))


VENDOR_OPS = (  # first: those that keep the hostile part when they accept the request
    "omoto.push_response",
    "crmcom.create_contact_information",
    "antcrm.listener",
    "omoto.receive_customer_info",
    "crmcom.authenticate",
    "botw.create_contact",
    "botw.update_contact",
    "botw.delete_contact",
)
# Hypothesis starts from (and shrinks toward) the first branches: the hostile ones.
HOSTILE_PART = st.one_of(
    st.tuples(st.just("value"), LONE),
    st.tuples(st.just("deep"), DEEP),
    st.tuples(st.just("huge"), HUGE),
    st.tuples(st.just("value"), HOSTILE),
    st.none(),
)
VENDOR_STEP = st.sampled_from(VENDOR_OPS).flatmap(
    lambda op: st.tuples(st.just("vendor"), st.just(op), strategy(op), HOSTILE_PART)
)
CONTROL_STEP = st.one_of(
    st.tuples(
        st.just(("PUT", "/__sim/settings")),
        st.fixed_dictionaries({"journal_limit": st.integers(1, 50)}),
    ),
    st.tuples(
        st.just(("POST", "/__sim/clock/advance")),
        st.fixed_dictionaries({"seconds": st.integers(0, 10**6)}),
    ),
    st.tuples(
        st.just(("PUT", "/__sim/seed")), st.fixed_dictionaries({"seed": st.integers(0, 2**31)})
    ),
    st.tuples(
        st.just(("POST", "/__sim/reset")),
        st.fixed_dictionaries(
            {"vendors": st.lists(st.sampled_from(list(STATE)), min_size=1, unique=True)}
        ),
    ),
).map(lambda t: ("control", t[0], t[1], None))
STEPS = st.lists(
    st.tuples(st.sampled_from(NAMESPACES), st.one_of(VENDOR_STEP, VENDOR_STEP, CONTROL_STEP)),
    min_size=1,
    max_size=8,
)


def _prepare(client):
    tokens = {}
    for ns in NAMESPACES:
        prefix = "" if ns == "default" else f"/__ns/{ns}"
        assert client.put(f"{prefix}/__sim/clock", json={"now": NOW}).status_code == 200
        assert client.put(f"{prefix}/__sim/state", json=STATE).status_code == 200
        r = client.post(f"{prefix}/crmapi/rest/v2/authentication/token", json=LOGIN)
        tokens[ns] = r.get_json()["data"]["token"]
    return tokens


def _world(client, ns):
    prefix = "" if ns == "default" else f"/__ns/{ns}"
    return {
        part: client.get(f"{prefix}/__sim/{part}").get_json()
        for part in ("state", "settings", "seed", "clock")
    }


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=STEPS)
@pytest.mark.one_process_store
def test_what_is_accepted_survives_a_snapshot_and_a_restart(steps, tmp_path_factory):
    app = create_app({"seed": 5})
    client = app.test_client()
    tokens = _prepare(client)
    for ns, step in steps:
        prefix = "" if ns == "default" else f"/__ns/{ns}"
        kind, what, doc, hostile = step
        if kind == "control":
            method, control_path = what
            r = client.open(prefix + control_path, method=method, json=doc)
            assert r.status_code == 200, r.get_json()
            continue
        method, path, body, content_type = request_for(what, doc, hostile, tokens[ns])
        headers = BOTW_KEY if what.startswith("botw.") else {}
        r = client.open(
            prefix + path, method=method, data=body, content_type=content_type, headers=headers
        )
        assert r.status_code < 500, (what, r.get_data(as_text=True))

    sim = app.extensions["crmsim"]
    path = tmp_path_factory.mktemp("snap") / "data.json"
    saver = Persister(sim.namespaces, sim.schemas, path)
    assert saver.save(force=True)
    assert saver.problem is None, saver.problem
    restarted = create_app({"seed": 5})
    again = restarted.extensions["crmsim"]
    Persister(again.namespaces, again.schemas, path).load()
    assert again.namespaces.names() == sim.namespaces.names()
    other = restarted.test_client()
    for ns in sim.namespaces.names():
        world = _world(client, ns)
        assert _world(other, ns) == world, ns
        # and each state document loads back through the control plane
        r = other.put("/__ns/scratch/__sim/state", json=world["state"])
        assert r.status_code == 200, r.get_json()
