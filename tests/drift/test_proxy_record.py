"""crmsim proxy: requests forwarded to the "real" vendor (a crmsim process), its answers
returned unchanged, the session written as a scenario by record's normaliser, secrets
redacted into vars that a replay takes from CRMSIM_VAR_<NAME>."""

import requests
import yaml

from simulator.proxy import DEFAULT_REDACT, Recording, Redactor
from simulator.replay import replay

AUTH = {"Authorization": "Bearer KEY"}


def session(base):
    """Create, find, update: three BOTW calls through ``base``; their answers."""
    created = requests.post(
        base + "/crm/123",
        headers=AUTH,
        data={"first_name": "John", "email": "john@example.com"},
        timeout=10,
    )
    found = requests.get(
        base + "/crm/123", params={"email": "john@example.com"}, headers=AUTH, timeout=10
    )
    updated = requests.put(
        base + "/crm/123", headers=AUTH, data={"id": "1", "first_name": "Jack"}, timeout=10
    )
    return created, found, updated


def test_answers_come_back_unchanged(real, start_proxy):
    base, _ = start_proxy({"botw": real})
    created = requests.post(
        base + "/crm/123", headers=AUTH, data={"first_name": "A", "email": "a@b.co"}, timeout=10
    )
    direct = requests.get(real + "/crm/123", params={"email": "a@b.co"}, headers=AUTH, timeout=10)
    assert created.status_code == 201
    assert created.json()["status"] == "success"
    assert direct.json()["data"]["results"][0]["contact_email"] == "a@b.co"  # it reached real
    refused = requests.post(base + "/crm/123", data={"email": "x@y.zz"}, timeout=10)
    assert refused.status_code == direct_status(real)
    assert refused.json() == requests.post(real + "/crm/123", data={"email": "x@y.zz"}).json()
    assert refused.headers["Content-Type"] == "application/json"
    assert "Transfer-Encoding" not in refused.headers
    # the vendor's own Server and Date, not the proxy's besides
    assert refused.headers["Server"] == direct.headers["Server"]
    assert "," not in refused.headers["Date"].partition(", ")[2]


def direct_status(real):
    return requests.post(real + "/crm/123", data={"email": "x@y.zz"}, timeout=10).status_code


def test_a_path_of_no_proxied_vendor_is_404(real, start_proxy):
    base, recording = start_proxy({"botw": real})
    r = requests.post(base + "/antcrm/webhook/listener/x", json={}, timeout=10)
    assert r.status_code == 404
    assert "no --vendor serves /antcrm/webhook/listener/x" in r.json()["detail"]
    assert recording.entries == []


def test_the_recording_redacts_the_key_and_replays_with_it(
    real, start_proxy, tmp_path, monkeypatch
):
    base, recording = start_proxy({"botw": real})
    created, found, updated = session(base)
    assert (created.status_code, found.status_code, updated.status_code) == (201, 200, 200)
    text = recording.output.read_text()
    assert "KEY" not in text.replace("BOTW_AUTHORIZATION", "")
    doc = yaml.safe_load(text)
    assert doc["vars"] == {"botw_authorization": None}
    assert [s["operation"] for s in doc["steps"]] == [
        "botw.create_contact",
        "botw.search_contacts",
        "botw.update_contact",
    ]
    assert doc["steps"][0]["headers"] == {"Authorization": "Bearer ${botw_authorization}"}
    assert doc["steps"][0]["form"] == {"first_name": "John", "email": "john@example.com"}
    assert doc["steps"][0]["expect"]["status"] == 201
    # record's normaliser: the generated unique id is a pattern, not the real one's value
    found = doc["steps"][1]["expect"]["body"]["data"]["results"][0]
    assert found["contact_unique_id"] == {"$match": r"^l-\d{8}$"}
    assert found["contact_email"] == "john@example.com"

    # crmsim accepts the same key: the given state names it through the var too
    doc["given"] = {"botw": {"api_keys": {"${botw_authorization}": ["123"]}}}
    path = tmp_path / "session.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    lines = []
    monkeypatch.delenv("CRMSIM_VAR_BOTW_AUTHORIZATION", raising=False)
    assert replay([str(path)], echo=lines.append) == 1
    assert "vars: botw_authorization has no value; set CRMSIM_VAR_BOTW_AUTHORIZATION" in (
        "\n".join(lines)
    )
    monkeypatch.setenv("CRMSIM_VAR_BOTW_AUTHORIZATION", "KEY")
    lines.clear()
    assert replay([str(path)], echo=lines.append) == 0, "\n".join(lines)


def entry(method, path, headers=None, query=None, body=None, status=200, answer=None):
    return {
        "vendor": "crmcom",
        "operation": None,
        "request": {
            "method": method,
            "path": path,
            "query": query or {},
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": body,
        },
        "response": {"status": status, "body": answer},
    }


def test_redaction_by_name_pointer_echo_and_handed_out_tokens(tmp_path):
    recording = Recording(tmp_path / "r.yaml", Redactor([*DEFAULT_REDACT, "/login/pin"]))
    recording.add(
        entry(
            "POST",
            "/auth",
            body={"username": "ann", "Password": "s3cret!", "login": {"pin": "9876"}},
            answer={"token": "opaque-session-value", "user": "ann", "echo": "pw was s3cret!"},
        )
    )
    recording.add(
        entry(
            "GET",
            "/contacts",
            headers={"Authorization": "Bearer opaque-session-value"},
            query={"api_key": "AK-123456"},
        )
    )
    doc = recording.document()
    text = recording.output.read_text()
    for secret in ("s3cret!", "9876", "AK-123456", "opaque-session-value"):
        assert secret not in text
    assert doc["vars"] == {"crmcom_api_key": None, "crmcom_password": None, "crmcom_pin": None}
    first, second = doc["steps"]
    assert first["json"] == {
        "username": "ann",
        "Password": "${crmcom_password}",
        "login": {"pin": "${crmcom_pin}"},
    }
    # an answer's secret-named field is matched by pattern and saved for the later request
    assert first["expect"]["body"]["token"] == {"$match": "^.+$", "$save": "token"}
    assert first["expect"]["body"]["echo"] == "pw was ${crmcom_password}"
    assert second["headers"]["Authorization"] == "Bearer ${token}"
    assert second["query"] == {"api_key": "${crmcom_api_key}"}


def test_only_what_is_named_is_redacted(tmp_path):
    recording = Recording(tmp_path / "r.yaml", Redactor(["x-secret"]))
    recording.add(entry("GET", "/a", headers={"X-Secret": "abcdef", "Authorization": "Basic zz"}))
    step = recording.document()["steps"][0]
    assert step["headers"] == {"X-Secret": "${crmcom_x_secret}", "Authorization": "Basic zz"}


def test_the_command_refuses_a_bad_vendor_option():
    from click.testing import CliRunner

    from simulator.cli import main

    result = CliRunner().invoke(main, ["proxy", "--vendor", "nope=http://x", "--port", "0"])
    assert result.exit_code == 2
    assert "nope is not a vendor" in result.output
    result = CliRunner().invoke(main, ["proxy", "--vendor", "botw=sandbox.example"])
    assert result.exit_code == 2
    assert "write VENDOR=http(s)://HOST" in result.output
