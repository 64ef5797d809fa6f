"""simulator.verify: request patterns against journal entries, closeness, failure messages."""

import pytest

from simulator.journal import Raw
from simulator.verify import (
    closest,
    describe,
    failure,
    matches_stored,
    mismatches,
    pattern,
    problems,
    satisfied,
    unmatched_failure,
)


def entry(
    id=1,
    operation="botw.create_contact",
    method="POST",
    path="/crm/123",
    body=None,
    headers=None,
    query=None,
    status=201,
    vendor="botw",
):
    return {
        "id": id,
        "vendor": vendor,
        "operation": operation,
        "request": {
            "method": method,
            "path": path,
            "query": query or {},
            "headers": headers or {"Authorization": "Bearer KEY"},
            "body": body,
        },
        "response": {"status": status, "headers": {}, "body": None},
    }


def pointers(found):
    return [d.pointer for d in found]


def test_a_pattern_leaves_out_none_and_upper_cases_a_literal_method():
    assert pattern({"operation": None}, vendor=None, method="post") == {
        "operation": None,
        "method": "POST",
    }
    assert pattern(method={"$match": "^P"}) == {"method": {"$match": "^P"}}
    with pytest.raises(TypeError, match="not status"):
        pattern(status=201)


def test_every_field_given_must_match_and_the_others_match_anything():
    e = entry(body={"email": "ann@example.com", "first_name": "Ann"})
    assert mismatches({}, e) == []
    assert (
        mismatches({"operation": "botw.create_contact", "body": {"email": "ann@example.com"}}, e)
        == []
    )
    assert pointers(mismatches({"operation": "botw.update_contact", "path": "/crm/9"}, e)) == [
        "/operation",
        "/path",
    ]
    assert pointers(mismatches({"body": {"email": "bob@example.com"}}, e)) == ["/body/email"]
    assert pointers(mismatches({"vendor": "omoto"}, e)) == ["/vendor"]
    assert pointers(mismatches({"method": "GET"}, e)) == ["/method"]


def test_values_are_scenario_matchers():
    e = entry(body={"email": "ann@example.com"}, query={"key": ["a", "b"]})
    assert mismatches({"body": {"email": {"$match": "@example\\.com$"}}}, e) == []
    assert mismatches({"body": {"phone": {"$absent": True}}}, e) == []
    assert pointers(mismatches({"body": {"email": {"$absent": True}}}, e)) == ["/body/email"]
    assert mismatches({"query": {"key": {"$contains": ["b"]}}}, e) == []
    assert pointers(mismatches({"query": {"key": "a"}}, e)) == ["/query/key"]
    assert mismatches({"path": {"$match": "^/crm/\\d+$"}}, e) == []


def test_header_names_match_in_any_case_and_the_pointer_keeps_the_given_name():
    e = entry(headers={"Authorization": "Bearer KEY", "Content-Type": "application/json"})
    assert mismatches({"headers": {"authorization": "Bearer KEY"}}, e) == []
    assert mismatches({"headers": {"CONTENT-TYPE": {"$match": "json"}}}, e) == []
    [d] = mismatches({"headers": {"authorization": "Bearer OTHER"}}, e)
    assert (d.pointer, d.actual) == ("/headers/authorization", "Bearer KEY")
    assert pointers(mismatches({"headers": {"X-Missing": "1"}}, e)) == ["/headers/X-Missing"]
    assert mismatches({"headers": {"x-missing": {"$absent": True}}}, e) == []


def test_null_matches_what_hit_no_route():
    assert mismatches({"operation": None}, entry(operation=None)) == []
    assert pointers(mismatches({"operation": None}, entry())) == ["/operation"]


def test_save_stores_what_matched():
    saved = {}
    mismatches({"body": {"email": {"$save": "email"}}}, entry(body={"email": "a@b.co"}), saved)
    assert saved == {"email": "a@b.co"}


