"""HTTPS: `crmsim cert` makes a local CA and a certificate for the vendors' host names, and
`crmsim serve --certfile --keyfile` serves every vendor route and the control plane over TLS
under granian and gunicorn, to clients that verify against that CA (and to none that do not)."""

import asyncio
import datetime
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
from _serve import serving
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simulator.cli import main
from simulator.config import Config
from simulator.intercept import DEFAULT_HOSTS
from simulator.testing import operations
from simulator.tls import VALID_DAYS, VENDOR_HOSTS, default_hosts

STATE = {
    "omoto": {"campaigns": [{"campaign_id": "154", "api_key": "DEMOKEY"}]},
    "antcrm": {
        "orgs": [{"org_id": "acme", "users": ["me@acme.vn"]}],
        "listeners": [{"listener_id": "wh-1", "org_id": "acme"}],
    },
    "crmcom": {
        "users": [{"username": "api.user", "password": "s3cret", "organisation": "ACME"}],
        "web_api_keys": [{"key": "WEBKEY", "organisation": "ACME"}],
        "provisioning_providers": [{"id": "PROV1", "name": "Generic One"}],
    },
    "botw": {"api_keys": {"KEY": ["123"]}},
}
BOTW = {"Authorization": "Bearer KEY"}


def cert(*args):
    return CliRunner().invoke(main, ["cert", *args])


def load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def names(certificate):
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n) for n in san.get_values_for_type(x509.DNSName)} | {
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    }


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """``crmsim cert`` in a temporary directory: (ca.pem, cert.pem, key.pem)."""
    out = tmp_path_factory.mktemp("tls")
    made = cert("--out", str(out))
    assert made.exit_code == 0, made.output
    return out / "ca.pem", out / "cert.pem", out / "key.pem"


# -- crmsim cert ----------------------------------------------------------------------------
def test_cert_makes_a_ca_and_a_certificate_for_the_vendors_hosts_and_this_machine(tls):
    ca_path, cert_path, key_path = tls
    ca, leaf = load(ca_path), load(cert_path)
    assert names(leaf) == {
        "api.botw.org",
        "*.omoto.io",
        "*.antbuddy.com",
        "*.crm.com",
        "localhost",
        "127.0.0.1",
        "::1",
    }
    assert set(default_hosts()) == names(leaf)
    leaf.verify_directly_issued_by(ca)  # raises unless the CA signed it
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lasts = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lasts <= datetime.timedelta(days=VALID_DAYS + 1)  # Apple's clients: 825 days at most
    assert leaf.not_valid_before_utc < datetime.datetime.now(datetime.UTC)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"  # the key is its owner's only
    assert "PRIVATE KEY" not in ca_path.read_text()  # the CA's key is nowhere


def test_the_certificate_names_the_hosts_crmsim_intercept_takes_for_each_vendor():
    for vendor, pattern in DEFAULT_HOSTS.items():
        hosts = VENDOR_HOSTS[vendor]
        assert hosts, vendor
        for host in hosts:  # a wildcard stands for one label
            assert re.fullmatch(pattern, host.replace("*", "tenant")), (vendor, host, pattern)


def test_cert_prints_how_to_use_the_files(tmp_path):
    made = cert("--out", str(tmp_path))
    assert made.exit_code == 0
    for shown in (
        f"--certfile {tmp_path / 'cert.pem'} --keyfile {tmp_path / 'key.pem'}",
        f"curl --cacert {tmp_path / 'ca.pem'} https://localhost:8443/__sim/health",
        f"verify='{tmp_path / 'ca.pem'}'",
        "--resolve api.botw.org:8443:127.0.0.1 https://api.botw.org:8443/crm/123",
    ):
        assert shown in made.output


def test_cert_takes_other_hosts(tmp_path):
    made = cert("--out", str(tmp_path), "--hosts", "crm.example.com,10.0.0.7", "--hosts", "*.x.io")
    assert made.exit_code == 0, made.output
    assert names(load(tmp_path / "cert.pem")) == {"crm.example.com", "10.0.0.7", "*.x.io"}


