"""The store pinned down exactly (issue 15): each test fails if one detail of it changes."""

from tinydb import Query
from tinydb.table import Document

from simulator.store import HashIndex, LiveMemoryStorage, OrderedIndex, Store


def people(store=None):
    return (store or Store()).table(
        "people",
        indexes={"email": lambda d: d.get("emails", [])},
        ordered={"by_age": lambda d: [(d["group"], d["age"])] if "age" in d else []},
    )


def test_fresh_storage_reads_as_empty_and_write_drops_missing_tables():
    storage = LiveMemoryStorage()
    assert storage.read() is None
    storage.write({"a": {"1": {"k": 1}}, "b": {"2": {"k": 2}}})
    kept = storage.live("a")
    storage.write({"b": {"3": {"k": 3}}})
    assert storage.live("a") == {} and kept is storage.live("a")  # cleared in place
    assert storage.live("b") == {3: {"k": 3}}
    assert storage.read() == {"a": {}, "b": {"3": {"k": 3}}}


def test_first_id_of_a_fresh_table_is_one():
    table = people()
    assert table.insert({"group": 1, "age": 1}) == 1
    assert table.allocate_id() == 2


def test_table_over_stored_documents_indexes_them_and_continues_their_ids():
    store = Store()
    store.db.storage.write({"people": {"7": {"emails": ["a@x.co"], "group": 1, "age": 3}}})
    table = people(store)
    assert table.lookup_ids("email", "a@x.co") == [7]
    assert table.ordered("by_age", 1) == [(3, 7)]
    assert table.insert({"group": 1, "age": 1}) == 8


def test_a_key_yielded_twice_lists_the_document_once_and_none_keys_are_skipped():
    table = Store().table("t", indexes={"k": lambda d: [d["k"], d["k"], None]})
    a = table.insert({"k": "x"})
    assert table.lookup_ids("k", "x") == [a]
    assert table.lookup_ids("k", None) == []
    assert [d.doc_id for d in table.lookup("k", "x")] == [a]


def test_emptied_keys_and_groups_are_dropped_from_the_indexes():
    index = HashIndex(lambda d: [d["k"]])
    index.add(1, {"k": "x"})
    index.add(2, {"k": "x"})
    index.discard(1)
    assert index.ids("x") == [2]
    index.discard(2)
    index.discard(3)  # never added: nothing happens
    assert index._by_key == {} and index._by_doc == {}
    ordered = OrderedIndex(lambda d: [("g", d["o"])])
    ordered.add(1, {"o": 5})
    ordered.add(2, {"o": 5})
    ordered.discard(1)
    assert ordered.items("g") == [(5, 2)]
    ordered.discard(2)
    ordered.discard(3)
    assert ordered._groups == {} and ordered._by_doc == {}
    assert ordered.items("g") == []


def test_ordered_discard_removes_only_that_document():
    ordered = OrderedIndex(lambda d: [("g", d["o"]), ("h", d["o"])])
    for doc_id, order in [(1, 5), (2, 5), (3, 1), (4, 9)]:
        ordered.add(doc_id, {"o": order})
    ordered.discard(2)
    ordered.discard(4)
    assert ordered.items("g") == [(1, 3), (5, 1)]
    assert ordered.items("h") == [(1, 3), (5, 1)]


def test_update_by_ids_touches_only_those_documents():
    table = people()
    a = table.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = table.insert({"emails": ["b@x.co"], "group": 1, "age": 40})
    assert table.update({"age": 31}, doc_ids=[a]) == [a]
    assert table.doc(b) == {"emails": ["b@x.co"], "group": 1, "age": 40}
    assert table.ordered("by_age", 1) == [(31, a), (40, b)]
    assert table.update(lambda d: d.update(age=1), Query().age == 40) == [b]
    assert table.ordered("by_age", 1) == [(1, b), (31, a)]


def test_remove_by_condition_touches_only_matching_documents():
    table = people()
    a = table.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = table.insert({"emails": ["a@x.co"], "group": 1, "age": 40})
    assert table.remove(Query().age == 30) == [a]
    assert table.lookup_ids("email", "a@x.co") == [b]
    assert table.ordered("by_age", 1) == [(40, b)]


def test_insert_multiple_indexes_every_document():
    table = people()
    ids = table.insert_multiple([{"emails": ["a@x.co"]}, {"emails": ["a@x.co"]}])
    assert ids == [1, 2]
    assert table.lookup_ids("email", "a@x.co") == [1, 2]


def test_truncate_clears_ordered_indexes_too():
    table = people()
    table.insert({"group": 1, "age": 1})
    table.truncate()
    assert table.ordered("by_age", 1) == []
    assert table.storage.read() == {"people": {}}


def test_searches_see_every_write_no_stale_query_cache():
    table = people()
    query = Query().age > 35
    assert table.search(query) == []
    a = table.insert({"group": 1, "age": 40})
    assert [d.doc_id for d in table.search(Query().age > 35)] == [a]
    table.update({"age": 1}, doc_ids=[a])
    assert table.search(query) == []
    assert table.count(Query().age == 1) == 1


def test_reads_return_documents_with_their_ids():
    table = people()
    a = table.insert({"group": 1, "age": 30})
    b = table.insert({"group": 1, "age": 40})
    got = table.get(doc_id=a)
    assert isinstance(got, Document) and got.doc_id == a and got == {"group": 1, "age": 30}
    assert [d.doc_id for d in table.get(doc_ids=[a, b])] == [a, b]
    assert table.get(Query().age == 40).doc_id == b
    assert table.get(doc_ids=[b, 999]) == [{"group": 1, "age": 40}]
    assert table.get(Query().age == 40, doc_id=a).doc_id == a  # as TinyDB: the id wins
    assert table.get(Query().age == 40, doc_ids=[a]) == [{"group": 1, "age": 30}]
    assert table.get(Query().age == 1) is None
    assert table.doc(a).doc_id == a and table.doc(999) is None
    assert table.contains(Query().age == 40) and not table.contains(Query().age == 1)
    assert table.contains(doc_id=b) and not table.contains(doc_id=3)


def test_iteration_is_in_id_order_whatever_the_insertion_order():
    table = people()
    table.insert(Document({"group": 1, "age": 1}, 10))
    table.insert(Document({"group": 1, "age": 2}, 3))
    assert [d.doc_id for d in table] == [3, 10]
    assert [d["age"] for d in table] == [2, 1]
    assert table.insert({"group": 1, "age": 3}) == 11


def test_lookup_returns_the_documents_themselves():
    table = people()
    a = table.insert({"emails": ["a@x.co"], "group": 2, "age": 7})
    [doc] = table.lookup("email", "a@x.co")
    assert doc == {"emails": ["a@x.co"], "group": 2, "age": 7} and doc.doc_id == a
    assert table.lookup_ids("email", "nobody") == []
    assert table.ordered("by_age", 9) == []


def test_tables_of_one_store_are_separate():
    store = Store()
    a = people(store)
    b = store.table("other", indexes={"email": lambda d: d.get("emails", [])})
    a.insert({"emails": ["a@x.co"], "group": 1, "age": 1})
    assert len(b) == 0 and b.lookup_ids("email", "a@x.co") == []
    assert store.table("people") is a
    assert (a.name, b.name) == ("people", "other")
