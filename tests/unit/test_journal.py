"""The journal and the outbox as data structures: bounds in entries and bytes, paging, and
how a raw request or response is decoded when it is read."""

from datetime import UTC, datetime

import pytest

from simulator.clock import Clock
from simulator.journal import (
    JOURNAL_BODY_LIMIT,
    OUTCOME_OVERHEAD,
    RAW_OVERHEAD,
    Log,
    Outbox,
    Outcome,
    Raw,
    _query_map,
    outcomes_size,
    render,
)


def ids(entries):
    return [e["id"] for e in entries]


def filled(n, limit=100, max_bytes=None, size=0):
    log = Log(limit, max_bytes)
    for i in range(n):
        log.append({"n": i}, size)
    return log


# -- bounds ------------------------------------------------------------------------------
def test_a_log_keeps_exactly_limit_entries():
    log = filled(3, limit=3)
    assert ids(log) == [1, 2, 3]
    log.append({})
    assert ids(log) == [2, 3, 4]


def test_entries_without_a_size_count_no_bytes():
    log = filled(3, limit=2, max_bytes=1000)
    assert (len(log), log.bytes) == (2, 0)  # evicted by count, bytes untouched


def test_the_byte_bound_evicts_the_oldest_and_keeps_an_exact_count():
    log = Log(10, max_bytes=100)
    log.append({}, 40)
    log.append({}, 40)
    assert (ids(log), log.bytes) == ([1, 2], 80)
    log.append({}, 30)  # 110 > 100: the oldest goes
    assert (ids(log), log.bytes) == ([2, 3], 70)


def test_the_byte_bound_is_inclusive():
    log = Log(10, max_bytes=100)
    log.append({}, 50)
    log.append({}, 50)
    assert (ids(log), log.bytes) == ([1, 2], 100)


def test_the_newest_entry_is_kept_even_when_it_alone_is_too_large():
    log = Log(10, max_bytes=10)
    log.append({}, 50)
    assert (ids(log), log.bytes) == ([1], 50)
    log.append({}, 60)
    assert (ids(log), log.bytes) == ([2], 60)


def test_lowering_the_limits_evicts_at_once():
    log = filled(5, size=10)
    log.set_limit(3)
    assert (ids(log), log.bytes) == ([3, 4, 5], 30)
    log.set_limit(3, max_bytes=20)
    assert (ids(log), log.bytes, log.max_bytes) == ([4, 5], 20, 20)


def test_clear_and_restart():
    log = filled(3, size=10)
    log.clear()
    assert (len(log), log.bytes) == (0, 0)
    assert log.append({})["id"] == 4  # clearing keeps counting
    assert log.bytes == 0  # an entry appended without a size counts none
    log.restart()
    assert (len(log), log.bytes) == (0, 0)
    assert log.append({})["id"] == 1


# -- reading -----------------------------------------------------------------------------
def test_get_finds_kept_entries_only():
    log = filled(5, limit=3)
    assert [log.get(i) is not None for i in range(1, 8)] == [False, False, True, True, True] + [
        False,
        False,
    ]
    assert log.get(4)["n"] == 3
    assert Log(3).get(1) is None


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"after": 0}, [1, 2, 3, 4, 5]),
        ({"after": 3}, [4, 5]),
        ({"after": 5}, []),
        ({"before": 1}, []),
        ({"before": 3}, [1, 2]),
        ({"before": 99}, [1, 2, 3, 4, 5]),
        ({"after": 1, "before": 3}, [2]),
        ({"after": 2, "before": 3}, []),
        ({"limit": 1}, [5]),
        ({"limit": 2}, [4, 5]),
        ({"limit": 10}, [1, 2, 3, 4, 5]),
        ({"limit": 0}, []),
        ({"after": 1, "limit": 2}, [2, 3]),
    ],
)
def test_select_pages_by_id(kwargs, expected):
    assert ids(filled(5).select(**kwargs)) == expected


def test_select_filters_before_it_limits():
    log = filled(6)
    assert ids(log.select(lambda e: e["n"] % 2 == 0, limit=2)) == [3, 5]
    assert ids(log.query(lambda e: e["n"] % 2 == 0)) == [1, 3, 5]
    assert ids(log.query(lambda e: e["n"] % 2 == 0, limit=1)) == [5]
    assert filled(0).select() == []


# -- the outbox ---------------------------------------------------------------------------
def test_outbox_entries_name_their_vendor_kind_and_time():
    clock = Clock()
    clock.freeze(datetime(2024, 6, 1, 12, tzinfo=UTC))
    outbox = Outbox(10, clock)
    entry = outbox.send("omoto", "survey-invite", email="a@b.co")
    assert entry == {
        "id": 1,
        "at": "2024-06-01T12:00:00Z",
        "vendor": "omoto",
        "kind": "survey-invite",
        "email": "a@b.co",
    }
    assert outbox.bytes == 0  # without a byte bound, nothing is measured


def test_outbox_byte_bound_counts_each_entry_as_its_json():
    outbox = Outbox(10, Clock(), max_bytes=3000)
    outbox.send("antcrm", "email", body="x" * 600)
    first = outbox.bytes
    assert first > 600
    outbox.send("antcrm", "email", body="y" * 600)
    assert outbox.bytes == 2 * first
    outbox.send("antcrm", "email", body="z" * 600)  # over 3,000 bytes: the oldest goes
    assert [e["body"][0] for e in outbox] == ["y", "z"]
    assert outbox.limit == 10 and outbox.max_bytes == 3000


