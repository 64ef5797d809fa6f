"""Which hosts are intercepted, where their paths go, and what happens to the others."""

import re
import threading
from pathlib import Path

import httpcore
import httpx
import pytest
import requests
from _intercept import AUTH, BOTW, STATE

from simulator import create_app
from simulator.intercept import DEFAULT_HOSTS, Intercept, intercept

OMOTO = {"omoto": {"campaigns": [{"campaign_id": "154", "api_key": "DEMOKEY"}]}}
CUSTOMER = [{"personalinfo": {"firstname": "bertram", "email": "bertie@jeeves.com"}}]


def test_each_vendors_default_host_is_intercepted():
    with intercept() as sim:
        for vendor, url in [
            ("botw", "https://api.botw.org/crm/1"),
            ("omoto", "https://acme.omoto.io/omoto/receivecustomerinfo.htm"),
            ("crmcom", "https://acme.crm.com/crmapi/rest/v2/nope"),
            ("antcrm", "https://crm.antbuddy.com/antcrm/webhook/listener/nope"),
        ]:
            r = requests.post(url, timeout=5)
            assert r.status_code < 500, (vendor, r.text)
        vendors = [e["vendor"] for e in sim.client.journal()]
    assert sorted(vendors) == ["antcrm", "botw", "crmcom", "omoto"]
    assert set(DEFAULT_HOSTS) == {"antcrm", "botw", "crmcom", "omoto"}


def test_omoto_on_a_customer_subdomain():
    with intercept() as sim:
        sim.client.put_state(OMOTO)
        r = requests.post(
            "https://acme.omoto.io/omoto/receivecustomerinfo.htm?key=DEMOKEY",
            json=CUSTOMER,
            timeout=5,
        )
        assert r.status_code == 200, r.text
        assert len(sim.client.outbox(kind="survey-invite")) == 1


def test_a_host_that_only_looks_like_a_vendors_is_not_intercepted():
    with intercept(others="fail"):
        for url in ("https://api.botw.org.example.com/crm/1", "https://xapi.botw.org/crm/1"):
            with pytest.raises(requests.ConnectionError):
                requests.get(url, timeout=5)
            with pytest.raises(httpx.ConnectError):
                httpx.get(url)


def test_hosts_and_paths_are_configurable():
    hosts = {"crmcom": r"crm\.acme\.test", "botw": None}
    with intercept(hosts=hosts, paths={"crmcom": "/api/v2"}, others="fail") as sim:
        r = httpx.post(
            "https://crm.acme.test/api/v2/authentication/token",
            json={"username": "nobody", "password": "x"},
        )
        assert r.json()["status"]["code"] != "OK"
        [entry] = sim.client.journal()
        assert (entry["operation"], entry["request"]["path"]) == (
            "crmcom.authenticate",
            "/crmapi/rest/v2/authentication/token",
        )
        with pytest.raises(requests.ConnectionError):  # BOTW is left alone
            requests.get(BOTW, timeout=5)


def test_the_real_path_reaches_a_mounted_vendor():
    app = create_app({"mounts": {"crmcom": "/crm", "botw": "/botw"}})
    with intercept(app) as sim:
        sim.client.put_state(STATE)
        assert requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).ok
        r = requests.post("https://acme.crm.com/crmapi/rest/v2/authentication/token", json={})
        assert r.status_code < 500
        paths = [e["request"]["path"] for e in sim.client.journal()]
    assert paths == ["/botw/123", "/crm/authentication/token"]


def test_a_path_outside_the_vendors_api_gets_crmsims_404(sim):
    r = requests.get("https://api.botw.org/elsewhere", timeout=5)
    assert r.status_code == 404
    assert "closest_routes" in r.json()


