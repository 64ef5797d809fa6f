"""BOTW CRM API contract tests: every rule of docs/vendors/botw.md, exact bodies."""

import pytest
from helpers import expect
from jsonschema import Draft7Validator

from simulator.schemas import default_schemas_dir, load

KEY = "K-123"
H = {"Authorization": f"Bearer {KEY}"}
FORBIDDEN = {"status": "error", "message": "Invalid API key or unauthorized access."}
CREATED = {"status": "success", "message": "New contact successfully updated."}
UPDATED = {"status": "success", "message": "Contact successfully updated."}
DELETED = {"status": "success", "message": "Contact deleted successfully."}
NOT_FOUND = {"status": "error", "message": "Contact not found."}
NONE_FOUND = {"status": "error", "message": "No contacts found."}
REQUIRED = {"status": "error", "message": "Email or phone is required."}
BAD_EMAIL = {"status": "error", "message": "Invalid email address."}
BAD_PHONE = {"status": "error", "message": "Invalid phone number."}
BLACKLISTED = {
    "status": "error",
    "message": "The provided email or phone number has been blacklisted.",
}


@pytest.fixture
def botw(sim):
    sim.put_state(
        {
            "api_keys": {KEY: ["123", "456"], "OTHER": ["789"]},
            "blacklist": {"123": {"emails": ["Spam@Example.com"], "phones": ["+1 555 000 0000"]}},
        },
        vendor="botw",
    )
    return sim


def contacts(sim):
    return sim.state("botw")["contacts"]


def search(client, listing="123", **params):
    return client.get(f"/crm/{listing}", query_string=params, headers=H)


# -- authorisation (BW-AUTH-1) -------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer OTHER"},
    ],
)
@pytest.mark.parametrize("method", ["post", "put", "delete", "get"])
def test_authorization_is_403_for_every_method(client, botw, headers, method):
    r = getattr(client, method)("/crm/123", data={"email": "a@b.co"}, headers=headers)
    assert r.status_code == 403
    assert r.get_json() == FORBIDDEN
    assert contacts(botw) == []


def test_authorization_bearer_scheme_is_case_insensitive(client, botw):
    r = client.post(
        "/crm/123", data={"email": "a@b.co"}, headers={"Authorization": f"bearer {KEY}"}
    )
    assert r.status_code == 201


def test_authorization_comes_before_validation(client, botw):
    r = client.post(
        "/crm/123", data={"email": "not-an-email"}, headers={"Authorization": "Bearer x"}
    )
    assert r.status_code == 403


# -- POST create (BW-CREATE-1 to BW-CREATE-4) --------------------------------------------
def test_create_contact_stores_every_field(client, botw):
    botw.freeze("2024-06-01T12:00:00Z")
    r = client.post(
        "/crm/123",
        data={
            "first_name": "John",
            "last_name": "Doe",
            "email": " John@Example.com ",
            "phone": "+1 (555) 123-4567",
        },
        headers=H,
    )
    assert r.status_code == 201
    assert r.get_json() == CREATED
    assert r.mimetype == "application/json"
    [c] = contacts(botw)
    assert c["contact_id"] == 1
    assert c["listing_id"] == "123"
    assert c["unique_id"].startswith("l-") and c["unique_id"][2:].isdigit()
    assert (c["first_name"], c["last_name"]) == ("John", "Doe")
    assert c["email"] == "John@Example.com"
    assert c["phone"] == "15551234567"
    assert c["created_date"] == "2024-06-01 12:00:00"
    assert c["ip_address"] == "127.0.0.1"
    assert (c["source"], c["status"]) == ("api", "active")


def test_create_contact_with_phone_only(client, botw):
    assert client.post("/crm/123", data={"phone": "555-123-4567"}, headers=H).status_code == 201
    assert contacts(botw)[0]["email"] is None


@pytest.mark.parametrize("data", [{}, {"first_name": "J"}, {"email": "", "phone": "  "}])
def test_create_contact_requires_email_or_phone(client, botw, data):
    r = client.post("/crm/123", data=data, headers=H)
    expect(r, 400, REQUIRED)
    assert contacts(botw) == []


