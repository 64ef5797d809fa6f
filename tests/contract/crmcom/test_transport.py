"""CRM.COM envelope and transport: unknown methods, wrong HTTP methods, body limits, the
envelope of every HTTP error, journal names, POST bodies that are not JSON objects
(CC-ENV-1, CC-ERR-1, CC-ERR-3, CC-B1)."""

import json

import pytest
from helpers import expect

from simulator.vendors.crmcom.errors import http_error

from ._support import (
    BASE,
    KEY_HEADER,
    LOGIN,
    OK_EMPTY,
    bad_body,
    conforms,
    error,
    pending,
    post,
    show,
)

METHOD_NOT_FOUND = error("GENERAL.METHODNOTFOUNDEXCEPTION", "The Web API method was not found.", "")


# -- envelope and transport (CC-ENV-1, CC-ERR-1, CC-ERR-3) -----------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/contact_information/search",  # list exists since issue 12 (CC-L1)
        "/contact_information/show/",
        "/authentication",
        "/provisioning/generic_provisioning_requests/get_pending/extra",
    ],
)
def test_unknown_method_is_404_methodnotfound(client, crm, path, schemas):
    for method in ("get", "post"):
        r = getattr(client, method)(BASE + path)
        expect(r, 404, METHOD_NOT_FOUND)
    conforms(schemas, "error.json", r.get_json())
    conforms(schemas, "envelope.json", r.get_json())


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/authentication/token", "POST"),
        ("get", "/contact_information/create", "POST"),
        ("put", "/contact_information/update", "POST"),
        ("post", "/contact_information/show", "GET, HEAD"),
        ("delete", "/provisioning/generic_provisioning_requests/get_pending", "GET, HEAD"),
        # OPTIONS too: CRM.COM serves no other method (no automatic answer of Flask's)
        ("options", "/contact_information/create", "POST"),
        ("options", "/contact_information/show", "GET, HEAD"),
    ],
)
def test_wrong_http_method_is_405_with_the_envelope(client, crm, method, path, allow):
    r = getattr(client, method)(BASE + path, json={})
    expect(
        r,
        405,
        error(
            "GENERAL.METHODNOTFOUNDEXCEPTION",
            "The Web API method does not support this HTTP method.",
        ),
    )
    assert r.headers["Allow"] == allow


def test_body_over_the_limit_is_413_with_the_envelope(client, crm):
    r = client.post(
        BASE + "/contact_information/create",
        data=b'{"a": "' + b"x" * (1024 * 1024) + b'"}',
        content_type="application/json",
    )
    expect(
        r,
        413,
        error("GENERAL.INVALIDREQUESTBODYEXCEPTION", "The request body is too large.", ""),
    )


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (429, "TOOMANYREQUESTSEXCEPTION", "Too Many Requests."),
        (500, "INTERNALSERVERERROREXCEPTION", "Internal Server Error."),
        (503, "SERVICEUNAVAILABLEEXCEPTION", "Service Unavailable."),
        (599, "UNEXPECTEDERROREXCEPTION", "Unexpected Error."),
    ],
)
def test_http_error_gives_the_envelope_for_other_statuses(status, code, message):
    e = http_error(status)
    assert e.status == status
    assert e.body() == error("GENERAL." + code, message)


def test_http_error_404_405_413_classes():
    assert (http_error(404).status, http_error(404).body()) == (404, METHOD_NOT_FOUND)
    assert http_error(405).status == 405
    assert http_error(413).status == 413


def test_journal_names_every_operation(client, crm, token, sim):
    post(client, "/authentication/web_api_key/token", {}, headers=KEY_HEADER)
    show(client, token=token, contact_information_identifier="number=CI000111")
    post(
        client,
        "/contact_information/create",
        {"token": token, "type": "COMPANY", "company_name": "X"},
    )
    post(
        client,
        "/contact_information/update",
        {"token": token, "contact_information_identifier": {"number": "CI000111"}},
    )
    pending(
        client,
        token=token,
        provisioning_provider_identifier="id=PROV1",
        number_of_results="1",
        offset="0",
    )
    post(client, "/authentication/token/release", {"token": token})
    client.get(BASE + "/nope")
    ops = [e["operation"] for e in sim.journal(vendor="crmcom")]
    assert ops == [
        "crmcom.authenticate",
        "crmcom.authenticate_web_api_key",
        "crmcom.show_contact_information",
        "crmcom.create_contact_information",
        "crmcom.update_contact_information",
        "crmcom.get_pending_provisioning_requests",
        "crmcom.release_token",
        None,
    ]


# -- POST bodies (GEN-JSON-1, CC-ERR-2 INVALIDREQUESTBODY) -------------------------------------
@pytest.mark.parametrize(
    ("raw", "description"),
    [
        (b"", "The body is not valid JSON (RFC 8259)."),
        (b"[]", "The body must be a JSON object."),
        (b'"token"', "The body must be a JSON object."),
        (b"null", "The body must be a JSON object."),
        (b"42", "The body must be a JSON object."),
        (b'{"day":01}', "The body is not valid JSON (RFC 8259)."),
        (
            b'{"a": 1,}',
            "The body is not valid JSON (RFC 8259).",
        ),
        (b'{"a": NaN}', "The body is not valid JSON (RFC 8259)."),
        (b'{"a": 1} x', "The body is not valid JSON (RFC 8259)."),
        (b'{"a": "\xff"}', "The body is not UTF-8."),
        (b"[" * 100000 + b"]" * 100000, "The JSON is nested too deeply."),
        (b'{"first_name": "\\ud800"}', "The body contains an unpaired surrogate."),
        (b'{"\\udc00": 1}', "The body contains an unpaired surrogate."),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/authentication/token",
        "/authentication/web_api_key/token",
        "/authentication/token/release",
        "/contact_information/create",
        "/contact_information/update",
    ],
)
def test_post_body_that_is_not_a_json_object_is_invalidrequestbody(
    client, crm, path, raw, description
):
    r = client.post(BASE + path, data=raw, content_type="application/json", headers=KEY_HEADER)
    if raw == b"" and path == "/authentication/web_api_key/token":
        # CC-B1: every parameter is optional, so an empty body is {} (test_token_claims.py)
        assert r.get_json()["status"]["code"] == "OK"
        return
    expect(r, 200, bad_body(description))


def test_post_body_is_parsed_before_the_token(client, crm):
    r = client.post(BASE + "/contact_information/create", data=b"nope")
    assert r.get_json()["status"]["code"].endswith("INVALIDREQUESTBODYEXCEPTION")


def test_post_content_type_is_not_consulted(client, crm):
    r = client.post(
        BASE + "/authentication/token", data=json.dumps(LOGIN), content_type="text/plain"
    )
    assert r.get_json()["status"] == OK_EMPTY


def test_form_body_is_not_a_json_object(client, crm):
    r = client.post(BASE + "/authentication/token", data=LOGIN)
    assert r.get_json()["status"]["code"].endswith("INVALIDREQUESTBODYEXCEPTION")
