"""Control documents a careless or hostile client may send: each is refused with a 400 (or
answered) and never a 500, a stalled thread or a namespace left broken. Each test failed
before its fix (an audit of the control plane against docs/control-plane.md)."""

import json
import threading

import pytest

from simulator.patterns import PatternError, compiled, search

H = {"Authorization": "Bearer K"}


def errors(r, status=400):
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    return r.get_json()["errors"]


# -- the clock ------------------------------------------------------------------------------
def test_advancing_a_running_clock_past_9999_is_refused_and_changes_nothing(client, sim):
    sim.put_state({"api_keys": {"K": ["1"]}}, "botw")
    century = 3_155_760_000
    answers = [client.post("/__sim/clock/advance", json={"seconds": century}) for _ in range(80)]
    refused = [r for r in answers if r.status_code != 200]
    assert refused and {r.status_code for r in refused} == {400}
    [error] = refused[0].get_json()["errors"]
    assert error["pointer"] == "/seconds"
    # the last accepted advance stands (the refused ones added nothing), and the namespace
    # still answers
    last = answers[len(answers) - len(refused) - 1].get_json()["now"]
    now = client.get("/__sim/clock").get_json()["now"]
    assert now[:4] == last[:4] and int(now[:4]) > 9800
    assert client.get("/crm/1?email=a@b.co", headers=H).status_code == 404


def test_a_running_clock_real_time_carries_past_9999_stops_there():
    from datetime import timedelta

    from simulator.clock import LAST, Clock, utc_now

    clock = Clock()
    # an offset accepted a second before the end, which real time has since carried past
    clock._offset = LAST - utc_now() + timedelta(seconds=1)
    assert clock.now() == LAST


# -- $match: RE2, linear time ----------------------------------------------------------------
def test_a_backtracking_match_cannot_stall_the_server(client, sim):
    sim.put_state({"api_keys": {"K": ["1"]}}, "botw")
    client.get("/crm/" + "a" * 5000 + "!", headers=H)
    done = threading.Event()
    answers = []

    def count():
        answers.append(
            client.post("/__sim/journal/count", json={"path": {"$match": "^/crm/(a+)+$"}})
        )
        done.set()

    threading.Thread(target=count, daemon=True).start()
    # Python's re would take longer than the universe has; RE2 answers at once
    assert done.wait(30), "the pattern stalled the request"
    assert answers[0].status_code == 200 and answers[0].get_json() == {"count": 0}


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(?=a)", "invalid perl operator"),
        ("(a)\\1", "invalid escape sequence"),
        ("[", "missing ]"),
        ("a{1000}{1000}", "bad repetition operator"),
    ],
)
def test_a_pattern_re2_refuses_is_a_400_at_its_pointer(client, pattern, why):
    r = client.post("/__sim/journal/find", json={"body": {"email": {"$match": pattern}}})
    [error] = errors(r)
    assert error["pointer"] == "/body/email/$match"
    assert why in error["message"]


def test_patterns_search_as_re_search_does():
    assert search("^l-\\d{8}$", "l-12345678")
    assert not search("^l-\\d{8}$", "xl-12345678")
    assert search("(?i)^JOHN", "john doe")
    assert not search("\\d", "\u0661")  # \d is ASCII in RE2
    assert search("caf.$", "café")
    assert not search("x", "\ud800")  # a text RE2 cannot encode is searched, not a crash
    with pytest.raises(PatternError, match="surrogate"):
        compiled("\ud800")
    with pytest.raises(PatternError):
        compiled("(?<=a)b")


# -- request patterns nested deeper than the validator can explain ------------------------
def test_a_deep_invalid_pattern_is_a_400(client):
    n = 200
    body = '{"body":' + '{"a":' * n + '{"$foo":1}' + "}" * n + "}"
    found = errors(client.post("/__sim/journal/count", data=body, content_type="application/json"))
    assert any(e["keyword"] == "depth" for e in found)


# -- fault rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["Content-Length", "transfer-encoding", "Connection", "Keep-Alive", "Upgrade", "TE"]
)
def test_a_fault_rule_cannot_set_a_framing_header(client, name):
    r = client.post("/__sim/faults", json={"status": 503, "headers": {name: "5", "X-Ok": "1"}})
    [error] = errors(r)
    assert (error["pointer"], error["keyword"]) == (f"/headers/{name}", "framing")
    assert client.get("/__sim/faults").get_json()["faults"] == []


def test_a_fault_rule_body_nested_too_deep_is_refused(client, sim):
    sim.put_state({"api_keys": {"K": ["1"]}}, "botw")
    deep = "[" * 101 + '"${request.path}"' + "]" * 101
    r = client.post(
        "/__sim/faults",
        data='{"status": 500, "body": ' + deep + "}",
        content_type="application/json",
    )
    [error] = errors(r)
    assert (error["pointer"], error["keyword"]) == ("/body", "depth")
    # within the bound, the rule answers its own body on every request it fires on
    ok = "[" * 99 + '"${request.path}"' + "]" * 99
    r = client.post(
        "/__sim/faults", data='{"status": 500, "body": ' + ok + "}", content_type="application/json"
    )
    assert r.status_code == 201
    answer = client.get("/crm/1", headers=H)
    assert answer.status_code == 500
    node = answer.get_json()
    for _ in range(99):
        [node] = node
    assert node == "/crm/1"


