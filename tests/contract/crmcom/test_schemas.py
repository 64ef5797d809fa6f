"""CRM.COM schemas: the documented samples, requests the simulator rejects, every error body."""

import pytest

from ._support import (
    BASE,
    DOCUMENT_SAMPLE,
    FULL_STATE,
    LOGIN,
    PERSON,
    PP,
    P,
    conforms,
    create,
    page,
    post,
    show,
)


# -- schemas: documented samples and every error ------------------------------------------------
def test_documented_samples_match_the_request_schemas(schemas):
    conforms(schemas, "create_contact_information.request.json", DOCUMENT_SAMPLE)
    conforms(
        schemas,
        "show_contact_information.request.json",
        {"token": "{{token}}", P: "number=CI000111"},
    )
    conforms(
        schemas,
        "show_contact_information.request.json",
        {
            "token": "t",
            P: "number=CI000111",
            "fields_set": "name,preferred_language,addresses_set,phones_set,emails_set",
        },
    )
    conforms(
        schemas,
        "get_pending_provisioning_requests.request.json",
        {"token": "{{token}}", PP: "alternative_code=GP1", "number_of_results": "5", "offset": "2"},
    )
    conforms(schemas, "authenticate.request.json", LOGIN)
    conforms(schemas, "authenticate_web_api_key.request.json", {})
    conforms(schemas, "release_token.request.json", {"token": "{{token}}"})
    conforms(
        schemas,
        "update_contact_information.request.json",
        {
            "token": "t",
            P: {"number": "CI000111"},
            "first_name": "Louis",
            "middle_name": None,
            "phone_set": [{"type": "MOBILE", "number": "1"}],
        },
    )
    conforms(schemas, "state.json", FULL_STATE)


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "GP1", "number_of_results": "5", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "51", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "0", "offset": "0"},
        ),
        (
            "get_pending_provisioning_requests.request.json",
            {"token": "t", PP: "id=1", "number_of_results": "5", "offset": "-1"},
        ),
        ("show_contact_information.request.json", {"token": "t", P: "number=1,id=2"}),
        ("show_contact_information.request.json", {"token": "t", P: "name=Louis"}),
        (
            "create_contact_information.request.json",
            {"token": "t", "type": "PERSON", "first_name": "A"},
        ),
        ("create_contact_information.request.json", {"token": "t", "type": "COMPANY"}),
        ("create_contact_information.request.json", {"token": "t", "type": "ALIEN"}),
        (
            "create_contact_information.request.json",
            {**DOCUMENT_SAMPLE, "demographics": {"gender": "OTHER"}},
        ),
        ("update_contact_information.request.json", {"token": "t", P: {"number": "1", "id": "2"}}),
        ("update_contact_information.request.json", {"token": "t"}),
        ("authenticate.request.json", {"username": "u", "password": "p"}),
    ],
)
def test_request_schemas_reject_what_the_simulator_rejects(schemas, name, instance):
    assert schemas.validate(f"crmcom/{name}", instance) != []


def test_error_bodies_match_the_error_schema(client, crm, token, schemas):
    bodies = [
        post(client, "/authentication/token", {}).get_json(),
        post(client, "/authentication/token", {**LOGIN, "password": "x"}).get_json(),
        show(client, token="x").get_json(),
        show(client, token=token, contact_information_identifier="x").get_json(),
        show(client, token=token, contact_information_identifier="id=1,number=2").get_json(),
        show(client, token=token, contact_information_identifier="id=1").get_json(),
        client.post(BASE + "/contact_information/create", data=b"[").get_json(),
        create(client, token, **PERSON, demographics={"passport_number": "P111"}).get_json(),
        page(client, token, 51, 0).get_json(),
        client.get(BASE + "/x").get_json(),
    ]
    codes = set()
    for body in bodies:
        conforms(schemas, "error.json", body)
        conforms(schemas, "envelope.json", body)
        codes.add(body["status"]["code"])
    assert len(codes) == len(bodies)
