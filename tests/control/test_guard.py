"""The control plane is closed unless opened on purpose (issue 13): the control token, the
JSON content type of writes, foreign Origins and (on loopback binds) foreign Hosts."""

import contextlib
import os
import signal
import subprocess
import sys

import pytest
import requests
from _serve import free_port
from helpers import read_line, wait_until

from simulator import create_app
from simulator.client import Client, SimulatorProblem
from simulator.config import Config, control_token
from simulator.guard import exposure, is_loopback

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOTW = {"api_keys": {"KEY": ["1"]}}


@pytest.fixture
def guarded():
    return create_app({"control_token": TOKEN}).test_client()


def problem(r, status, title):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    doc = r.get_json()
    assert (doc["status"], doc["title"]) == (status, title)
    return doc


# -- the token ------------------------------------------------------------------------------
CONTROL_CALLS = [
    ("GET", "/__sim/state", None),
    ("GET", "/__sim/journal", None),
    ("GET", "/__sim/outbox", None),
    ("GET", "/__sim/namespaces", None),
    ("GET", "/__sim/openapi.json", None),
    ("PUT", "/__sim/state/botw", BOTW),
    ("POST", "/__sim/reset", None),
    ("POST", "/__sim/faults", {"status": 503}),
    ("DELETE", "/__sim/journal", None),
    ("DELETE", "/__ns/other/__sim", None),
    ("GET", "/__ns/other/__sim/state", None),
    ("GET", "/__sim/no-such-route", None),
]


@pytest.mark.parametrize("method, path, doc", CONTROL_CALLS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "wrong", "not bearer"],
)
def test_with_a_token_every_control_call_needs_it(guarded, method, path, doc, headers):
    r = guarded.open(path, method=method, json=doc, headers=headers)
    body = problem(r, 401, "Control token required")
    assert "Authorization: Bearer <token>" in body["detail"]
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="crmsim control plane"'
    assert TOKEN not in r.get_data(as_text=True)


@pytest.mark.parametrize("method, path, doc", CONTROL_CALLS[:-1])
def test_with_the_token_control_calls_work(guarded, method, path, doc):
    r = guarded.open(path, method=method, json=doc, headers=AUTH)
    assert r.status_code in (200, 201), r.get_json()


def test_a_refused_call_changes_nothing_and_creates_no_namespace(guarded):
    guarded.put("/__ns/kept/__sim/state/botw", json=BOTW)
    guarded.put("/__ns/made/__sim/state/botw", json=BOTW)
    guarded.post("/__sim/reset")
    names = guarded.get("/__sim/namespaces", headers=AUTH).get_json()["namespaces"]
    assert "kept" not in names and "made" not in names


def test_health_and_the_dashboard_page_stay_open(guarded):
    assert guarded.get("/__sim/health").get_json()["status"] == "ok"
    assert guarded.get("/__ns/x/__sim/health").status_code == 200
    assert guarded.get("/__sim/ui").status_code == 200
    assert guarded.get("/__sim/ui/app.js").status_code == 200
    assert guarded.get("/__sim/ui/nothing.js").status_code == 404
    # open means GET: a write to an open path still needs the token
    assert guarded.post("/__sim/health").status_code == 401


def test_vendor_routes_stay_open_with_a_token(guarded):
    guarded.put("/__sim/state/botw", json=BOTW, headers=AUTH)
    r = guarded.post(
        "/crm/1", data={"email": "a@example.com"}, headers={"Authorization": "Bearer KEY"}
    )
    assert r.status_code == 201
    r = guarded.post("/crm/1", data={"email": "b@example.com"}, headers=AUTH)  # not BOTW's key
    assert r.status_code == 403 and r.get_json()["status"] == "error"


def test_without_a_token_the_control_plane_needs_none(client):
    assert client.get("/__sim/state").status_code == 200
    assert client.put("/__sim/state/botw", json=BOTW).status_code == 200


def test_an_empty_token_setting_is_no_token():
    assert control_token({"CRMSIM_CONTROL_TOKEN": "  "}) is None
    assert Config.from_env({"CRMSIM_CONTROL_TOKEN": ""}).control_token is None
    assert Config.from_env({"CRMSIM_CONTROL_TOKEN": "abc"}).control_token == "abc"


def test_the_python_client_sends_the_token_on_control_calls_only(monkeypatch):
    """Through the pytest plugin's in-process server, with the token from the environment."""
    from simulator.pytest_plugin import Crmsim, _Server

    monkeypatch.setenv("CRMSIM_CONTROL_TOKEN", TOKEN)
    server = _Server()
    try:
        sim = Crmsim(server.url, "plugin-ns", {})
        assert sim.token == TOKEN
        sim.load_state(BOTW, "botw")
        r = requests.post(
            sim.url("botw") + "/1",
            data={"email": "a@example.com"},
            headers={"Authorization": "Bearer KEY"},
            timeout=5,
        )
        assert r.status_code == 201
        assert [e["operation"] for e in sim.journal()] == ["botw.create_contact"]
        assert requests.get(server.url + "/__sim/state", timeout=5).status_code == 401
        wrong = Client(server.url, token="nope")
        with pytest.raises(SimulatorProblem) as caught:
            wrong.state()
        assert caught.value.status == 401
        sim.drop()
    finally:
        server.close()


