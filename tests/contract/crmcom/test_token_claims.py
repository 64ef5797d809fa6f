"""CRM.COM tokens as the vendor mints them (CC-T1) and the empty body of an operation whose
parameters are all optional (CC-B1)."""

import base64
import json

import pytest

from simulator import create_app

from ._support import BASE, KEY, KEY_HEADER, LOGIN, NOW, STATE


def claims(token):
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert len(signature) == 43
    assert set(signature) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return json.loads(base64.urlsafe_b64decode(payload + "==="))


def test_login_token_carries_the_vendors_claims_as_strings(client, crm):
    token = client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]
    c = claims(token)
    assert list(c) == ["usr", "org", "oun", "exp", "iat", "jti"]
    assert all(isinstance(v, str) for v in c.values())
    assert (c["usr"], c["org"], c["oun"]) == ("api.user", "ACME", "")
    assert c["iat"] == "1717243200"  # 2024-06-01T12:00:00Z, the simulated clock
    assert int(c["exp"]) - int(c["iat"]) == 7200
    assert len(c["jti"]) == 32 and int(c["jti"], 16) >= 0


def test_web_api_key_token_names_the_key_and_the_unit(client, crm):
    r = client.post(
        BASE + "/authentication/web_api_key/token", json={"unit": "Sales"}, headers=KEY_HEADER
    )
    c = claims(r.get_json()["data"]["token"])
    assert (c["usr"], c["org"], c["oun"]) == (KEY, "ACME", "Sales")


def test_lifetime_follows_token_ttl_seconds_and_the_clock(client, sim):
    sim.freeze("2030-01-01T00:00:00Z")
    sim.put_state({**STATE, "token_ttl_seconds": 60}, vendor="crmcom")
    token = client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]
    c = claims(token)
    assert (c["iat"], c["exp"]) == ("1893456000", "1893456060")
    sim.advance(59)
    show = {"token": token, "contact_information_identifier": "number=CI1"}
    r = client.get(BASE + "/contact_information/show", query_string=show)
    assert r.get_json()["status"]["code"].endswith("ENTITYNOTFOUNDEXCEPTION")
    sim.advance(1)
    r = client.get(BASE + "/contact_information/show", query_string=show)
    assert r.get_json()["status"]["code"].endswith("INVALIDTOKENEXCEPTION")


@pytest.mark.one_process_store
def test_tokens_are_deterministic_with_a_seed():
    def mint():
        client = create_app({"seed": 42}).test_client()
        client.put("/__sim/clock", json={"now": NOW})
        client.put("/__sim/state/crmcom", json=STATE)
        return [
            client.post(BASE + "/authentication/token", json=LOGIN).get_json()["data"]["token"]
            for _ in range(2)
        ]

    first = mint()
    assert first == mint()
    assert first[0] != first[1]
    assert claims(first[0])["jti"] != claims(first[1])["jti"]


@pytest.mark.parametrize("ttl", [7200, 3153600000])
def test_minting_at_the_end_of_time_never_fails(client, sim, ttl):
    sim.freeze("9999-12-31T23:59:00Z")
    sim.put_state({**STATE, "token_ttl_seconds": ttl}, vendor="crmcom")
    r = client.post(BASE + "/authentication/token", json=LOGIN)
    assert r.status_code == 200
    c = claims(r.get_json()["data"]["token"])
    assert int(c["exp"]) - int(c["iat"]) == ttl
    assert c["iat"] == "253402300740"
    token = r.get_json()["data"]["token"]
    show = {"token": token, "contact_information_identifier": "number=CI1"}
    r = client.get(BASE + "/contact_information/show", query_string=show)
    assert r.status_code == 200  # the token is still valid: the lookup answers
    assert r.get_json()["status"]["code"].endswith("ENTITYNOTFOUNDEXCEPTION")


# -- CC-B1 ----------------------------------------------------------------------------------
def test_web_api_key_token_with_no_body_is_an_empty_object(client, crm):
    # PHP: curl_setopt($ch, CURLOPT_POST, true) and no CURLOPT_POSTFIELDS
    r = client.post(BASE + "/authentication/web_api_key/token", data=b"", headers=KEY_HEADER)
    body = r.get_json()
    assert body["status"] == {"code": "OK", "message": "", "description": ""}
    assert claims(body["data"]["token"])["oun"] == ""
    assert r.headers["X-Sim-Violations"] == "0"
    assert crm.state("crmcom")["tokens"][0]["unit"] is None


def test_empty_body_with_strict_contract_is_served(client, crm):
    client.put("/__sim/settings", json={"strict_contract": True})
    r = client.post(BASE + "/authentication/web_api_key/token", headers=KEY_HEADER)
    assert r.status_code == 200
    assert r.get_json()["status"]["code"] == "OK"


@pytest.mark.parametrize(
    "path",
    [
        "/authentication/token",
        "/authentication/token/release",
        "/contact_information/create",
        "/contact_information/update",
    ],
)
def test_empty_body_of_a_method_with_mandatory_parameters_is_still_invalid(client, crm, path):
    r = client.post(BASE + path, data=b"", headers=KEY_HEADER)
    assert r.get_json()["status"] == {
        "code": "COM.CRM.EXCEPTION.GENERAL.INVALIDREQUESTBODYEXCEPTION",
        "message": "The request body must be a JSON object.",
        "description": "The body is not valid JSON (RFC 8259).",
    }
    assert r.headers["X-Sim-Violations"] == "1"


def test_whitespace_is_not_an_empty_body(client, crm):
    r = client.post(BASE + "/authentication/web_api_key/token", data=b" ", headers=KEY_HEADER)
    assert r.get_json()["status"]["code"].endswith("INVALIDREQUESTBODYEXCEPTION")
