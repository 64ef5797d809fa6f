"""Vendors at other base paths (issue 12 item 5, CC-M1): ``--mount``, ``CRMSIM_MOUNTS``,
overlaps refused naming both vendors, default paths unchanged."""

import pytest
import requests
from _serve import serving
from click.testing import CliRunner

from simulator import create_app
from simulator.cli import main
from simulator.client import Client
from simulator.config import BadSetting, Config, parse_mounts
from simulator.openapi import build

LOGIN = {"username": "u", "password": "p", "organisation": "o"}
CRM_STATE = {"users": [LOGIN]}


def login(client, base):
    r = client.post(f"{base}/authentication/token", json=LOGIN)
    assert r.status_code == 200
    return r.get_json()


def test_defaults_are_unchanged():
    app = create_app()
    vendors = {v.slug: (v.prefix,) for v in app.extensions["crmsim"].vendors}
    assert vendors == {
        "omoto": ("/omoto",),
        "antcrm": ("/antcrm",),
        "crmcom": ("/crmapi/rest/v2",),
        "botw": ("/crm",),
    }


def test_a_mounted_vendor_answers_at_its_base_path_only():
    app = create_app({"mounts": {"crmcom": "/crm", "botw": "/botw/crm"}})
    client = app.test_client()
    client.put("/__sim/state/crmcom", json=CRM_STATE)
    client.put("/__sim/state/botw", json={"api_keys": {"KEY": ["9"]}})
    assert login(client, "/crm")["status"]["code"] == "OK"
    [entry] = client.get("/__sim/journal").get_json()["entries"]
    assert (entry["vendor"], entry["operation"]) == ("crmcom", "crmcom.authenticate")
    # BOTW moved aside: its listing routes live under /botw/crm
    r = client.post(
        "/botw/crm/9", data={"email": "a@b.co"}, headers={"Authorization": "Bearer KEY"}
    )
    assert r.status_code == 201
    # the old base path is nobody's now: the control plane's 404 problem
    r = client.post("/crmapi/rest/v2/authentication/token", json=LOGIN)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    # unknown paths under the mount answer in CRM.COM's own shape
    r = client.get("/crm/nothing/here")
    assert r.status_code == 404
    assert r.get_json()["status"]["code"].endswith("METHODNOTFOUNDEXCEPTION")


def test_a_mount_works_in_namespaces_and_in_the_openapi_document():
    app = create_app({"mounts": {"crmcom": "/crm/api"}, "vendors": ["crmcom"]})
    client = app.test_client()
    client.put("/__ns/t1/__sim/state/crmcom", json=CRM_STATE)
    assert login(client, "/__ns/t1/crm/api")["status"]["code"] == "OK"
    paths = build(app)["paths"]
    assert "/crm/api/authentication/token" in paths
    assert not any(p.startswith("/crmapi/") for p in paths)


@pytest.mark.parametrize(
    ("mounts", "vendors", "both"),
    [
        ({"crmcom": "/crm"}, None, ("botw", "crmcom")),  # the integration
        ({"crmcom": "/omoto"}, None, ("omoto", "crmcom")),
        ({"crmcom": "/x", "botw": "/x/y"}, None, ("crmcom", "botw")),
        ({"crmcom": "/x/y", "botw": "/x"}, None, ("crmcom", "botw")),
        ({"omoto": "/crm/omoto"}, ["omoto", "botw"], ("omoto", "botw")),
    ],
)
def test_overlapping_mounts_are_refused_naming_both_vendors(mounts, vendors, both):
    overrides = {"mounts": mounts} | ({"vendors": vendors} if vendors else {})
    with pytest.raises(BadSetting) as info:
        create_app(overrides)
    message = str(info.value)
    assert "overlap" in message
    assert all(v in message for v in both)


def test_moving_the_other_vendor_or_not_serving_it_resolves_the_overlap():
    assert create_app({"mounts": {"crmcom": "/crm"}, "vendors": ["crmcom", "omoto"]})
    assert create_app({"mounts": {"crmcom": "/crm", "botw": "/listings"}})


