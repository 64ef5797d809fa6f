"""Omoto's shape for HTTP errors and unknown paths; every schema a valid draft 7 schema."""

import json

import pytest
from helpers import expect
from jsonschema import Draft7Validator

from simulator.schemas import default_schemas_dir
from simulator.vendors.omoto.errors import http_error

from ._support import NOTFOUND


def test_every_omoto_schema_is_a_valid_draft7_schema():
    files = sorted((default_schemas_dir() / "omoto").glob("*.json"))
    assert [f.name for f in files] == [
        "error.json",
        "push_response.request.json",
        "push_response.response.json",
        "receive_customer_info.request.json",
        "receive_customer_info.response.json",
        "state.json",
    ]
    for f in files:
        Draft7Validator.check_schema(json.loads(f.read_text()))


# == Transport errors ======================================================================
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "parseerror"),
        (401, "keymismatch"),
        (404, "notfound"),
        (405, "methodnotallowed"),
        (413, "requestentitytoolarge"),
        (429, "toomanyrequests"),
        (500, "internalservererror"),
        (503, "serviceunavailable"),
        (599, "error"),
    ],
)
def test_http_error_keeps_omotos_shape(status, code):
    error = http_error(status)
    assert (error.status, error.body()) == (status, {"response": code})
    assert error.to_response().get_json() == {"response": code}


@pytest.mark.parametrize(
    "path", ["/omoto", "/omoto/", "/omoto/x", "/omoto/endpoint.htm/", "/omoto/a/b.htm"]
)
def test_unknown_omoto_paths_are_404_in_omotos_shape(client, path):
    expect(client.post(path), 404, NOTFOUND)