def test_a_stored_entry_is_decoded_only_when_the_pattern_looks_into_it():
    sent = Raw(
        [("HTTP_AUTHORIZATION", "Bearer KEY"), ("CONTENT_TYPE", "application/json")],
        b'{"email": "a@b.co"}',
        "application/json",
        "key=1",
        environ_headers=True,
    )
    stored = {
        "id": 1,
        "vendor": "botw",
        "operation": "botw.create_contact",
        "request": {"method": "POST", "path": "/crm/1", "raw": sent},
        "response": {"status": 201, "raw": Raw([], b"", None)},
    }
    assert matches_stored({"operation": "botw.create_contact"}, stored)
    assert not matches_stored({"operation": "botw.update_contact", "body": {}}, stored)
    assert matches_stored(
        {"body": {"email": "a@b.co"}, "headers": {"authorization": "Bearer KEY"}}, stored
    )
    assert matches_stored({"query": {"key": "1"}}, stored)
    assert not matches_stored({"body": {"email": "x@b.co"}}, stored)


def test_the_closest_entry_has_the_fewest_differing_pointers_the_newest_of_equals():
    far = entry(1, operation="botw.search_contacts", method="GET", body=None)
    near = entry(2, body={"email": "bob@example.com", "first_name": "Ann"})
    equal = entry(3, body={"email": "carl@example.com", "first_name": "Ann"})
    doc = {"operation": "botw.create_contact", "body": {"email": "ann@example.com"}}
    found, differences = closest(doc, [far, near, equal])
    assert found["id"] == 3
    assert pointers(differences) == ["/body/email"]
    assert closest(doc, [near, far])[0]["id"] == 2
    assert closest(doc, []) is None


def test_times_none_is_at_least_once_a_number_exactly():
    assert satisfied(None, 1) and satisfied(None, 3) and not satisfied(None, 0)
    assert satisfied(0, 0) and satisfied(2, 2) and not satisfied(1, 2)


def test_a_failure_shows_the_closest_entry_and_its_differences():
    doc = {"operation": "botw.create_contact", "body": {"email": "ann@example.com"}}
    journal = [entry(4, body={"email": "bob@example.com"})]
    text = failure(doc, [], journal, 1)
    assert text.splitlines() == [
        'expected exactly 1 request(s) matching {"operation": "botw.create_contact", '
        '"body": {"email": "ann@example.com"}}; found 0 of the 1 journaled',
        "the closest, #4 POST /crm/123 -> 201 (botw.create_contact), differs at:",
        '  /body/email: not equal; expected "ann@example.com", actual "bob@example.com"',
    ]
    assert failure(doc, [], [], None).splitlines()[1] == "the journal is empty"
    assert "expected at least 1" in failure(doc, [], [], None)


def test_too_many_matches_are_listed():
    found = [entry(1), entry(2, status=None)]
    text = failure({"operation": "botw.create_contact"}, found, found, 1)
    assert text.splitlines()[1:] == [
        "  #1 POST /crm/123 -> 201 (botw.create_contact)",
        "  #2 POST /crm/123 -> dropped (botw.create_contact)",
    ]


def test_unmatched_requests_are_listed():
    e = entry(7, operation=None, method="GET", path="/crm/1/x", status=404)
    assert describe(e) == "#7 GET /crm/1/x -> 404 (no route)"
    assert (
        unmatched_failure([e]) == "1 request(s) hit no route:\n  #7 GET /crm/1/x -> 404 (no route)"
    )


def test_malformed_matchers_are_problems_with_pointers():
    assert problems({"body": {"a": {"$match": "^ok$"}}}) == []
    assert problems({"body": {"a": {"$match": "("}}})[0]["pointer"] == "/body/a/$match"
    # a pattern has no references: "${x}" is a regex to compile, and $len a number
    assert problems({"body": {"a": {"$match": "${x}("}}})[0]["pointer"] == "/body/a/$match"
    assert problems({"body": {"a": {"$len": "${x}"}}})[0]["pointer"] == "/body/a/$len"
    assert [
        p["pointer"] for p in problems({"body": {"a": {"$match": "x", "$type": "string"}}})
    ] == ["/body/a"]
    assert problems({"body": {"$bogus": 1}})[0]["message"].startswith("a matcher takes only")
    assert problems({"body": {"a": {"$eq": {"$match": "("}}}}) == []  # $eq is literal
    assert problems({"body": {"$contains": [{"$match": "("}]}})[0]["pointer"] == (
        "/body/$contains/0/$match"
    )


def test_a_stored_entry_without_raw_parts_is_matched_as_it_is():
    stored = entry(body={"email": "a@b.co"}, query={"key": "1"})
    assert matches_stored({"body": {"email": "a@b.co"}, "query": {"key": "1"}}, stored)
    assert not matches_stored({"headers": {"authorization": "Bearer OTHER"}}, stored)


