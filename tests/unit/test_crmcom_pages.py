"""CRM.COM get_pending's pages are joined from each request's JSON, encoded once while the
requests stay at one version (``CrmcomBackend._pending_page``): the bytes must be those of
the page encoded whole, whatever the strings hold, and a page must show the requests as
they are now, whichever offsets were read before."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.app import create_app
from simulator.errors import encode_json
from simulator.fake import fake_state
from simulator.vendors.crmcom import models, parsing

TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "é", '"', ",", " "])))
ITEM = st.fixed_dictionaries({k: st.none() | TEXT for k in models.PENDING_KEYS})


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "subscription_number": st.sampled_from(["S1", "S2", 'S"3', "\ud800"]),
                "account_number": st.none() | TEXT,
            },
            optional={k: st.none() | TEXT for k in models.PENDING_KEYS},
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_a_page_joined_from_its_requests_is_the_page_encoded_whole(
    requests: list[dict[str, Any]], wanted: bool
) -> None:
    groups: dict[str, list[models.Item]] = {}
    for r in requests:
        groups.setdefault(r["subscription_number"], []).append(models._item(r))
    page = {
        "subscriptions_set": [
            {
                "subscription_number": items[0].subscription,
                "account_number": items[0].account,
                "pending_provisioning_requests_set": [shown.item for shown in items],
            }
            for items in groups.values()
        ]
    }
    joined = models._page_json(list(groups.values()), wanted)
    whole = encode_json(page if wanted else {})
    if joined is None:  # a lone surrogate somewhere: the page is encoded whole instead
        assert whole.isascii()
    else:
        assert joined == whole


def backend() -> Any:
    """A CRM.COM backend with 200 fake records, in a namespace of its own, read outside any
    request: the memory store only (a shared world's backend is brought up to date from
    Redis as a request takes the namespace's lease; get_pending through a shared world is
    tested over HTTP, tests/contract/crmcom)."""
    app = create_app({"seed": 3})
    client = app.test_client()
    name = f"pages-{secrets.token_hex(4)}"
    clock = client.put(f"/__ns/{name}/__sim/clock", json={"now": "2024-06-01T12:00:00Z"})
    assert clock.status_code == 200
    state = fake_state(3, 200, vendors=("crmcom",))["crmcom"]
    assert client.put(f"/__ns/{name}/__sim/state/crmcom", json=state).status_code == 200
    return app.extensions["crmsim"].namespaces.find(name).backends["crmcom"]


def read(api: Any, offset: int, size: int = 7, fields: str | None = None) -> Any:
    query = {
        "provisioning_provider_identifier": "id=PROV1",
        "number_of_results": str(size),
        "offset": str(offset),
        **({"fields_set": fields} if fields is not None else {}),
    }
    return api.get_pending_provisioning_requests(parsing.get_pending_provisioning_requests(query))


@pytest.mark.one_process_store
def test_pages_read_at_every_offset_are_what_a_fresh_backend_answers() -> None:
    api, fresh = backend(), backend()
    for offset in range(0, 60, 3):  # overlapping pages: most requests read before
        page = read(api, offset)
        assert page.encoded() == encode_json(dict(page))
        assert page.encoded() == read(backend() if offset % 21 == 0 else fresh, offset).encoded()
    assert read(api, 0, fields="number").encoded() == b"{}"  # the set not asked for


@pytest.mark.one_process_store
def test_a_changed_request_shows_on_the_next_page_read() -> None:
    api = backend()
    before = read(api, 0)
    _, doc_id = next(iter(api.requests.ordered("pending", "PROV1")))  # the page's first
    request = api.requests.get(doc_id)
    api.requests.update(doc_id, {**request, "type": "CHANGED"})
    api._requests_changed()  # as every write to the requests does
    after = read(api, 0)
    first = after["subscriptions_set"][0]["pending_provisioning_requests_set"][0]
    assert (first["number"], first["type"]) == (request["number"], "CHANGED")
    assert after.encoded() == encode_json(dict(after)) != before.encoded()


@pytest.mark.one_process_store
def test_the_requests_kept_are_the_last_ones_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ITEMS", 20)
    api, fresh = backend(), backend()
    for offset in range(0, 40):  # a reader moving through the offsets, pages of 7
        assert read(api, offset).encoded() == read(fresh, offset).encoded()
        _version, _pages, items = api._pages
        assert len(items) <= 20
        assert set(items) >= set(page_ids(api, offset))  # the page's own are kept


def page_ids(api: Any, offset: int, size: int = 7) -> list[int]:
    eligible = [doc_id for _, doc_id in api.requests.ordered("pending", "PROV1")]
    return eligible[offset : offset + size]