# -- content type ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path, data, content_type",
    [
        ("POST", "/__sim/faults", '{"status": 503}', "text/plain"),
        ("POST", "/__sim/reset", "{}", "text/plain;charset=UTF-8"),
        ("POST", "/__sim/reset", "", "text/plain"),
        ("PUT", "/__sim/state/botw", "api_keys=x", "application/x-www-form-urlencoded"),
        ("PUT", "/__sim/settings", '{"journal_limit": 5}', None),
        ("PUT", "/__sim/seed", "--b--", "multipart/form-data; boundary=b"),
    ],
)
def test_control_writes_need_a_json_content_type(client, method, path, data, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.open(path, method=method, data=data, headers=headers)
    body = problem(r, 415, "Unsupported Media Type")
    assert "application/json" in body["detail"]
    assert client.get("/__sim/faults").get_json()["faults"] == []
    assert client.get("/__sim/settings").get_json()["journal_limit"] != 5


def test_writes_without_a_body_need_no_content_type(client):
    assert client.post("/__sim/reset").status_code == 200
    assert client.delete("/__sim/journal").status_code == 200
    assert client.delete("/__sim/faults").status_code == 200
    assert client.delete("/__ns/gone/__sim").status_code == 200


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_json_types_pass(client, content_type):
    r = client.put("/__sim/seed", data='{"seed": 4}', content_type=content_type)
    assert r.status_code == 200


def test_reads_need_no_content_type(client):
    r = client.get("/__sim/state", data="x", content_type="text/plain")
    assert r.status_code == 200


# -- Origin and Host ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://localhost:9999", "https://127.0.0.1"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_foreign_origins_are_refused(client, origin, method):
    r = client.open(
        "/__sim/reset" if method == "POST" else "/__sim/state",
        method=method,
        headers={"Origin": origin},
    )
    problem(r, 403, "Origin not allowed")


def test_the_pages_own_origin_passes(client):
    r = client.post("/__sim/reset", headers={"Origin": "http://localhost", "Host": "localhost"})
    assert r.status_code == 200
    r = client.post(
        "/__sim/reset", headers={"Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:8080"}
    )
    assert r.status_code == 200


def test_the_csrf_of_the_issue_is_refused(client):
    """A page's cross-site text/plain POST with a foreign Origin, through a rebound name."""
    r = client.post(
        "/__sim/state/botw",
        data='{"api_keys": {"EVIL": ["1"]}}',
        headers={
            "Content-Type": "text/plain",
            "Origin": "http://evil.example",
            "Host": "evil.example",
        },
    )
    assert r.status_code == 403
    assert client.get("/__sim/state/botw").get_json()["api_keys"] == {}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "10.0.0.5", "[fe80::1]"])
def test_on_a_loopback_bind_foreign_hosts_are_refused(client, host):
    body = problem(client.get("/__sim/state", headers={"Host": host}), 403, "Host not allowed")
    assert "DNS rebinding" in body["detail"]


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8080", "127.0.0.1:8080", "127.8.9.1", "[::1]:8080", "a.localhost"],
)
def test_loopback_hosts_pass(client, host):
    assert client.get("/__sim/state", headers={"Host": host}).status_code == 200


def test_a_request_without_host_is_no_rebinding(client):
    r = client.get("/__sim/state", environ_overrides={"HTTP_HOST": ""})
    assert r.status_code == 200


def test_vendor_routes_answer_any_host_and_origin(client):
    client.put("/__sim/state/botw", json=BOTW)
    r = client.post(
        "/crm/1",
        data={"email": "a@example.com"},
        headers={"Authorization": "Bearer KEY", "Host": "evil.example", "Origin": "http://x.io"},
    )
    assert r.status_code == 201


def test_with_a_token_a_proxy_may_pass_any_host(guarded):
    r = guarded.get("/__sim/state", headers={"Host": "crmsim.qa.example", **AUTH})
    assert r.status_code == 200
    assert guarded.get("/__sim/state", headers={"Host": "crmsim.qa.example"}).status_code == 401


def test_a_proxys_forwarded_host_is_the_pages_origin(client):
    headers = {"Origin": "https://crmsim.qa.example", "X-Forwarded-Host": "crmsim.qa.example"}
    assert client.post("/__sim/reset", headers=headers).status_code == 200
    headers["X-Forwarded-Host"] = "other.example"
    problem(client.post("/__sim/reset", headers=headers), 403, "Origin not allowed")


def test_beyond_loopback_the_host_is_not_checked():
    wide = create_app({"host": "0.0.0.0", "open_control_plane": True}).test_client()
    r = wide.get("/__sim/state", headers={"Host": "crmsim.qa.example"})
    assert r.status_code == 200