def test_cert_refuses_to_overwrite_a_ca_clients_may_trust_unless_forced(tmp_path):
    assert cert("--out", str(tmp_path)).exit_code == 0
    before = (tmp_path / "ca.pem").read_bytes()
    again = cert("--out", str(tmp_path))
    assert again.exit_code == 2
    assert "refusing to overwrite" in again.output and "--force" in again.output
    assert (tmp_path / "ca.pem").read_bytes() == before
    assert cert("--out", str(tmp_path), "--force").exit_code == 0
    assert (tmp_path / "ca.pem").read_bytes() != before


def test_cert_refuses_a_name_that_is_no_host(tmp_path):
    made = cert("--out", str(tmp_path), "--hosts", "not a host")
    assert made.exit_code == 2
    assert made.output.startswith("crmsim: not a host name or address")
    assert not (tmp_path / "ca.pem").exists()


# -- crmsim serve: settings checked before anything starts ---------------------------------
def test_the_files_come_from_the_environment_too():
    config = Config.from_env({"CRMSIM_CERTFILE": "c.pem", "CRMSIM_KEYFILE": "k.pem"})
    assert (str(config.certfile), str(config.keyfile)) == ("c.pem", "k.pem")
    empty = Config.from_env({"CRMSIM_CERTFILE": "", "CRMSIM_KEYFILE": " "})
    assert (empty.certfile, empty.keyfile) == (None, None)


@pytest.mark.parametrize(
    "which, message",
    [
        ("cert only", "crmsim: --certfile needs --keyfile (CRMSIM_CERTFILE and CRMSIM_KEYFILE)"),
        ("key only", "crmsim: --keyfile needs --certfile"),
        ("missing", "crmsim: cannot read {tmp}/none.pem: No such file or directory"),
        (
            "another key",
            "crmsim: cannot serve HTTPS with --certfile {cert} and --keyfile {tmp}/key",
        ),
        ("key as cert", "crmsim: {key} holds no PEM certificate"),
        ("cert as key", "crmsim: {cert} holds no PEM private key"),
        ("encrypted key", "crmsim: {tmp}/enc.pem is encrypted: crmsim takes a key without"),
    ],
)
def test_serve_refuses_files_that_cannot_serve_https(tls, tmp_path, which, message):
    _, cert_path, key_path = tls
    assert cert("--out", str(tmp_path)).exit_code == 0
    args = {
        "cert only": ["--certfile", str(cert_path)],
        "key only": ["--keyfile", str(key_path)],
        "missing": ["--certfile", str(tmp_path / "none.pem"), "--keyfile", str(key_path)],
        "another key": ["--certfile", str(cert_path), "--keyfile", str(tmp_path / "key.pem")],
        "key as cert": ["--certfile", str(key_path), "--keyfile", str(key_path)],
        "cert as key": ["--certfile", str(cert_path), "--keyfile", str(cert_path)],
        "encrypted key": ["--certfile", str(cert_path), "--keyfile", str(tmp_path / "enc.pem")],
    }[which]
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    encrypted = serialization.BestAvailableEncryption(b"secret")
    (tmp_path / "enc.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encrypted)
    )
    message = message.format(tmp=tmp_path, cert=cert_path, key=key_path)
    refused = CliRunner().invoke(main, ["serve", "--port", "1", *args])
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith(message), refused.output
    assert refused.output.count("\n") == 1


# -- served over TLS ----------------------------------------------------------------------
@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def https(request, tls):
    """A served crmsim over HTTPS: (base URL, CA path). granian takes the files as flags,
    gunicorn from CRMSIM_CERTFILE and CRMSIM_KEYFILE."""
    ca, cert_path, key_path = tls
    if request.param == "granian":
        args, env = ["--certfile", str(cert_path), "--keyfile", str(key_path)], {}
    else:
        args, env = [], {"CRMSIM_CERTFILE": str(cert_path), "CRMSIM_KEYFILE": str(key_path)}
    with serving("--server", request.param, *args, env=env, ca=ca) as (base, proc):
        assert base.startswith("https://")
        assert "serving on https://127.0.0.1:" in proc.output()
        yield base, str(ca)


class Verified:
    """``requests`` calls that verify against ``ca``, given with each call: a Session's own
    ``verify`` loses to REQUESTS_CA_BUNDLE when that is set (docs/serving.md, HTTPS)."""

    def __init__(self, ca):
        self.ca = ca

    def request(self, method, url, **kwargs):
        return requests.request(method, url, verify=self.ca, timeout=10, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)