@pytest.mark.parametrize("email", ["plain", "a@b", "a b@c.de", "@b.co", "a@.co x"])
def test_create_contact_rejects_bad_email(client, botw, email):
    r = client.post("/crm/123", data={"email": email}, headers=H)
    expect(r, 400, BAD_EMAIL)


@pytest.mark.parametrize("phone", ["123456", "1234567890123456", "phone"])
def test_create_contact_rejects_bad_phone(client, botw, phone):
    r = client.post("/crm/123", data={"phone": phone}, headers=H)
    expect(r, 400, BAD_PHONE)


@pytest.mark.parametrize("phone", ["1234567", "123456789012345"])
def test_create_contact_phone_length_bounds_are_inclusive(client, botw, phone):
    assert client.post("/crm/123", data={"phone": phone}, headers=H).status_code == 201


def test_create_contact_checks_required_before_format_before_blacklist(client, botw):
    r = client.post("/crm/123", data={"first_name": "x"}, headers=H)
    assert r.get_json() == REQUIRED
    r = client.post("/crm/123", data={"email": "spam@example.com", "phone": "12"}, headers=H)
    assert r.get_json() == BAD_PHONE


@pytest.mark.parametrize(
    "data",
    [
        {"email": "  SPAM@example.COM"},
        {"phone": "15550000000"},
        {"email": "ok@x.co", "phone": "1 555 000 0000"},
    ],
)
def test_create_contact_blacklisted(client, botw, data):
    r = client.post("/crm/123", data=data, headers=H)
    expect(r, 400, BLACKLISTED)
    assert contacts(botw) == []


def test_create_contact_blacklist_is_per_listing(client, botw):
    assert client.post("/crm/456", data={"email": "spam@example.com"}, headers=H).status_code == 201


def test_create_contact_allows_duplicates(client, botw):
    for _ in range(2):
        assert client.post("/crm/123", data={"email": "a@b.co"}, headers=H).status_code == 201
    ids = [c["contact_id"] for c in contacts(botw)]
    assert ids == [1, 2]
    assert len({c["unique_id"] for c in contacts(botw)}) == 2


def test_create_contact_id_is_a_global_sequence_across_listings(client, botw):
    client.post("/crm/123", data={"email": "a@b.co"}, headers=H)
    client.post("/crm/456", data={"email": "a@b.co"}, headers=H)
    assert [(c["contact_id"], c["listing_id"]) for c in contacts(botw)] == [(1, "123"), (2, "456")]


def test_create_contact_continues_after_loaded_ids(client, botw):
    botw.put_state(
        {"api_keys": {KEY: ["123"]}, "contacts": [{"contact_id": 41, "listing_id": "123"}]}, "botw"
    )
    client.post("/crm/123", data={"email": "a@b.co"}, headers=H)
    assert [c["contact_id"] for c in contacts(botw)] == [41, 42]


# -- PUT update or create (BW-PUT-1 to BW-PUT-4) -----------------------------------------
def make(client, listing="123", **data):
    r = client.post(f"/crm/{listing}", data=data, headers=H)
    assert r.status_code == 201, r.get_json()


def test_update_contact_by_id_overwrites_given_fields_only(client, botw):
    make(client, first_name="John", last_name="Doe", email="j@d.co", phone="5551234567")
    r = client.put("/crm/123", data={"id": "1", "first_name": "Jack", "last_name": ""}, headers=H)
    expect(r, 200, UPDATED)
    [c] = contacts(botw)
    assert (c["first_name"], c["last_name"], c["email"], c["phone"]) == (
        "Jack",
        "Doe",
        "j@d.co",
        "5551234567",
    )


def test_update_contact_normalises_new_phone(client, botw):
    make(client, email="j@d.co")
    client.put("/crm/123", data={"id": "1", "phone": "+44 (20) 7946-0958"}, headers=H)
    assert contacts(botw)[0]["phone"] == "442079460958"


def test_update_contact_unknown_id_with_email_creates_with_new_id(client, botw):
    make(client, email="a@b.co")
    r = client.put("/crm/123", data={"id": "99", "email": "new@b.co"}, headers=H)
    expect(r, 201, CREATED)
    assert [c["contact_id"] for c in contacts(botw)] == [1, 2]


