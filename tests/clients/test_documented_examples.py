"""Real clients against a served crmsim (issue 12): several HTTP client stacks send each
vendor's documented example requests in their own default encodings, with the quirks
other stacks add (chunked bodies, ``Expect: 100-continue``, charset parameters, odd header
case), and every answer matches the documented one.

A real ``crmsim serve`` process (the ``served`` fixture) on a free loopback port; each test
has its own namespace, loaded through the control plane. The vendor documents' samples are
the contract tests' (one copy, in ``tests/contract/<vendor>/_support.py``).
"""

import json
import re
import shutil
import uuid

import pytest
import requests
from client_stacks import QUIRKS, STACKS, Req
from contract.antcrm._support import ADD_CONTACT_SAMPLE
from contract.crmcom._support import DOCUMENT_SAMPLE
from contract.omoto._support import EXAMPLE_BODY, SAMPLE_CUSTOMER

NOW = "2024-06-01T12:00:00Z"
CRM_KEY = "EE73C0AE64524371B5DDEFF5F7BB2192"
LOGIN = {"username": "api.user", "password": "s3cret", "organisation": "ACME"}
OK_AUTH = {"code": "OK", "message": "", "description": ""}
OK = {"code": "OK", "message": None, "description": None}
JWT = re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{43}$")
HEX32 = re.compile(r"^[0-9A-F]{32}$")

STATE = {
    "crmcom": {
        "users": [LOGIN],
        "web_api_keys": [{"key": CRM_KEY, "organisation": "ACME"}],
        "tokens": [{"token": "T1", "issued_at": NOW}],
        "contacts": [
            {
                "number": "CI000111",
                "type": "PERSON",
                "first_name": "Louis",
                "last_name": "Kozior",
                "preferred_language": "EN",
                "phones_set": [{"id": "P" * 32, "type": "MOBILE", "number": "99123456"}],
            }
        ],
        "provisioning_providers": [
            {"id": "PROV1", "name": "Generic One", "alternative_code": "GP1"}
        ],
        "provisioning_requests": [
            {
                "number": f"PR0{n}",
                "provider_id": "PROV1",
                "subscription_number": f"S{n % 2}",
                "type": "ACTIVATE",
                "created_date": "2024-05-30T00:00:00Z",
                "scheduled_date": f"2024-06-01T0{n}:00:00Z",
            }
            for n in range(1, 6)
        ],
    },
    "omoto": {"campaigns": [{"campaign_id": "154", "api_key": "DEMOKEY"}]},
    "antcrm": {
        "orgs": [{"org_id": "htk", "users": ["huy.nguyenviet@htklabs.com"]}],
        "listeners": [{"listener_id": "wh-1", "org_id": "htk"}],
    },
    "botw": {"api_keys": {"Your_API_Key": ["123"]}},
}


class Any_:
    """Matches any value ``test`` accepts (a generated token or id)."""

    def __init__(self, test):
        self.test = test

    def __eq__(self, other):
        return bool(self.test(other))

    def __repr__(self):
        return "<generated>"


TOKEN = Any_(lambda v: isinstance(v, str) and JWT.match(v))
ID = Any_(lambda v: isinstance(v, str) and HEX32.match(v))


# -- the documented examples ----------------------------------------------------------------
def crm_login(base):
    return Req("POST", f"{base}/crmapi/rest/v2/authentication/token", json=LOGIN), (
        200,
        {"status": OK_AUTH, "data": {"token": TOKEN}},
    )


def crm_web_api_key(base):
    req = Req("POST", f"{base}/crmapi/rest/v2/authentication/web_api_key/token", json={})
    req.basic_user = CRM_KEY
    return req, (200, {"status": OK_AUTH, "data": {"token": TOKEN}})


def crm_login_java_sample(base):
    # CRM.COM's own RestTemplate sample: "token": null, and a misspelt content type
    body = {"token": None, **LOGIN}
    req = Req(
        "POST",
        f"{base}/crmapi/rest/v2/authentication/token",
        json=body,
        content_type="applicatio/json",
    )
    return req, (200, {"status": OK_AUTH, "data": {"token": TOKEN}})