def every_operation(session, base):
    """One request per vendor operation, each answered the vendor's success."""
    ns = base + "/__ns/every"
    r = session.put(ns + "/__sim/state", json=STATE)
    assert r.status_code == 200, r.text
    answers = {}

    def call(op, method, path, **kwargs):
        r = session.request(method, ns + path, **kwargs)
        answers[op] = r.status_code
        return r

    call(
        "omoto.receive_customer_info",
        "POST",
        "/omoto/receivecustomerinfo.htm",
        params={"key": "DEMOKEY"},
        json=[{"personalinfo": {"firstname": "ann", "email": "ann@example.com"}}],
    )
    call(
        "omoto.push_response",
        "POST",
        "/omoto/endpoint.htm",
        params={"key": "DEMOKEY"},
        data={"jsonheader": '{"processid": "76"}', "jsonbody": '{"campaignid": 154}'},
    )
    call(
        "antcrm.listener",
        "POST",
        "/antcrm/webhook/listener/wh-1",
        json={
            "senderUser": "me@acme.vn",
            "data": [{"actionType": "add-contact", "data": {"name": "Huy"}}],
        },
    )
    crm = "/crmapi/rest/v2"
    r = call(
        "crmcom.authenticate",
        "POST",
        crm + "/authentication/token",
        json={"username": "api.user", "password": "s3cret", "organisation": "ACME"},
    )
    token = r.json()["data"]["token"]
    call(
        "crmcom.authenticate_web_api_key",
        "POST",
        crm + "/authentication/web_api_key/token",
        auth=("WEBKEY", ""),
        json={},
    )
    call(
        "crmcom.create_contact_information",
        "POST",
        crm + "/contact_information/create",
        json={"token": token, "type": "PERSON", "first_name": "Jane", "last_name": "Doe"},
    )
    number = session.get(ns + "/__sim/state/crmcom").json()["contacts"][0]["number"]
    call(
        "crmcom.show_contact_information",
        "GET",
        crm + "/contact_information/show",
        params={"token": token, "contact_information_identifier": f"number={number}"},
    )
    call(
        "crmcom.list_contact_information",
        "GET",
        crm + "/contact_information/list",
        params={"token": token, "number_of_results": 10, "offset": 0},
    )
    call(
        "crmcom.update_contact_information",
        "POST",
        crm + "/contact_information/update",
        json={
            "token": token,
            "contact_information_identifier": {"number": number},
            "middle_name": "Q",
        },
    )
    call(
        "crmcom.get_pending_provisioning_requests",
        "GET",
        crm + "/provisioning/generic_provisioning_requests/get_pending",
        params={
            "token": token,
            "provisioning_provider_identifier": "id=PROV1",
            "number_of_results": 10,
            "offset": 0,
        },
    )
    call(
        "crmcom.release_token", "POST", crm + "/authentication/token/release", json={"token": token}
    )
    call("botw.create_contact", "POST", "/crm/123", headers=BOTW, data={"email": "a@example.com"})
    call("botw.search_contacts", "GET", "/crm/123", headers=BOTW, params={"email": "a@example.com"})
    call("botw.update_contact", "PUT", "/crm/123", headers=BOTW, data={"id": 1, "first_name": "A"})
    call("botw.delete_contact", "DELETE", "/crm/123", headers=BOTW, data={"id": 1})

    journal = session.get(ns + "/__sim/journal", params={"limit": 100}).json()
    return answers, journal["entries"]


def test_every_vendor_route_and_the_control_plane_answer_over_tls(https):
    base, ca = https
    session = Verified(ca)
    assert session.get(base + "/__sim/health").json()["status"] == "ok"
    answers, entries = every_operation(session, base)
    assert sorted(answers) == operations()  # every operation crmsim declares, once
    assert {op: s for op, s in answers.items() if s not in (200, 201, 202)} == {}
    crmcom = [e for e in entries if e["vendor"] == "crmcom"]
    codes = {e["operation"]: e["response"]["body"]["status"]["code"] for e in crmcom}
    assert {op: code for op, code in codes.items() if code != "OK"} == {}  # no errors
    assert {e["operation"] for e in entries} == set(operations())
    assert [e["violations"] for e in entries if e["violations"]] == []


