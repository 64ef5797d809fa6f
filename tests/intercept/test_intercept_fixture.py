"""The plugin's side: ``crmsim.intercept()`` and the ``crmsim_intercept`` fixture serve the
vendors' real hosts in the test's own namespace of the session's crmsim."""

import httpx
import pytest
import requests
from _intercept import AUTH, BOTW, STATE


def test_crmsim_intercept_feeds_the_tests_namespace(crmsim):
    crmsim.load_state(STATE)
    with crmsim.intercept() as active:
        assert active.namespace == crmsim.namespace
        assert requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).ok
        assert len(crmsim.journal()) == 1  # control calls work inside the block
    [entry] = crmsim.journal()  # and after it, through the served crmsim
    assert entry["operation"] == "botw.create_contact"


def test_control_calls_work_inside_a_failing_intercept(crmsim):
    with crmsim.intercept(others="fail"):
        crmsim.load_state(STATE)
        assert httpx.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).status_code == 201
        assert crmsim.state("botw")["contacts"][0]["email"] == "a@example.com"


def test_the_fixture(crmsim_intercept):
    crmsim_intercept.load_state(STATE)
    r = requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH, timeout=5)
    assert r.status_code == 201
    assert crmsim_intercept.journal(operation="botw.create_contact")[0]["response"]["status"] == 201


@pytest.mark.crmsim_vendor("botw")
def test_a_vendor_run_against_its_sandbox_is_left_alone(crmsim):
    crmsim.real_urls["botw"] = "https://sandbox.example.com"  # as CRMSIM_REAL_BOTW_URL does
    with crmsim.intercept(others="fail") as active:
        assert active.hosts["botw"] is None
        with pytest.raises(requests.ConnectionError):
            requests.get(BOTW, timeout=5)
    crmsim.real_urls.clear()


def test_an_external_crmsim_cannot_be_intercepted(crmsim):
    crmsim.app = None  # as when crmsim_server is overridden with a crmsim served elsewhere
    with pytest.raises(RuntimeError, match="in-process crmsim"):
        crmsim.intercept()