# -- ids within what JSON parsers read exactly -------------------------------------------------
def test_a_state_id_past_2_53_is_refused(client):
    doc = '{"contacts":[{"contact_id":%s,"listing_id":"1"}]}' % ("9" * 4300)
    [error] = errors(client.put("/__sim/state/botw", data=doc, content_type="application/json"))
    assert (error["pointer"], error["keyword"]) == ("/contacts/0/contact_id", "maximum")
    assert len(error["message"]) < 300  # the value is not echoed whole
    r = client.put(
        "/__sim/state/omoto",
        json={"campaigns": [], "responses": [{"response_id": 2**53, "campaign_id": "1"}]},
    )
    assert [e["pointer"] for e in errors(r)] == ["/responses/0/response_id"]


def test_omoto_response_ids_given_as_floats_count_on_as_integers(client):
    doc = {
        "campaigns": [{"campaign_id": "154", "api_key": "A"}],
        "responses": [
            {"response_id": 9007199254740991.0, "campaign_id": "154"},  # JSON's 9007199254740991.0
            {"campaign_id": "154"},
            {"campaign_id": "154"},
        ],
    }
    r = client.put("/__sim/state/omoto", data=json.dumps(doc), content_type="application/json")
    assert r.status_code == 200, r.get_json()
    ids = [x["response_id"] for x in client.get("/__sim/state/omoto").get_json()["responses"]]
    # as floats the last two were one id (2^53 + 1 is 2^53): a 500
    assert ids == [9007199254740991, 9007199254740992, 9007199254740993]
    assert all(type(i) is int for i in ids)


def test_a_bound_message_says_the_bound_and_its_description(client):
    [error] = errors(client.post("/__sim/clock/advance", json={"seconds": -1}))
    assert error["message"].startswith("expected a number >= 0")


# -- state rules, ETags, query integers ---------------------------------------------------------
@pytest.mark.parametrize(
    "date", ["2024-13-45 99:99:99", "2024-02-30 00:00:00", "0000-01-01 00:00:00"]
)
def test_a_botw_created_date_the_calendar_lacks_is_refused(client, date):
    doc = {"contacts": [{"contact_id": 1, "listing_id": "1", "created_date": date}]}
    [error] = errors(client.put("/__sim/state/botw", json=doc))
    assert error["pointer"] == "/contacts/0/created_date"
    doc["contacts"][0]["created_date"] = "2024-02-29 23:59:59"
    assert client.put("/__sim/state/botw", json=doc).status_code == 200


def test_if_none_match_compares_weakly(client, sim):
    sim.put_state({"api_keys": {"K": ["1"]}}, "botw")
    tag = client.get("/__sim/state").headers["ETag"]
    assert client.get("/__sim/state", headers={"If-None-Match": "W/" + tag}).status_code == 304


@pytest.mark.parametrize("value", ["1_0", "\u0663", "9" * 5000, "-1", "1.5"])
def test_a_query_integer_is_ascii_digits(client, value):
    [error] = errors(client.get("/__sim/journal", query_string={"limit": value}))
    assert error["pointer"] == "/limit"


# -- scenario files ---------------------------------------------------------------------------
SCENARIO = """name: one step
given:
  botw:
    api_keys: {KEY: ["123"]}
steps:
  - operation: botw.search_contacts
    method: GET
    path: /crm/123
    headers: {Authorization: %s}
    query: {email: %s}
    expect: {status: %s}
"""


@pytest.mark.parametrize(
    ("authorization", "email", "status", "says"),
    [
        ("Bearer KEY", "a@b.co", "404\nseed: " + "9" * 5000, "not valid YAML"),
        ('"Bearer KEY\\r\\nX: y"', "a@b.co", "404", "no CR, LF"),
        ("Bearer KEY", '"\\ud800"', "404", "surrogate"),
        ("Bearer KEY", "a@b.co", "[" * 2000 + "404" + "]" * 2000, "nested"),
    ],
)
def test_a_scenario_file_the_runner_cannot_send_is_a_listed_problem(
    authorization, email, status, says
):
    from simulator.scenarios import ScenarioInvalid, loads

    loads(SCENARIO % ("Bearer KEY", "a@b.co", "404"))  # the file as it should be
    with pytest.raises(ScenarioInvalid) as caught:
        loads(SCENARIO % (authorization, email, status))
    assert says in str(caught.value)


# -- a namespace that does not exist yet --------------------------------------------------------
@pytest.mark.one_process_store  # a shared world's seed is drawn by whichever process makes it
def test_a_missing_namespace_tells_the_seed_it_will_get_and_a_steady_etag():
    from simulator import create_app

    client = create_app({}).test_client()  # no CRMSIM_SEED: seeds are drawn
    told = {client.get("/__ns/n1/__sim/seed").get_json()["seed"] for _ in range(3)}
    assert len(told) == 1
    tags = {client.get("/__ns/n1/__sim/state").headers["ETag"] for _ in range(2)}
    assert len(tags) == 1
    r = client.get("/__ns/n1/__sim/state", headers={"If-None-Match": tags.pop()})
    assert r.status_code == 304
    assert client.post("/__ns/n1/__sim/reset").status_code == 200  # a write creates it
    assert client.get("/__ns/n1/__sim/seed").get_json()["seed"] in told
    other = client.get("/__ns/n2/__sim/seed").get_json()["seed"]
    assert other not in told  # (one chance in 2^32 of a false failure)
    client.delete("/__ns/n1/__sim")
    again = client.get("/__ns/n1/__sim/seed").get_json()["seed"]
    assert again not in told  # made again after a drop: a new seed
    client.post("/__ns/n1/__sim/reset")
    assert client.get("/__ns/n1/__sim/seed").get_json()["seed"] == again
