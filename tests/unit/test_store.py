"""The store: in-place writes, indexes kept in step, TinyDB semantics kept."""

from unittest import mock

import pytest
from tinydb import Query
from tinydb.table import Document

from simulator.store import LiveMemoryStorage, Store


@pytest.fixture
def table():
    store = Store()
    return store.table(
        "people",
        indexes={"email": lambda d: [e.lower() for e in d.get("emails", [])]},
        ordered={"by_age": lambda d: [(d["group"], d["age"])]},
    )


def test_insert_lookup_oldest_first(table):
    a = table.insert({"emails": ["A@x.co"], "group": 1, "age": 30})
    b = table.insert({"emails": ["a@x.co", "b@x.co"], "group": 1, "age": 20})
    assert [d.doc_id for d in table.lookup("email", "a@x.co")] == [a, b]
    assert [d.doc_id for d in table.lookup("email", "b@x.co")] == [b]
    assert table.lookup("email", "zzz") == []


def test_update_reindexes(table):
    a = table.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    table.update({"emails": ["c@x.co"], "age": 10}, doc_ids=[a])
    assert table.lookup("email", "a@x.co") == []
    assert table.lookup("email", "c@x.co")[0]["age"] == 10
    assert table.ordered("by_age", 1) == [(10, a)]


def test_update_by_condition_reindexes(table):
    a = table.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    table.update({"emails": ["d@x.co"]}, Query().age == 30)
    assert [d.doc_id for d in table.lookup("email", "d@x.co")] == [a]


def test_remove_unindexes(table):
    a = table.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = table.insert({"emails": ["a@x.co"], "group": 2, "age": 5})
    assert table.remove(doc_ids=[a]) == [a]
    assert [d.doc_id for d in table.lookup("email", "a@x.co")] == [b]
    assert table.ordered("by_age", 1) == []
    table.remove(Query().group == 2)
    assert table.lookup("email", "a@x.co") == []
    assert len(table) == 0


def test_ordered_index_sorts_within_groups(table):
    ids = [table.insert({"group": g, "age": age}) for g, age in [(1, 5), (2, 1), (1, 3), (1, 9)]]
    assert table.ordered("by_age", 1) == [(3, ids[2]), (5, ids[0]), (9, ids[3])]
    assert table.ordered("by_age", 2) == [(1, ids[1])]


def test_ids_are_monotonic_and_explicit_ids_are_kept(table):
    table.insert(Document({"group": 1, "age": 1}, 41))
    assert table.insert({"group": 1, "age": 2}) == 42
    table.remove(doc_ids=[42])
    assert table.insert({"group": 1, "age": 3}) == 43  # ids are never reused
    assert table.allocate_id() == 44
    with pytest.raises(ValueError):
        table.insert(Document({"group": 1, "age": 1}, 41))


def test_get_contains_iter_and_tinydb_search(table):
    a = table.insert({"emails": [], "group": 1, "age": 30})
    b = table.insert({"emails": [], "group": 1, "age": 40})
    assert table.get(doc_id=a)["age"] == 30
    assert table.doc(b).doc_id == b
    assert table.get(doc_id=999) is None
    assert table.contains(doc_id=a) and not table.contains(doc_id=999)
    assert [d.doc_id for d in table] == [a, b]
    assert [d.doc_id for d in table.search(Query().age > 35)] == [b]
    assert table.get(Query().age == 30).doc_id == a


def test_truncate_clears_indexes(table):
    table.insert({"emails": ["a@x.co"], "group": 1, "age": 1})
    table.truncate()
    assert len(table) == 0 and table.lookup("email", "a@x.co") == []
    assert table.insert({"group": 1, "age": 2}) == 1


def test_writes_never_read_or_rewrite_the_whole_database(table):
    table.insert({"emails": ["a@x.co"], "group": 1, "age": 1})
    storage = table.storage
    with (
        mock.patch.object(storage, "read", side_effect=AssertionError("whole read")),
        mock.patch.object(storage, "write", side_effect=AssertionError("whole write")),
    ):
        doc_id = table.insert({"emails": ["b@x.co"], "group": 1, "age": 2})
        table.update({"age": 3}, doc_ids=[doc_id])
        table.lookup("email", "b@x.co")
        table.remove(doc_ids=[doc_id])


def test_storage_snapshot_round_trip():
    store = Store()
    t = store.table("t", indexes={"k": lambda d: [d["k"]]})
    t.insert({"k": "x"})
    snapshot = store.db.storage.read()
    assert snapshot == {"t": {"1": {"k": "x"}}}
    other = LiveMemoryStorage()
    other.write(snapshot)
    assert other.live("t") == {1: {"k": "x"}}