# -- serve refuses an open control plane beyond loopback ------------------------------------
def test_exposure_names_both_ways_out():
    why = exposure(Config(host="0.0.0.0"))
    assert "CRMSIM_CONTROL_TOKEN" in why and "--control-token" in why
    assert "--open-control-plane" in why and "CRMSIM_OPEN_CONTROL_PLANE" in why
    assert exposure(Config(host="0.0.0.0", control_token="x")) is None
    assert exposure(Config(host="0.0.0.0", open_control_plane=True)) is None
    assert exposure(Config(host="127.0.0.1")) is None
    assert exposure(Config(host="::1")) is None
    assert exposure(Config(host="localhost")) is None
    assert is_loopback("[::1]") and not is_loopback("0.0.0.0") and not is_loopback("::")


def _serve(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # _stop's SIGKILL reaches the server's workers too
    )


def test_serve_beyond_loopback_without_a_token_exits_2():
    proc = _serve("--host", "0.0.0.0", "--port", str(free_port()))
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        _kill_group(proc)  # had it started serving, it would not be left running
    assert proc.returncode == 2
    assert "--control-token" in err and "--open-control-plane" in err
    assert "serving on" not in err


def _started(proc, base):
    def health():
        assert proc.poll() is None, proc.stderr.read()
        try:
            return requests.get(base + "/__sim/health", timeout=1)
        except requests.RequestException:  # refused, or a read timeout while it boots
            return None

    return wait_until(health, timeout=20, what="crmsim serve answering")


def _stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=10)[1]
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return proc.communicate(timeout=10)[1]
    finally:
        _kill_group(proc)  # a worker left behind, if any


def _kill_group(proc):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "args, env, needs",
    [
        ((), {"CRMSIM_CONTROL_TOKEN": TOKEN}, TOKEN),
        (("--control-token", TOKEN), {}, TOKEN),
        (("--open-control-plane",), {}, None),
        ((), {"CRMSIM_OPEN_CONTROL_PLANE": "1"}, None),
        (("--generate-control-token",), {}, "generated"),
    ],
    ids=["env token", "flag token", "open flag", "open env", "generated"],
)
def test_serve_beyond_loopback_starts_either_way_out(args, env, needs):
    port = free_port()
    proc = _serve("--host", "0.0.0.0", "--port", str(port), *args, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        if needs == "generated":  # printed first, before the server starts
            line = read_line(proc.stderr, what="the generated control token")
            assert "control token (generated" in line
            needs = line.rsplit(": ", 1)[1].strip()
            assert len(needs) >= 30
        assert _started(proc, base).status_code == 200  # health is open either way
        anonymous = requests.get(base + "/__sim/state", timeout=5).status_code
        if needs is not None:
            auth = {"Authorization": f"Bearer {needs}"}
            assert requests.get(base + "/__sim/state", headers=auth, timeout=5).status_code == 200
    finally:
        err = _stop(proc)
    if needs is None:
        assert anonymous == 200
        assert "the control plane is open to anyone" in err
    else:
        assert anonymous == 401


# -- crmsim replay and record against a crmsim with a token ---------------------------------
@pytest.fixture(scope="module")
def served_with_token():
    port = free_port()
    proc = _serve("--port", str(port), env={"CRMSIM_CONTROL_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    try:
        assert _started(proc, base).status_code == 200
        yield base
    finally:
        _stop(proc)


SCENARIO = "scenarios/botw/create_and_search.yaml"


def test_replay_sends_the_token(served_with_token, tmp_path):
    from simulator.replay import replay

    lines = []
    assert replay([SCENARIO], served_with_token, echo=lines.append, control_token=TOKEN) == 0
    assert lines[-1].endswith("1 of 1 scenario(s) passed")


def test_replay_without_the_token_says_so_and_exits_2(served_with_token, capsys):
    from simulator.replay import replay

    assert replay([SCENARIO], served_with_token, echo=lambda _: None) == 2
    assert "wants a control token: pass --control-token" in capsys.readouterr().err
    assert replay([SCENARIO], served_with_token, control_token="nope") == 2
    assert "(the one sent is not it)" in capsys.readouterr().err


def test_record_sends_the_token(served_with_token, tmp_path, capsys):
    from simulator.replay import record

    ns = f"{served_with_token}/__ns/rec"
    requests.put(f"{ns}/__sim/state/botw", json=BOTW, headers=AUTH, timeout=5)
    requests.post(
        f"{ns}/crm/1",
        data={"email": "a@example.com"},
        headers={"Authorization": "Bearer KEY"},
        timeout=5,
    )
    out = tmp_path / "rec.yaml"
    assert record(served_with_token, "rec", None, str(out), "rec") == 2
    assert "wants a control token" in capsys.readouterr().err
    assert record(served_with_token, "rec", None, str(out), "rec", TOKEN) == 0
    assert "botw.create_contact" in out.read_text()


def test_the_cli_reads_the_token_from_the_environment(served_with_token, tmp_path):
    env = {**os.environ, "CRMSIM_CONTROL_TOKEN": TOKEN}
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "replay", SCENARIO, "--target", served_with_token],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "replay", SCENARIO, "--target", served_with_token]
        + ["--control-token", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "wants a control token" in proc.stderr