@pytest.mark.parametrize("path", ["/__sim", "/__sim/crm", "/__ns", "/__ns/x"])
def test_mounts_under_the_control_plane_or_namespaces_are_refused(path):
    with pytest.raises(BadSetting, match="overlap"):
        create_app({"mounts": {"crmcom": path}})


def test_mounting_a_vendor_that_is_not_served_is_refused():
    with pytest.raises(BadSetting, match="crmcom is not served"):
        create_app({"mounts": {"crmcom": "/crm2"}, "vendors": ["botw"]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("crmcom=/crm", {"crmcom": "/crm"}),
        (" crmcom = /crm/ , botw=/b/c ", {"crmcom": "/crm", "botw": "/b/c"}),
        ("", {}),
        (["crmcom=/crm"], {"crmcom": "/crm"}),
    ],
)
def test_parse_mounts(raw, expected):
    assert parse_mounts(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("crm=/crm", "names no vendor"),
        ("crmcom", "a base path is"),
        ("crmcom=crm", "a base path is"),
        ("crmcom=/", "a base path is"),
        ("crmcom=/a//b", "a base path is"),
        ("crmcom=/a/../b", "a base path is"),
        ("crmcom=/<x>", "a base path is"),
        ("crmcom=/a,crmcom=/b", "mounted twice"),
    ],
)
def test_bad_mounts_are_refused(raw, fragment):
    with pytest.raises(BadSetting, match=fragment):
        Config.from_env({"CRMSIM_MOUNTS": raw})


def test_crmsim_mounts_setting():
    config = Config.from_env({"CRMSIM_MOUNTS": "crmcom=/crm,botw=/botw"})
    assert config.mounts == {"crmcom": "/crm", "botw": "/botw"}


def test_serve_refuses_overlapping_mounts_before_starting():
    result = CliRunner().invoke(main, ["serve", "--port", "1", "--mount", "crmcom=/crm"])
    assert result.exit_code == 2
    assert "botw" in result.output and "crmcom" in result.output
    assert "overlap" in result.output


def test_serve_refuses_a_bad_mount_setting():
    result = CliRunner().invoke(main, ["serve", "--mount", "nobody=/x"])
    assert result.exit_code == 2
    assert "names no vendor" in result.output


def test_served_with_mount_options():
    with serving("--mount", "crmcom=/crm", "--mount", "botw=/botw") as (base, _proc):
        r = requests.put(f"{base}/__sim/state/crmcom", json=CRM_STATE, timeout=5)
        assert r.status_code == 200
        r = requests.post(f"{base}/crm/authentication/token", json=LOGIN, timeout=5)
        assert r.json()["status"]["code"] == "OK"
        r = requests.get(f"{base}/botw/1?email=a@b.co", timeout=5)
        assert (r.status_code, r.json()["status"]) == (403, "error")
        # the Python client (and the pytest plugin's crmsim.url) finds the mounts
        sim = Client(base, namespace="m1")
        assert sim.vendor_url("crmcom") == f"{base}/__ns/m1/crm"
        assert sim.vendor_url("botw") == f"{base}/__ns/m1/botw"
        assert sim.vendor_url("antcrm") == f"{base}/__ns/m1/antcrm/webhook/listener"
        assert sim.namespace_client("m2").vendor_url("omoto") == f"{base}/__ns/m2/omoto"


def test_health_says_where_each_served_vendor_is():
    app = create_app({"mounts": {"botw": "/b"}, "vendors": ["botw", "antcrm"]})
    health = app.test_client().get("/__sim/health").get_json()
    assert health["vendors"] == {"antcrm": "/antcrm/webhook/listener", "botw": "/b"}


def test_the_client_names_what_is_served_when_a_vendor_is_not():
    with serving(env={"CRMSIM_VENDORS": "botw"}) as (base, _proc):
        with pytest.raises(ValueError, match=r"crmcom is not served .*\(served: botw\)"):
            Client(base).vendor_url("crmcom")
