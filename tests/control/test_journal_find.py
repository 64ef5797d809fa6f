"""POST /__sim/journal/find and /count: request patterns written with the scenario matchers."""

from simulator.admin.routes import ROUTES

KEY = {"Authorization": "Bearer KEY"}


def botw(sim, client, prefix=""):
    sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    client.post(
        prefix + "/crm/123", data={"email": "ann@example.com", "first_name": "Ann"}, headers=KEY
    )
    client.post(prefix + "/crm/123", data={"email": "bob@example.com"}, headers=KEY)
    client.get(prefix + "/crm/123", query_string={"email": "ann@example.com"}, headers=KEY)
    client.get(prefix + "/crm/123/nothing/here", headers=KEY)


def find(client, doc, prefix=""):
    r = client.post(prefix + "/__sim/journal/find", json=doc)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def count(client, doc, prefix=""):
    r = client.post(prefix + "/__sim/journal/count", json=doc)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["count"]


def test_find_answers_the_matching_entries_as_the_journal_renders_them(client, sim):
    botw(sim, client)
    found = find(client, {"operation": "botw.create_contact", "body": {"email": "ann@example.com"}})
    assert found["count"] == 1
    [entry] = found["entries"]
    assert entry == sim.journal()[0]
    assert entry["request"]["body"] == {"email": "ann@example.com", "first_name": "Ann"}


def test_an_empty_pattern_matches_every_entry(client, sim):
    botw(sim, client)
    assert find(client, {}) == {"entries": sim.journal(), "count": 4}


def test_count_answers_how_many_match(client, sim):
    botw(sim, client)
    assert count(client, {"operation": "botw.create_contact"}) == 2
    assert count(client, {"method": "get"}) == 2  # a literal method in any case
    assert count(client, {"method": "POST", "body": {"first_name": {"$absent": True}}}) == 1
    assert count(client, {"query": {"email": {"$match": "^ann@"}}}) == 1
    assert count(client, {"path": {"$match": "^/crm/123$"}}) == 3
    assert count(client, {"vendor": "omoto"}) == 0
    assert count(client, {"body": {"email": {"$save": "email"}}}) == 2  # $save: any value


def test_a_length_written_as_a_whole_float_is_a_length(client, sim):
    # JSON Schema's integer admits 2.0; the OpenAPI fuzzer sends such values
    botw(sim, client)
    assert count(client, {"operation": "botw.create_contact", "vendor": {"$len": 4.0}}) == 2
    r = client.post("/__sim/journal/count", json={"vendor": {"$len": 4.5}})
    assert r.status_code == 400 and r.get_json()["errors"][0]["pointer"] == "/vendor/$len"


def test_headers_match_case_insensitively_by_name(client, sim):
    botw(sim, client)
    assert count(client, {"headers": {"authorization": "Bearer KEY"}}) == 4
    assert count(client, {"headers": {"AUTHORIZATION": {"$match": "^Bearer "}}}) == 4
    assert count(client, {"headers": {"Authorization": "Bearer OTHER"}}) == 0
    assert count(client, {"headers": {"x-absent": {"$absent": True}}}) == 4


def test_operation_null_finds_what_hit_no_route(client, sim):
    botw(sim, client)
    [unmatched] = find(client, {"operation": None})["entries"]
    assert unmatched["request"]["path"] == "/crm/123/nothing/here"
    assert unmatched["response"]["status"] == 404


def test_a_pattern_sees_only_its_namespace(client, sim):
    botw(sim, client)
    assert count(client, {}, prefix="/__ns/other") == 0
    client.put("/__ns/other/__sim/state/botw", json={"api_keys": {"KEY": ["123"]}})
    client.post("/__ns/other/crm/123", data={"email": "z@example.com"}, headers=KEY)
    assert count(client, {"body": {"email": "z@example.com"}}, prefix="/__ns/other") == 1
    assert count(client, {"body": {"email": "z@example.com"}}) == 0


def test_bad_patterns_are_refused_with_pointers_and_change_nothing(client, sim):
    botw(sim, client)
    cases = [
        ({"status": 201}, ""),  # not a request field
        ({"operation": 3}, "/operation"),
        ({"path": {"$match": "("}}, "/path/$match"),
        ({"body": {"email": {"$match": "("}}}, "/body/email/$match"),
        ({"body": {"email": {"$match": "a", "$type": "string"}}}, "/body/email"),
        ({"query": {"email": {"$len": "${n}"}}}, "/query/email/$len"),
        ({"body": {"$what": 1}}, "/body"),
    ]
    for doc, where in cases:
        for path in ("/__sim/journal/find", "/__sim/journal/count"):
            r = client.post(path, json=doc)
            assert r.status_code == 400, (doc, r.get_json())
            assert r.mimetype == "application/problem+json"
            assert where in [e["pointer"] for e in r.get_json()["errors"]], (doc, r.get_json())
    assert client.post("/__sim/journal/find", data=b"").status_code in (400, 415)
    assert len(sim.journal()) == 4


def test_the_routes_are_declared_and_in_the_openapi_document(client):
    declared = {(r.method, r.rule): r for r in ROUTES}
    assert declared[("POST", "/journal/find")].body == "request-pattern"
    assert declared[("POST", "/journal/count")].answer == "journal-count"
    paths = client.get("/__sim/openapi.json").get_json()["paths"]
    body = paths["/__sim/journal/count"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/sim.request-pattern"}
    assert "200" in paths["/__sim/journal/find"]["post"]["responses"]