def test_requests_and_httpx_verify_against_the_ca_and_fail_without_it(https):
    base, ca = https
    url = base + "/__sim/health"
    assert requests.get(url, verify=ca, timeout=10).status_code == 200
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(url, timeout=10)  # the system's CAs do not know it

    context = ssl.create_default_context(cafile=ca)
    with httpx.Client(verify=context) as client:
        assert client.get(url).json()["status"] == "ok"
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(url)

    async def async_health():
        async with httpx.AsyncClient(verify=context) as client:
            return (await client.get(url)).status_code

    assert asyncio.run(async_health()) == 200


def test_plain_http_to_the_https_port_gets_no_answer(https):
    base, _ = https
    with pytest.raises(requests.ConnectionError):
        requests.get(base.replace("https://", "http://") + "/__sim/health", timeout=10)


def _https_by_name(base, ca, server_name, request):
    """``request`` sent to the served crmsim over TLS as a client that resolved
    ``server_name`` to 127.0.0.1 would (SNI and the name checked against the certificate)."""
    port = int(base.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


@pytest.mark.parametrize(
    "name", ["api.botw.org", "tenant.omoto.io", "apiring.antbuddy.com", "acme.crm.com"]
)
def test_clients_that_call_the_vendors_own_host_names_verify_the_certificate(https, name):
    base, ca = https
    answer = _https_by_name(
        base,
        ca,
        name,
        f"GET /crm/123 HTTP/1.1\r\nHost: {name}\r\nAuthorization: Bearer nope\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.upper() == b"HTTP/1.1 403 FORBIDDEN"  # BOTW's answer to a wrong key
    assert b"Invalid API key" in answer


def test_a_host_name_the_certificate_does_not_name_is_refused(https):
    base, ca = https
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _https_by_name(base, ca, "api.example.com", b"")


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on this machine")
def test_curl_with_resolve_as_docs_serving_says(https, request):
    base, ca = https
    server = request.node.callspec.params["https"]
    port = base.rsplit(":", 1)[1]
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--cacert",
            ca,
            "--resolve",
            f"api.botw.org:{port}:127.0.0.1",
            "-H",
            "Authorization: Bearer nope",
            "-w",
            "\n%{http_version} %{http_code}",
            f"https://api.botw.org:{port}/crm/123",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CURL_HOME": "/nonexistent"},  # no ~/.curlrc
    )
    assert done.returncode == 0, done.stderr
    # curl offers HTTP/2 (ALPN): granian takes it, gunicorn speaks HTTP/1.1 only
    version = "2" if server == "granian" else "1.1"
    assert done.stdout.rsplit("\n", 1)[1] == f"{version} 403"


def test_a_dropped_connection_is_a_connection_error_over_tls_too(https):
    base, ca = https
    ns = base + "/__ns/drop"
    session = Verified(ca)
    session.put(ns + "/__sim/state/botw", json=STATE["botw"]).raise_for_status()
    rule = {"vendor": "botw", "times": 1, "drop": True}
    assert session.post(ns + "/__sim/faults", json=rule).status_code == 201
    with pytest.raises(requests.ConnectionError):
        session.post(ns + "/crm/123", headers=BOTW, data={"email": "d@example.com"})
    r = session.post(ns + "/crm/123", headers=BOTW, data={"email": "d@example.com"})
    assert r.status_code == 201  # the server serves on


def healthcheck_code():
    """The Python the Dockerfile's HEALTHCHECK runs (no Docker engine on CI machines)."""
    dockerfile = (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()
    (code,) = re.findall(r'HEALTHCHECK .*?CMD \["python", "-c", "(.*?)"\]', dockerfile, re.S)
    return code


def test_the_docker_health_check_asks_over_https_when_a_certificate_is_named(https, tls):
    base, _ = https
    code = healthcheck_code().replace("127.0.0.1:8080", base.rsplit("/", 1)[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSIM_")}

    def check(**extra):
        run = [sys.executable, "-c", code]
        return subprocess.run(run, env={**env, **extra}, capture_output=True, timeout=30)

    assert check(CRMSIM_CERTFILE=str(tls[1])).returncode == 0
    assert check().returncode != 0  # plain HTTP to the HTTPS port: unhealthy


def test_the_docker_health_check_asks_over_http_without_a_certificate():
    with serving() as (base, _proc):
        code = healthcheck_code().replace("127.0.0.1:8080", base.rsplit("/", 1)[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSIM_")}
        run = [sys.executable, "-c", code]
        assert subprocess.run(run, env=env, capture_output=True, timeout=30).returncode == 0
