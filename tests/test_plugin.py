"""The pytest plugin: in-process server, a namespace per test, parallel runs, the marker."""

import pytest
import requests

from simulator.client import SimulatorProblem
from simulator.pytest_plugin import _Server

pytest_plugins = ["pytester"]


def test_in_process_server_starts_and_answers():
    """How fast it starts is measured by bench/, not asserted here (a busy machine varies)."""
    server = _Server()
    try:
        assert requests.get(server.url + "/__sim/health", timeout=5).json()["status"] == "ok"
    finally:
        server.close()


def test_each_test_gets_its_own_namespace(crmsim, crmsim_server):
    crmsim.load_state({"botw": {"api_keys": {"K": ["1"]}}})
    assert crmsim.namespace in crmsim.namespaces()
    other = crmsim.namespace_client("someone-else")
    assert other.state("botw")["api_keys"] == {}
    assert crmsim.url("botw") == f"{crmsim_server}/__ns/{crmsim.namespace}/crm"


def test_client_helpers(crmsim):
    crmsim.freeze("2024-06-01T12:00:00Z")
    assert crmsim.advance(60)["now"] == "2024-06-01T12:01:00Z"
    crmsim.update_settings(journal_limit=5)
    assert crmsim.settings()["journal_limit"] == 5
    requests.get(crmsim.url("botw") + "/1", timeout=5)
    assert [e["response"]["status"] for e in crmsim.journal(vendor="botw")] == [403]
    crmsim.clear_journal()
    assert crmsim.journal() == []
    assert crmsim.outbox() == []


def test_client_raises_the_problem_document(crmsim):
    with pytest.raises(SimulatorProblem) as info:
        crmsim.load_state({"botw": {"contacts": [{"contact_id": "x"}]}})
    assert info.value.status == 400
    assert {e["pointer"] for e in info.value.errors} == {
        "/botw/contacts/0/contact_id",
        "/botw/contacts/0/listing_id",
    }
    assert "/botw/contacts/0/contact_id" in str(info.value)


def test_marker_points_at_the_real_vendor_when_configured(pytester, monkeypatch):
    monkeypatch.setenv("CRMSIM_REAL_BOTW_URL", "https://sandbox.example/crm/")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.crmsim_vendor("botw")
        def test_real(crmsim):
            assert crmsim.real
            assert crmsim.url("botw") == "https://sandbox.example/crm"
            crmsim.state()  # a real vendor has no control plane: skips

        def test_simulated(crmsim):
            assert not crmsim.real
            assert crmsim.url("botw").endswith("/crm")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)


def test_parallel_tests_do_not_see_each_other(pytester):
    body = "\n".join(
        f"""
def test_{i}(crmsim):
    crmsim.load_state({{"botw": {{"api_keys": {{"K{i}": ["1"]}}}}}})
    import requests
    for _ in range(5):
        r = requests.post(crmsim.url("botw") + "/1", data={{"email": "a@b.co"}},
                          headers={{"Authorization": "Bearer K{i}"}}, timeout=5)
        assert r.status_code == 201
    assert len(crmsim.state("botw")["contacts"]) == 5
    assert list(crmsim.state("botw")["api_keys"]) == ["K{i}"]
"""
        for i in range(6)
    )
    pytester.makepyfile(body)
    result = pytester.runpytest("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