def test_outbox_stamps_fields_with_the_entrys_instant_and_sizes_them_as_stored():
    clock = Clock()
    clock.freeze(datetime(2024, 6, 1, 12, tzinfo=UTC))
    plain = Outbox(10, clock, max_bytes=3000)
    plain.send("omoto", "survey-invite", email="a@b.c", sent_at="2024-06-01T12:00:00Z")
    stamped = Outbox(10, clock, max_bytes=3000)
    entry = stamped.send("omoto", "survey-invite", email="a@b.c", stamp=("sent_at",))
    assert entry["sent_at"] == entry["at"] == "2024-06-01T12:00:00Z"
    assert [k for k in entry if k in ("email", "sent_at")] == ["email", "sent_at"]
    assert [e["sent_at"] for e in stamped] == ["2024-06-01T12:00:00Z"]
    assert "stamp" not in entry and stamped.bytes == plain.bytes


# -- raw parts, decoded when read ----------------------------------------------------------
def test_query_map_keeps_repeats_in_order_and_blank_values():
    assert _query_map("a=1&b=&a=2&c&a=3") == {"a": ["1", "2", "3"], "b": "", "c": ""}
    assert _query_map("a=10&a=20") == {"a": ["10", "20"]}
    assert _query_map("x=1") == {"x": "1"}


def test_outcomes_size():
    assert outcomes_size(None) == 0 and outcomes_size([]) == 0
    outcomes = [Outcome("add-contact", "created", "PID-1", "new"), Outcome(None, "ignored")]
    assert outcomes_size(outcomes) == 2 * OUTCOME_OVERHEAD + len("PID-1") + len("new")


def test_header_map_of_plain_headers_keeps_their_case():
    raw = Raw([("X-API-KEY", "1"), ("content-type", "a")], b"", None)
    assert raw.header_map() == {"X-API-KEY": "1", "content-type": "a"}


def test_header_map_of_environ_headers():
    raw = Raw([("CONTENT_TYPE", "a"), ("HTTP_X_API_KEY", "b")], b"", None, environ_headers=True)
    assert raw.header_map() == {"Content-Type": "a", "X-Api-Key": "b"}


def test_size_counts_body_query_and_headers():
    raw = Raw([("Ab", "cde")], b"12345", None, query="q=1")
    assert raw.size() == RAW_OVERHEAD + 5 + 3 + 5


@pytest.mark.parametrize(
    "data, mimetype, body",
    [
        (b'{"a": 1}', "application/json", {"a": 1}),
        (b'{"a": 1}', "application/problem+json", {"a": 1}),
        (b'{"a": 1}', "text/plain", '{"a": 1}'),
        (b'{"a": 1}', None, '{"a": 1}'),
        (b"a=1&b=2", "application/x-www-form-urlencoded", {"a": "1", "b": "2"}),
        (b"a=1&b=2", "text/plain", "a=1&b=2"),
        (b"{not json", "application/json", "{not json"),
        (b"caf\xc3\xa9 \xff", "text/plain", "café \ufffd"),
        (b"", "application/json", None),
    ],
)
def test_body_is_parsed_by_its_type_else_text(data, mimetype, body):
    assert Raw([], data, mimetype).body() == body


def test_long_text_bodies_are_cut_with_an_ellipsis():
    exact = b"a" * JOURNAL_BODY_LIMIT
    assert Raw([], exact, "text/plain").body() == "a" * JOURNAL_BODY_LIMIT
    longer = b"a" * JOURNAL_BODY_LIMIT + b"b"
    assert Raw([], longer, "text/plain").body() == "a" * JOURNAL_BODY_LIMIT + "…"


def test_kept_truncated_bodies_are_text_with_length_and_hash():
    raw = Raw([], b"\xff\xfe{}" + b"x" * 20, "application/json", keep=4)
    assert raw.body() == "\ufffd\ufffd{}…"
    assert (raw.length, len(raw.sha256)) == (24, 64)
    same = Raw([], b"abcd", "application/json", keep=4)  # at the bound: kept whole
    assert (same.sha256, same.data) == (None, b"abcd")


def test_render_decodes_both_parts_and_outcomes():
    entry = {
        "id": 3,
        "_bytes": 10,
        "request": {"method": "POST", "raw": Raw([], b"{}", "application/json", query="a=1")},
        "response": {"status": 200, "raw": Raw([("X", "y")], b"[]", "application/json")},
        "outcomes": [Outcome("add-note", "ignored", None, "why")],
    }
    out = render(entry)
    assert "_bytes" not in out
    assert out["request"] == {"method": "POST", "query": {"a": "1"}, "headers": {}, "body": {}}
    assert out["response"] == {"status": 200, "headers": {"X": "y"}, "body": []}
    assert out["outcomes"] == [
        {"item": 0, "actionType": "add-note", "result": "ignored", "id": None, "detail": "why"}
    ]
    assert "raw" in entry["request"]  # the stored entry keeps its raw bytes


@pytest.mark.parametrize(
    "make", [lambda s: Log(5, storage=s), lambda s: Outbox(5, Clock(), storage=s)]
)
def test_a_log_and_an_outbox_keep_their_entries_in_the_storage_they_are_given(make):
    from simulator.store.memory import MemoryLog

    storage = MemoryLog(5)
    log = make(storage)
    log.append({"n": 1})
    assert [e["id"] for e in storage.window(None, None)] == [1]
    assert ids(log) == [1]


@pytest.mark.parametrize("limit", [0, -1])
def test_select_with_a_limit_of_zero_or_less_finds_nothing(limit):
    assert filled(3).select(limit=limit) == []