def test_vendor_operation_method_and_path_match_when_equal():
    e = entry()
    doc = {
        "vendor": "botw",
        "operation": "botw.create_contact",
        "method": "POST",
        "path": "/crm/123",
    }
    assert mismatches(doc, e) == []


def test_save_works_in_every_field():
    e = entry(query={"key": "K1"}, headers={"X-Trace": "t-1"}, body={"email": "a@b.co"})
    saved = {}
    doc = {
        "operation": {"$save": "op"},
        "query": {"key": {"$save": "key"}},
        "headers": {"x-trace": {"$save": "trace"}},
        "body": {"email": {"$save": "email"}},
    }
    assert mismatches(doc, e, saved) == []
    assert saved == {"op": "botw.create_contact", "key": "K1", "trace": "t-1", "email": "a@b.co"}


def test_headers_may_be_one_matcher_over_all_of_them():
    e = entry(headers={"Authorization": "Bearer KEY", "X-A": "1"})
    assert mismatches({"headers": {"$type": "object"}}, e) == []
    assert mismatches({"headers": {"$len": 2}}, e) == []
    [d] = mismatches({"headers": {"$len": 3}}, e)
    assert (d.pointer, d.actual) == ("/headers", {"authorization": "Bearer KEY", "x-a": "1"})
    saved = {}
    mismatches({"headers": {"$save": "all"}}, e, saved)
    assert saved == {"all": {"authorization": "Bearer KEY", "x-a": "1"}}


class Undecodable:
    """A stored answer that must not be decoded: find looks at requests only."""

    query = None
    sha256 = None

    def header_map(self):
        raise AssertionError("the answer was decoded")

    def body(self):
        raise AssertionError("the answer was decoded")


def stored_entry(body=b'{"email": "a@b.co"}', query="key=1"):
    sent = Raw(
        [("HTTP_AUTHORIZATION", "Bearer KEY"), ("HTTP_X_TRACE", "t-1")],
        body,
        "application/json",
        query,
        environ_headers=True,
    )
    return {
        "id": 1,
        "vendor": "botw",
        "operation": "botw.create_contact",
        "request": {"method": "POST", "path": "/crm/1", "raw": sent},
        "response": {"status": 201, "raw": Undecodable()},
    }


def test_only_the_request_parts_a_pattern_names_are_decoded():
    stored = stored_entry()
    assert matches_stored({"body": {"email": "a@b.co"}}, stored)
    assert matches_stored({"query": {"key": "1"}, "headers": {"x-trace": "t-1"}}, stored)
    assert matches_stored({"query": {"$eq": {}}}, stored_entry(query=""))  # no query at all
    assert not matches_stored({"query": {"key": "2"}}, stored)


def test_every_part_named_is_compared():
    stored = stored_entry()
    ok = {"query": {"key": "1"}, "headers": {"x-trace": "t-1"}, "body": {"email": "a@b.co"}}
    assert matches_stored(ok, stored)
    for part, wrong in (
        ("query", {"key": "2"}),
        ("headers", {"x-trace": "t-2"}),
        ("body", {"email": "x@b.co"}),
    ):
        assert not matches_stored({**ok, part: wrong}, stored), part


def test_a_stored_pattern_may_save():
    assert matches_stored({"body": {"email": {"$save": "e"}}}, stored_entry())
    assert matches_stored({"operation": {"$save": "op"}}, stored_entry())


def test_an_unknown_field_is_named_with_the_fields_there_are():
    with pytest.raises(TypeError) as failed:
        pattern(status=201, times=1)
    assert str(failed.value) == (
        "a request pattern has vendor, operation, method, path, query, headers, body; "
        "not status, times"
    )


def test_problems_are_matcher_violations_with_a_message():
    assert problems({"body": [{"a": {"$len": "${x}"}}]}) == [
        {
            "pointer": "/body/0/a/$len",
            "message": "expected a length (an integer >= 0)",
            "keyword": "matcher",
        }
    ]


def test_a_failure_shows_text_as_it_is():
    text = failure({"body": {"name": "Zoë"}}, [], [], None)
    assert text.startswith('expected at least 1 request(s) matching {"body": {"name": "Zoë"}}')
