"""verify, find_requests, count_requests and assert_no_unmatched of the Python client, through
the pytest plugin's ``crmsim`` fixture (a served crmsim, over HTTP)."""

import pytest
import requests

from simulator.client import Client, SimulatorProblem
from simulator.pytest_plugin import Crmsim

KEY = {"Authorization": "Bearer KEY"}


@pytest.fixture
def botw(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    base = crmsim.url("botw")

    def create(**form):
        r = requests.post(f"{base}/123", data=form, headers=KEY, timeout=5)
        assert r.status_code == 201, r.text

    return create


def test_the_fixture_is_a_client(crmsim):
    assert isinstance(crmsim, Crmsim) and isinstance(crmsim, Client)


def test_verify_passes_and_returns_the_matching_requests(crmsim, botw):
    botw(email="ann@example.com", first_name="Ann")
    [entry] = crmsim.verify(
        operation="botw.create_contact", body={"email": "ann@example.com"}, times=1
    )
    assert entry["request"]["body"]["first_name"] == "Ann"
    assert crmsim.verify(method="post", headers={"authorization": "Bearer KEY"})  # at least one
    crmsim.verify(operation="botw.delete_contact", times=0)


def test_verify_fails_showing_the_closest_entry_and_its_differences(crmsim, botw):
    botw(email="bob@example.com", first_name="Bob")
    with pytest.raises(AssertionError) as failed:
        crmsim.verify(operation="botw.create_contact", body={"email": "ann@example.com"}, times=1)
    assert str(failed.value).splitlines() == [
        'expected exactly 1 request(s) matching {"operation": "botw.create_contact", '
        '"body": {"email": "ann@example.com"}}; found 0 of the 1 journaled',
        "the closest, #1 POST /crm/123 -> 201 (botw.create_contact), differs at:",
        '  /body/email: not equal; expected "ann@example.com", actual "bob@example.com"',
    ]


def test_verify_fails_on_a_wrong_count_listing_the_matches(crmsim, botw):
    botw(email="a@example.com")
    botw(email="b@example.com")
    with pytest.raises(AssertionError, match="found 2 of the 2 journaled") as failed:
        crmsim.verify(operation="botw.create_contact", times=1)
    assert "  #2 POST /crm/123 -> 201 (botw.create_contact)" in str(failed.value)
    with pytest.raises(AssertionError, match="found 2"):
        crmsim.verify(operation="botw.create_contact", times=0)


def test_the_closest_is_the_entry_with_the_fewest_differences(crmsim, botw):
    botw(email="ann@example.com", first_name="Bob")
    botw(email="zed@example.com", first_name="Zed")
    with pytest.raises(AssertionError) as failed:
        crmsim.verify(body={"email": "ann@example.com", "first_name": "Ann"})
    text = str(failed.value)
    assert "the closest, #1 POST" in text
    assert "/body/first_name: not equal" in text and "/body/email" not in text


def test_find_and_count_take_a_document_and_keyword_fields(crmsim, botw):
    botw(email="ann@example.com")
    botw(email="bob@example.com", first_name="Bob")
    assert crmsim.count_requests() == 2
    assert crmsim.count_requests({"body": {"first_name": {"$absent": True}}}) == 1
    found = crmsim.find_requests({"method": "POST"}, body={"email": {"$match": "^bob@"}})
    assert [e["request"]["body"]["email"] for e in found] == ["bob@example.com"]


def test_a_bad_pattern_is_a_problem_with_its_pointer(crmsim):
    with pytest.raises(SimulatorProblem) as failed:
        crmsim.count_requests(body={"email": {"$match": "("}})
    assert [e["pointer"] for e in failed.value.errors] == ["/body/email/$match"]
    with pytest.raises(TypeError, match="not status"):
        crmsim.count_requests({"status": 201})


def test_assert_no_unmatched_lists_requests_that_hit_no_route(crmsim, botw):
    botw(email="ann@example.com")
    crmsim.assert_no_unmatched()
    base = crmsim.url("botw")
    assert requests.get(f"{base}/123/contacts", headers=KEY, timeout=5).status_code == 404
    assert requests.get(crmsim.base_url + "/nowhere", timeout=5).status_code == 404
    with pytest.raises(AssertionError) as failed:
        crmsim.assert_no_unmatched()
    assert str(failed.value).splitlines() == [
        "2 request(s) hit no route:",
        "  #2 GET /crm/123/contacts -> 404 (no route)",
        "  #3 GET /nowhere -> 404 (no route)",
    ]


def test_verify_sees_calls_made_to_the_vendors_real_hosts(crmsim_intercept):
    crmsim_intercept.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    r = requests.post(
        "https://api.botw.org/crm/123", data={"email": "ann@example.com"}, headers=KEY, timeout=5
    )
    assert r.status_code == 201
    crmsim_intercept.verify(operation="botw.create_contact", body={"email": "ann@example.com"})
    crmsim_intercept.assert_no_unmatched()