def crm_web_api_key_php_no_body(base):
    # PHP: curl_setopt($ch, CURLOPT_POST, true) with no fields sends no body (CC-B1)
    req = Req("POST", f"{base}/crmapi/rest/v2/authentication/web_api_key/token", raw=b"")
    req.basic_user = CRM_KEY
    return req, (200, {"status": OK_AUTH, "data": {"token": TOKEN}})


def crm_show_not_found(base):
    # application errors are HTTP 200 with the envelope (CC-ERR-1)
    params = {"token": "T1", "contact_information_identifier": "number=CI999999"}
    req = Req("GET", f"{base}/crmapi/rest/v2/contact_information/show", params=params)
    status = {
        "code": "COM.CRM.EXCEPTION.GENERAL.ENTITYNOTFOUNDEXCEPTION",
        "message": "The entity was not found.",
        "description": "No contact information has number 'CI999999'.",
    }
    return req, (200, {"status": status, "data": None})


def crm_release(base):
    req = Req("POST", f"{base}/crmapi/rest/v2/authentication/token/release", json={"token": "T1"})
    return req, (200, {"status": OK_AUTH, "data": None})


def crm_show(base):
    params = {
        "token": "T1",
        "contact_information_identifier": "number=CI000111",
        "fields_set": "name,preferred_language,addresses_set,phones_set,emails_set",
    }
    req = Req("GET", f"{base}/crmapi/rest/v2/contact_information/show", params=params)
    data = {
        "name": "Louis Kozior",
        "preferred_language": "EN",
        "addresses_set": [],
        "phones_set": [{"id": "P" * 32, "type": "MOBILE", "number": "99123456"}],
        "emails_set": [],
    }
    return req, (200, {"status": OK, "data": data})


# the vendor document's sample, with a real token and a shorter fields_set
CREATE_SAMPLE = {**DOCUMENT_SAMPLE, "token": "T1", "fields_set": "first_name,last_name,email_set"}


def crm_create(base):
    req = Req("POST", f"{base}/crmapi/rest/v2/contact_information/create", json=CREATE_SAMPLE)
    data = {
        "first_name": "Customer",
        "last_name": "Customer",
        "emails_set": [{"id": ID, "type": "PERSONAL", "email_address": "123456@crm.com"}],
    }
    return req, (200, {"status": OK, "data": data})


def crm_get_pending(base):
    params = {
        "token": "T1",
        "provisioning_provider_identifier": "alternative_code=GP1",
        "number_of_results": "5",
        "offset": "2",
    }
    path = "/crmapi/rest/v2/provisioning/generic_provisioning_requests/get_pending"

    def item(n):
        return {
            "number": f"PR0{n}",
            "type": "ACTIVATE",
            "life_cycle_state": "PENDING",
            "created_date": "2024-05-30T00:00:00Z",
            "scheduled_date": f"2024-06-01T0{n}:00:00Z",
            "executed_date": None,
        }

    groups = [
        {
            "subscription_number": "S1",
            "account_number": None,
            "pending_provisioning_requests_set": [item(3), item(5)],
        },
        {
            "subscription_number": "S0",
            "account_number": None,
            "pending_provisioning_requests_set": [item(4)],
        },
    ]
    return Req("GET", base + path, params=params), (
        200,
        {"status": OK, "data": {"subscriptions_set": groups}},
    )


def omoto_crm(base):
    # the doc: "Set content-type to 'application/json'", so every stack does
    req = Req(
        "POST",
        f"{base}/omoto/receivecustomerinfo.htm",
        params={"key": "DEMOKEY"},
        json=[SAMPLE_CUSTOMER],
        content_type="application/json",
    )
    return req, (200, {"status": "success"})


def omoto_response(base):
    fields = {"jsonheader": '{"processid":"76"}', "jsonbody": json.dumps(EXAMPLE_BODY)}
    req = Req("POST", f"{base}/omoto/endpoint.htm", params={"key": "DEMOKEY"}, form=fields)
    return req, (200, {"status": "success"})


def omoto_response_multipart(base):
    fields = {"jsonheader": '{"processid":"76"}', "jsonbody": json.dumps(EXAMPLE_BODY)}
    req = Req("POST", f"{base}/omoto/endpoint.htm", params={"key": "DEMOKEY"}, multipart=fields)
    return req, (200, {"status": "success"})


def antcrm_add_contact(base):
    req = Req("POST", f"{base}/antcrm/webhook/listener/wh-1", json=ADD_CONTACT_SAMPLE)
    return req, (200, {"success": True})


