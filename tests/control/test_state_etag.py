"""GET /__sim/state answers with an ETag that changes with every write to the namespace,
and 304 without a body to If-None-Match naming it; GET /__sim/journal too, its tag also
changing with each entry recorded. The dashboard polls that way (docs/dashboard.md, "How it
stays current")."""

from __future__ import annotations

import pytest

H = {"Authorization": "Bearer K"}
BOTW = {"api_keys": {"K": ["1"]}}


@pytest.mark.parametrize("path", ["/__sim/state", "/__sim/state/botw"])
def test_an_unchanged_state_answers_304_without_a_body(client, path):
    client.put("/__sim/state/botw", json=BOTW)
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_every_write_changes_the_tag(client):
    client.put("/__sim/state/botw", json=BOTW)
    tags = [client.get("/__sim/state").headers["ETag"]]
    # a vendor write, a control write, a reset: each makes the old tag stale
    assert client.post("/crm/1", data={"email": "a@b.co"}, headers=H).status_code == 201
    for write in (
        lambda: client.put("/__sim/state/botw", json=BOTW),
        lambda: client.post("/__sim/reset"),
    ):
        answer = client.get("/__sim/state", headers={"If-None-Match": tags[-1]})
        assert answer.status_code == 200
        tags.append(answer.headers["ETag"])
        write()
    answer = client.get("/__sim/state", headers={"If-None-Match": tags[-1]})
    assert answer.status_code == 200
    assert answer.get_json()["botw"]["contacts"] == []
    tags.append(answer.headers["ETag"])
    assert len(set(tags)) == len(tags)
    # reads do not change it
    assert client.get("/crm/1", query_string={"email": "a@b.co"}, headers=H).status_code == 403
    assert client.get("/__sim/state").headers["ETag"] == tags[-1]


def test_a_namespace_made_again_never_repeats_a_tag(client):
    client.put("/__ns/t1/__sim/state/botw", json=BOTW)
    old = client.get("/__ns/t1/__sim/state").headers["ETag"]
    assert client.delete("/__ns/t1/__sim").status_code < 300
    client.put("/__ns/t1/__sim/state/botw", json=BOTW)  # as many writes as before
    assert client.get("/__ns/t1/__sim/state", headers={"If-None-Match": old}).status_code == 200


def test_the_journal_tag_changes_with_each_entry_and_each_query(client):
    client.put("/__sim/state/botw", json=BOTW)
    first = client.get("/__sim/journal?limit=500")
    tag = first.headers["ETag"]
    same = client.get("/__sim/journal?limit=500", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.data == b""
    # another query is another document
    assert client.get("/__sim/journal?limit=5", headers={"If-None-Match": tag}).status_code == 200
    # a read recorded in the journal (no write to the state) changes it
    assert client.get("/crm/1", query_string={"email": "a@b.co"}, headers=H).status_code == 404
    after = client.get("/__sim/journal?limit=500", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.get_json()["count"] == 1
    # a clear, then as many entries again: still another tag
    tag = after.headers["ETag"]
    assert client.delete("/__sim/journal").status_code == 200
    assert client.get("/crm/1", query_string={"email": "a@b.co"}, headers=H).status_code == 404
    assert client.get("/__sim/journal?limit=500", headers={"If-None-Match": tag}).status_code == 200


def test_the_openapi_document_names_the_etag_and_the_304(client):
    paths = client.get("/__sim/openapi.json").get_json()["paths"]
    for path in ("/__sim/state", "/__sim/state/botw", "/__sim/journal"):
        get = paths[path]["get"]
        assert "304" in get["responses"]
        assert "ETag" in get["responses"]["200"]["headers"]
        assert "If-None-Match" in [p["name"] for p in get["parameters"]]