def test_update_contact_unknown_id_without_email_or_phone_is_404(client, botw):
    r = client.put("/crm/123", data={"id": "99", "first_name": "x"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert contacts(botw) == []


def test_update_contact_id_of_another_listing_is_not_found(client, botw):
    make(client, listing="456", email="a@b.co")
    r = client.put("/crm/123", data={"id": "1", "first_name": "x"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert contacts(botw)[0]["first_name"] is None


def test_update_contact_without_id_requires_email_or_phone(client, botw):
    r = client.put("/crm/123", data={"first_name": "x"}, headers=H)
    expect(r, 400, REQUIRED)


def test_update_contact_without_id_upserts_by_email_then_phone(client, botw):
    make(client, email="first@b.co")
    make(client, phone="5551112222")
    r = client.put("/crm/123", data={"email": "FIRST@b.co", "last_name": "A"}, headers=H)
    expect(r, 200, UPDATED)
    r = client.put(
        "/crm/123",
        data={"email": "other@b.co", "phone": "(555) 111-2222", "last_name": "B"},
        headers=H,
    )
    expect(r, 200, UPDATED)
    by_id = {c["contact_id"]: c for c in contacts(botw)}
    assert by_id[1]["last_name"] == "A"
    assert (by_id[2]["last_name"], by_id[2]["email"]) == ("B", "other@b.co")
    r = client.put("/crm/123", data={"email": "third@b.co"}, headers=H)
    expect(r, 201, CREATED)
    assert len(contacts(botw)) == 3


def test_update_contact_upsert_picks_oldest_match(client, botw):
    make(client, email="dup@b.co")
    make(client, email="dup@b.co")
    client.put("/crm/123", data={"email": "dup@b.co", "first_name": "Old"}, headers=H)
    assert [c["first_name"] for c in contacts(botw)] == ["Old", None]


def test_update_contact_blacklisted_changes_nothing(client, botw):
    make(client, email="a@b.co")
    r = client.put("/crm/123", data={"id": "1", "email": "spam@example.com"}, headers=H)
    expect(r, 400, BLACKLISTED)
    assert contacts(botw)[0]["email"] == "a@b.co"


def test_update_contact_validates_formats(client, botw):
    make(client, email="a@b.co")
    assert (
        client.put("/crm/123", data={"id": "1", "email": "bad"}, headers=H).get_json() == BAD_EMAIL
    )
    assert client.put("/crm/123", data={"id": "1", "phone": "1"}, headers=H).get_json() == BAD_PHONE


# -- DELETE (BW-DEL-1, BW-DEL-2) ----------------------------------------------------------
def test_delete_contact_requires_a_parameter(client, botw):
    r = client.delete("/crm/123", headers=H)
    expect(
        r,
        400,
        {"status": "error", "message": "At least one of id, email or phone must be provided."},
    )


def test_delete_contact_by_id(client, botw):
    make(client, email="a@b.co")
    make(client, email="b@b.co")
    r = client.delete("/crm/123", data={"id": "1"}, headers=H)
    expect(r, 202, DELETED)
    assert [c["contact_id"] for c in contacts(botw)] == [2]


def test_delete_contact_deletes_every_match(client, botw):
    make(client, email="dup@b.co")
    make(client, email="DUP@b.co", phone="5551234567")
    make(client, email="keep@b.co")
    assert client.delete("/crm/123", data={"email": "dup@b.co"}, headers=H).status_code == 202
    assert [c["email"] for c in contacts(botw)] == ["keep@b.co"]


def test_delete_contact_parameters_are_anded(client, botw):
    make(client, email="a@b.co", phone="5551234567")
    make(client, email="a@b.co", phone="5559999999")
    r = client.delete("/crm/123", data={"email": "a@b.co", "phone": "555-999-9999"}, headers=H)
    assert r.status_code == 202
    assert [c["contact_id"] for c in contacts(botw)] == [1]
    r = client.delete("/crm/123", data={"id": "1", "phone": "5559999999"}, headers=H)
    expect(r, 404, NOT_FOUND)


def test_delete_contact_reads_query_and_body_prefers_body(client, botw):
    make(client, email="a@b.co")
    make(client, email="b@b.co")
    r = client.delete("/crm/123?email=a@b.co", headers=H)
    assert r.status_code == 202
    r = client.delete("/crm/123?email=nobody@b.co", data={"email": "b@b.co"}, headers=H)
    assert r.status_code == 202
    assert contacts(botw) == []


def test_delete_contact_is_scoped_by_listing(client, botw):
    make(client, listing="456", email="a@b.co")
    r = client.delete("/crm/123", data={"email": "a@b.co"}, headers=H)
    expect(r, 404, NOT_FOUND)
    assert len(contacts(botw)) == 1


def test_delete_contact_unknown_is_404(client, botw):
    r = client.delete("/crm/123", data={"id": "5"}, headers=H)
    expect(r, 404, NOT_FOUND)
    r = client.delete("/crm/123", data={"id": "abc"}, headers=H)
    expect(r, 404, NOT_FOUND)


# -- GET search (BW-GET-1 to BW-GET-4) ----------------------------------------------------
def test_search_contacts_requires_a_parameter(client, botw):
    for params in ({}, {"unknown": "x"}, {"email": ""}):
        r = search(client, **params)
        expect(
            r, 400, {"status": "error", "message": "At least one query parameter must be provided."}
        )


def test_search_contacts_result_shape(client, botw):
    botw.freeze("2021-01-01T00:00:00Z")
    make(
        client,
        first_name="John",
        last_name="Doe",
        email="johndoe@example.com",
        phone="+1 (555) 123-4567",
    )
    r = search(client, email="JohnDoe@example.com")
    assert r.status_code == 200
    body = r.get_json()
    uid = contacts(botw)[0]["unique_id"]
    assert body == {
        "status": "success",
        "message": "1 record(s) found.",
        "data": {
            "results": [
                {
                    "contact_id": 1,
                    "contact_unique_id": uid,
                    "contact_first_name": "John",
                    "contact_last_name": "Doe",
                    "contact_email": "johndoe@example.com",
                    "contact_phone": "15551234567",
                    "contact_created_date": "2021-01-01 00:00:00",
                    "contact_ip_address": "127.0.0.1",
                    "contact_source": "api",
                    "contact_status": "active",
                }
            ]
        },
    }
    schemas = load(default_schemas_dir())
    assert schemas.validate("botw/search_contacts.response.json", body) == []


def test_search_contacts_absent_values_are_null(client, botw):
    make(client, phone="5551234567")
    result = search(client, phone="5551234567").get_json()["data"]["results"][0]
    assert result["contact_first_name"] is None and result["contact_email"] is None


def test_search_contacts_none_found(client, botw):
    r = search(client, email="nobody@x.co")
    expect(r, 404, NONE_FOUND)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"id": "2"}, [2]),
        ({"first_name": "JOHN"}, [1, 2]),
        ({"last_name": "doe"}, [1, 3]),
        ({"name": "john"}, [1, 2]),
        ({"name": "Doe"}, [1, 3]),
        ({"name": "john doe"}, [1]),
        ({"name": "jo"}, []),
        ({"email": "J@X.CO"}, [1]),
        ({"phone": "555.111.1111"}, [1, 3]),
        ({"first_name": "john", "last_name": "smith"}, [2]),
        ({"phone": "5551111111", "last_name": "doe"}, [1, 3]),
        ({"id": "1", "email": "k@x.co"}, []),
    ],
)
def test_search_contacts_matching(client, botw, params, expected):
    make(client, first_name="John", last_name="Doe", email="j@x.co", phone="5551111111")
    make(client, first_name="john", last_name="Smith", email="k@x.co", phone="5552222222")
    make(client, first_name="Jane", last_name="DOE", email="l@x.co", phone="(555) 111-1111")
    r = search(client, **params)
    if expected:
        body = r.get_json()
        assert r.status_code == 200
        assert [c["contact_id"] for c in body["data"]["results"]] == expected
        assert body["message"] == f"{len(expected)} record(s) found."
    else:
        expect(r, 404, NONE_FOUND)


def test_search_contacts_is_scoped_by_listing(client, botw):
    make(client, listing="456", email="a@b.co")
    assert search(client, "123", email="a@b.co").status_code == 404
    assert search(client, "456", email="a@b.co").status_code == 200


def test_search_contacts_validates_formats(client, botw):
    assert search(client, email="nope").get_json() == BAD_EMAIL


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
    make(client, email="a@b.co")
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