BEARER = "Your_API_Key"
JOHN = {
    "first_name": "John",
    "last_name": "Doe",
    "email": "johndoe@example.com",
    "phone": "15551234567",
}


def botw_create(base):
    req = Req("POST", f"{base}/crm/123", form=JOHN, bearer=BEARER)
    return req, (201, {"status": "success", "message": "New contact successfully updated."})


def botw_update(base):
    req = Req("PUT", f"{base}/crm/123", form={"id": "1", **JOHN}, bearer=BEARER)
    return req, (200, {"status": "success", "message": "Contact successfully updated."})


def botw_delete(base):
    req = Req("DELETE", f"{base}/crm/123", form={"id": "1"}, bearer=BEARER)
    return req, (202, {"status": "success", "message": "Contact deleted successfully."})


def botw_search(base):
    req = Req("GET", f"{base}/crm/123", params={"email": "johndoe@example.com"}, bearer=BEARER)
    result = {
        "contact_id": 1,
        "contact_unique_id": Any_(lambda v: re.fullmatch(r"l-\d{8}", v)),
        "contact_first_name": "John",
        "contact_last_name": "Doe",
        "contact_email": "johndoe@example.com",
        "contact_phone": "15551234567",
        "contact_created_date": "2024-06-01 12:00:00",
        "contact_ip_address": "127.0.0.1",
        "contact_source": "api",
        "contact_status": "active",
    }
    return req, (
        200,
        {"status": "success", "message": "1 record(s) found.", "data": {"results": [result]}},
    )


# example -> (vendor, needs a BOTW contact first)
EXAMPLES = {
    "crmcom.authenticate": (crm_login, False),
    "crmcom.authenticate_web_api_key": (crm_web_api_key, False),
    "crmcom.authenticate[java-sample]": (crm_login_java_sample, False),
    "crmcom.authenticate_web_api_key[php-no-body]": (crm_web_api_key_php_no_body, False),
    "crmcom.show_contact_information[not-found]": (crm_show_not_found, False),
    "crmcom.release_token": (crm_release, False),
    "crmcom.show_contact_information": (crm_show, False),
    "crmcom.create_contact_information": (crm_create, False),
    "crmcom.get_pending_provisioning_requests": (crm_get_pending, False),
    "omoto.receive_customer_info": (omoto_crm, False),
    "omoto.push_response": (omoto_response, False),
    "omoto.push_response[multipart]": (omoto_response_multipart, False),
    "antcrm.listener": (antcrm_add_contact, False),
    "botw.create_contact": (botw_create, False),
    "botw.update_contact": (botw_update, True),
    "botw.delete_contact": (botw_delete, True),
    "botw.search_contacts": (botw_search, True),
}


@pytest.fixture
def world(server):
    """A namespace of the served crmsim with the vendors' documented worlds loaded."""
    name = "clients-" + uuid.uuid4().hex[:12]
    base = f"{server}/__ns/{name}"
    control = requests.Session()
    try:
        assert control.put(f"{base}/__sim/clock", json={"now": NOW}, timeout=10).ok
        r = control.put(f"{base}/__sim/state", json=STATE, timeout=10)
        assert r.status_code == 200, r.text
        yield base, control
    finally:
        control.delete(f"{base}/__sim", timeout=10)
        control.close()


@pytest.mark.parametrize("quirk", QUIRKS)
@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_documented_example(world, stack, quirk, example):
    base, control = world
    if stack.name == "curl" and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    build, needs_contact = EXAMPLES[example]
    if needs_contact:
        r = control.post(
            f"{base}/crm/123", data=JOHN, headers={"Authorization": f"Bearer {BEARER}"}, timeout=10
        )
        assert r.status_code == 201, r.text
    req, (status, body) = build(base)
    answer = stack.send(req, quirk)
    assert (answer.status, answer.json()) == (status, body), answer.body
    content_type = next(v for k, v in answer.headers.items() if k.lower() == "content-type")
    assert content_type.startswith("application/json")
    [entry] = [
        e
        for e in control.get(f"{base}/__sim/journal", timeout=10).json()["entries"]
        if e["operation"] == example.partition("[")[0]
    ]
    assert entry["response"]["status"] == status
    assert entry["violations"] == [], entry["violations"]
