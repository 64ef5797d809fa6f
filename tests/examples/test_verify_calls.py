"""The README's verify example: assert what the code under test sent, as WireMock's verify."""

import pytest
import requests


def add_lead(base_url, key, listing, email):  # the consumer's own client code
    r = requests.post(
        f"{base_url}/{listing}",
        data={"email": email},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )
    r.raise_for_status()


def test_add_lead_sends_one_create_with_the_email(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    add_lead(crmsim.url("botw"), "KEY", "123", "ann@example.com")
    crmsim.verify(
        operation="botw.create_contact",
        headers={"authorization": "Bearer KEY"},  # header names in any case
        body={"email": "ann@example.com", "phone": {"$absent": True}},  # scenario matchers
        times=1,
    )
    assert crmsim.count_requests(method="POST", path={"$match": "^/crm/"}) == 1
    crmsim.assert_no_unmatched()  # nothing was sent to a path no route serves


def test_a_failed_verify_shows_the_closest_request(crmsim):
    crmsim.load_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    add_lead(crmsim.url("botw"), "KEY", "123", "bob@example.com")
    with pytest.raises(AssertionError) as failed:
        crmsim.verify(operation="botw.create_contact", body={"email": "ann@example.com"})
    assert str(failed.value).splitlines()[1:] == [
        "the closest, #1 POST /crm/123 -> 201 (botw.create_contact), differs at:",
        '  /body/email: not equal; expected "ann@example.com", actual "bob@example.com"',
    ]