def test_unknown_vendors_and_bad_others_are_refused():
    with pytest.raises(ValueError, match="no such vendor: hubspot"):
        intercept(hosts={"hubspot": r"api\.hubapi\.com"})
    with pytest.raises(ValueError, match="others"):
        intercept(others="ignore")


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_other_hosts_pass_through_by_default(crmsim, client):
    crmsim.load_state(STATE)
    url = crmsim.url("botw") + "/123"  # the served crmsim is just another host here
    with intercept() as sim:
        if client == "requests":
            r = requests.post(url, data={"email": "a@example.com"}, headers=AUTH, timeout=5)
        else:
            r = httpx.post(url, data={"email": "a@example.com"}, headers=AUTH)
        assert r.status_code == 201
        assert sim.client.journal() == []
    assert len(crmsim.journal()) == 1


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_other_hosts_fail_when_configured(crmsim, client):
    url = crmsim.url("botw") + "/123"
    with intercept(others="fail"):
        if client == "requests":
            with pytest.raises(requests.ConnectionError, match="Connection refused by Responses"):
                requests.post(url, data={"email": "a@example.com"}, timeout=5)
        else:
            with pytest.raises(httpx.ConnectError, match="others='fail'"):
                httpx.post(url, data={"email": "a@example.com"})
    assert crmsim.journal() == []  # the request never left


def test_a_thread_started_inside_the_block_is_intercepted(sim):
    results = []

    def worker(email):
        r = requests.post(BOTW, data={"email": email}, headers=AUTH, timeout=5)
        s = httpx.get(BOTW, params={"email": email}, headers=AUTH)
        results.append((r.status_code, s.status_code))

    threads = [threading.Thread(target=worker, args=(f"t{i}@example.com",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert results == [(201, 200)] * 4
    assert len(sim.client.state("botw")["contacts"]) == 4


def test_the_decorator_gives_each_call_a_fresh_crmsim():
    mock = intercept(others="fail")

    @mock
    def add(email):
        mock.client.put_state(STATE)
        assert requests.post(BOTW, data={"email": email}, headers=AUTH, timeout=5).ok
        return [c["email"] for c in mock.client.state("botw")["contacts"]]

    assert add("a@example.com") == ["a@example.com"]
    assert add("b@example.com") == ["b@example.com"]


def test_leaving_the_block_restores_both_clients(crmsim):
    send, handle = requests.adapters.HTTPAdapter.send, httpcore.ConnectionPool.handle_request
    with intercept(others="fail"):
        assert requests.adapters.HTTPAdapter.send is not send
        assert httpcore.ConnectionPool.handle_request is not handle
    assert requests.adapters.HTTPAdapter.send is send
    assert httpcore.ConnectionPool.handle_request is handle
    # and the network is reachable again
    assert httpx.get(crmsim.url("botw") + "/123").status_code == 403


def test_one_app_many_namespaces():
    app = create_app()
    with intercept(app, namespace="one") as one:
        one.client.put_state(STATE)
        assert requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).ok
    with intercept(app, namespace="two") as two:
        assert requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).status_code == 403
        assert [e["vendor"] for e in two.client.namespace_client("one").journal()] == ["botw"]
        assert len(two.client.journal()) == 1


def test_an_intercept_is_entered_once_at_a_time():
    mock = Intercept()
    with mock, pytest.raises(RuntimeError, match="active already"):
        mock.__enter__()
    with pytest.raises(RuntimeError, match="before it is entered"):
        Intercept().app  # noqa: B018


def test_the_documented_default_hosts_are_the_defaults():
    text = (Path(__file__).parents[2] / "docs" / "testing.md").read_text()
    rows = re.findall(r"^  \| (\w+) \| `([^`]+)` \|", text, re.M)
    assert dict(rows) == DEFAULT_HOSTS


def test_one_intercept_at_a_time():
    with intercept(), pytest.raises(RuntimeError, match="one intercept at a time"):
        intercept().__enter__()
    with intercept() as sim:  # the refused one left nothing behind
        assert sim.client.health()["status"] == "ok"


def test_a_control_token_guards_the_intercepts_control_plane(monkeypatch):
    monkeypatch.setenv("CRMSIM_CONTROL_TOKEN", "s3cret")
    with intercept() as sim:
        sim.client.put_state(STATE)  # the client sends the token
        r = requests.get("http://crmsim.localhost/__sim/journal", timeout=5)
        assert r.status_code == 401
        # vendor routes stay as open as the vendor's
        assert requests.post(BOTW, data={"email": "a@example.com"}, headers=AUTH).ok
