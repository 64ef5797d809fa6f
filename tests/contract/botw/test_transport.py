"""BOTW transport: bodies, content types, unknown routes, the journal, the schemas."""

import pytest
from helpers import expect
from jsonschema import Draft7Validator

from simulator.schemas import default_schemas_dir, load

from ._support import CREATED, H, contacts, create_ok, search

# -- transport: bodies, content types, unknown routes ------------------------------------
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_non_utf8_form_is_a_botw_400(client, botw):
    r = client.post("/crm/123", data=b"email=a%FF%FE@b.co", headers={**H, **FORM})
    assert r.status_code == 400
    assert r.get_json() == {
        "status": "error",
        "message": "Malformed request: parameters must be UTF-8.",
    }
    assert contacts(botw) == []


def test_doubled_parameter_is_a_botw_400(client, botw):
    r = client.post("/crm/123", data=b"email=a@b.co&email=c@d.co", headers={**H, **FORM})
    assert r.get_json() == {"status": "error", "message": "Duplicate parameter: email."}
    r = client.get("/crm/123?email=a@b.co&email=a@b.co", headers=H)
    expect(r, 400, {"status": "error", "message": "Duplicate parameter: email."})


def test_form_pair_without_name_is_a_botw_400(client, botw):
    r = client.post("/crm/123", data=b"=x&email=a@b.co", headers={**H, **FORM})
    assert r.get_json() == {
        "status": "error",
        "message": "Malformed request: a parameter has no name.",
    }


def test_json_body_is_a_botw_400(client, botw):
    r = client.post("/crm/123", json={"email": "a@b.co"}, headers=H)
    assert r.status_code == 400
    assert r.get_json() == {
        "status": "error",
        "message": "Unsupported content type; send application/x-www-form-urlencoded.",
    }
    assert contacts(botw) == []


def test_multipart_form_is_accepted(client, botw):
    r = client.post(
        "/crm/123", data={"email": "a@b.co"}, headers=H, content_type="multipart/form-data"
    )
    assert r.status_code == 201


def test_body_over_one_mib_is_413(client, botw):
    body = b"email=a@b.co&first_name=" + b"x" * (1024 * 1024)
    r = client.post("/crm/123", data=body, headers={**H, **FORM})
    expect(r, 413, {"status": "error", "message": "Request body too large."})
    assert contacts(botw) == []


def test_unknown_method_is_a_botw_405(client, botw):
    r = client.patch("/crm/123", headers=H)
    expect(r, 405, {"status": "error", "message": "Method not allowed."})
    assert set(r.headers["Allow"].split(", ")) >= {"DELETE", "GET", "POST", "PUT"}


@pytest.mark.parametrize("path", ["/crm", "/crm/", "/crm/123/extra"])
def test_unknown_route_is_a_botw_404(client, botw, path):
    r = client.get(path, headers=H)
    expect(r, 404, {"status": "error", "message": "Not found."})
    assert "/crm/<listing_id>" in r.headers["X-Sim-Closest-Routes"]


def test_every_botw_request_is_journaled_with_its_operation(client, botw):
    create_ok(client, email="a@b.co")
    search(client, email="a@b.co")
    client.put("/crm/123", data={"id": "1", "first_name": "x"}, headers=H)
    client.delete("/crm/123", data={"id": "1"}, headers=H)
    client.get("/crm/123/extra", headers=H)
    entries = botw.journal(vendor="botw")
    assert [e["operation"] for e in entries] == [
        "botw.create_contact",
        "botw.search_contacts",
        "botw.update_contact",
        "botw.delete_contact",
        None,
    ]
    assert [e["response"]["status"] for e in entries] == [201, 200, 200, 202, 404]
    assert entries[0]["request"]["body"] == {"email": "a@b.co"}
    assert entries[1]["request"]["query"] == {"email": "a@b.co"}
    assert entries[0]["response"]["body"] == CREATED


def test_schemas_are_valid_draft7():
    schemas = load(default_schemas_dir())
    botw_files = [n for n in schemas.names() if n.startswith("botw/")]
    assert len(botw_files) >= 10
    for name in botw_files:
        Draft7Validator.check_schema(schemas.documents[name])


def test_request_schemas_accept_documented_examples_and_reject_bad_ones():
    schemas = load(default_schemas_dir())
    good = {
        "first_name": "John",
        "last_name": "Doe",
        "email": "johndoe@example.com",
        "phone": "+1 (555) 123-4567",
    }
    assert schemas.validate("botw/create_contact.request.json", good) == []
    [v] = schemas.validate("botw/create_contact.request.json", {"first_name": "x"})
    assert v["message"] == "email or phone is required"
    assert schemas.validate("botw/update_contact.request.json", {"id": "12"}) == []
    assert schemas.validate("botw/delete_contact.request.json", {}) != []
    assert schemas.validate("botw/search_contacts.request.json", {"name": "John"}) == []
