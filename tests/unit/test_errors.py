"""``json_response`` sets a vendor answer's fields straight: the answer must be the one
Werkzeug's ``Response`` makes of the same body, status, mimetype and headers."""

from __future__ import annotations

import json

import pytest
from flask import Response
from hypothesis import given
from hypothesis import strategies as st

from simulator import errors
from simulator.errors import encode_json, json_response

TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "é", '"', "\\"])))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
STATUSES = [200, 201, 202, 204, 299, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503]
MIMETYPES = ["application/json", "application/problem+json", "text/plain", "application/xml+x"]


def werkzeugs(body, status, headers, mimetype):
    return Response(encode_json(body), status=status, mimetype=mimetype, headers=headers or {})


def same(ours: Response, theirs: Response) -> None:
    assert type(ours) is type(theirs)
    assert vars(ours).keys() == vars(theirs).keys()  # no field Werkzeug sets is missing
    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert (ours.status, ours.status_code) == (theirs.status, theirs.status_code)
    assert ours.get_data() == theirs.get_data()
    assert (ours.direct_passthrough, ours._on_close) == (False, [])


@pytest.mark.parametrize("mimetype", MIMETYPES)
@pytest.mark.parametrize("status", STATUSES)
def test_an_answer_is_the_one_werkzeug_makes(status, mimetype):
    body = {"status": "success", "message": "Contact was created", "n": [1, 2.5, None]}
    for headers in (None, {}, {"WWW-Authenticate": 'Bearer realm="api"'}):
        same(
            json_response(body, status, headers, mimetype),
            werkzeugs(body, status, headers, mimetype),
        )


def test_answers_do_not_share_their_parts():
    first, second = json_response({"a": 1}, 200), json_response({"b": 22}, 200)
    first.headers["X-Sim-Violations"] = "0"
    first.call_on_close(lambda: None)
    assert "X-Sim-Violations" not in second.headers
    assert second._on_close == []
    assert second.headers["Content-Length"] == str(len(b'{"b": 22}'))


@given(JSON)
def test_encoding_is_json_dumps(body):
    try:
        expected = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        expected = json.dumps(body).encode("ascii")
    assert encode_json(body) == expected
    same(json_response(body, 200), werkzeugs(body, 200, None, "application/json"))


def test_a_response_made_of_other_fields_is_made_by_its_constructor(monkeypatch):
    # another Werkzeug: its Response sets a field json_response does not know
    monkeypatch.setattr(errors, "_SHAPES", {})
    made = Response.__init__

    def init(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self.extra = True

    monkeypatch.setattr(Response, "__init__", init)
    answer = json_response({"a": 1}, 201)
    assert answer.extra is True
    assert answer.get_data() == b'{"a": 1}' and answer.status_code == 201
    assert errors._SHAPES == {(201, "application/json"): None}
