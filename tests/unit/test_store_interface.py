"""The store interface's behaviour, as any engine must show it (issue 14; issue 17 adds
Redis to the ``store`` fixture's engines)."""

import uuid
from datetime import UTC, datetime

import pytest

from simulator.store import Record, Store
from simulator.store import redis as redis_engine
from simulator.store.tiny import Engine as TinyEngine


@pytest.fixture
def people(store):
    return store.table(
        "people",
        indexes={
            "email": lambda d: [e.lower() for e in d.get("emails", [])],
            "city": lambda d: [d.get("city")],
        },
        ordered={"by_age": lambda d: [(d["group"], d["age"])] if "age" in d else []},
    )


def ids(records):
    return [r.doc_id for r in records]


# -- documents and ids ---------------------------------------------------------------------
def test_insert_allocates_ids_from_one_and_get_returns_a_copy_with_its_id(people):
    a = people.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = people.insert({"group": 1, "age": 40})
    assert (a, b) == (1, 2)
    got = people.get(a)
    assert isinstance(got, Record) and got.doc_id == a
    assert got == {"emails": ["a@x.co"], "group": 1, "age": 30}
    got["age"] = 99
    del got["group"]
    assert people.get(a) == {"emails": ["a@x.co"], "group": 1, "age": 30}
    assert people.get(999) is None
    assert people.contains(b) and not people.contains(999)
    assert len(people) == 2


def test_the_inserted_document_is_copied(people):
    doc = {"emails": ["a@x.co"], "group": 1, "age": 30, "nested": {"k": [1]}}
    a = people.insert(doc)
    doc["emails"].append("b@x.co")
    doc["nested"]["k"].append(2)
    doc["age"] = 1
    assert people.get(a) == {"emails": ["a@x.co"], "group": 1, "age": 30, "nested": {"k": [1]}}
    assert people.lookup_ids("email", "b@x.co") == []


def test_explicit_ids_are_kept_refused_twice_and_ids_are_never_reused(people):
    assert people.insert({"group": 1, "age": 1}, 41) == 41
    assert people.insert({"group": 1, "age": 2}) == 42
    with pytest.raises(ValueError):
        people.insert({"group": 1, "age": 3}, 41)
    people.remove([42])
    assert people.insert({"group": 1, "age": 3}) == 43
    assert people.allocate_id() == 44
    assert people.insert({"group": 1, "age": 4}, 7) == 7
    assert people.insert({"group": 1, "age": 5}) == 45


def test_iteration_is_in_id_order_whatever_the_insertion_order(people):
    for doc_id in (300, 3, 70, 1000, 64, 65):
        people.insert({"group": 1, "age": doc_id}, doc_id)
    assert ids(people) == [3, 64, 65, 70, 300, 1000]
    assert [r["age"] for r in people] == [3, 64, 65, 70, 300, 1000]


def test_update_sets_fields_copies_them_and_reports_a_missing_document(people):
    a = people.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    tags = ["x"]
    assert people.update(a, {"age": 31, "tags": tags}) is True
    tags.append("y")
    assert people.get(a) == {"emails": ["a@x.co"], "group": 1, "age": 31, "tags": ["x"]}
    assert people.update(999, {"age": 1}) is False
    assert len(people) == 1


def test_remove_returns_the_ids_that_existed_and_truncate_restarts_ids(people):
    a = people.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = people.insert({"emails": ["a@x.co"], "group": 1, "age": 40})
    assert people.remove([a, 999, a]) == [a]
    assert ids(people) == [b] and len(people) == 1
    people.truncate()
    assert len(people) == 0 and list(people) == []
    assert people.lookup_ids("email", "a@x.co") == [] and people.ordered("by_age", 1) == []
    assert people.insert({"group": 1, "age": 1}) == 1


# -- hash indexes --------------------------------------------------------------------------
def test_lookup_lists_oldest_first(people):
    a = people.insert({"emails": ["A@x.co"], "group": 1, "age": 30})
    b = people.insert({"emails": ["a@x.co", "b@x.co"], "group": 1, "age": 20})
    assert ids(people.lookup("email", "a@x.co")) == [a, b]
    assert ids(people.lookup("email", "b@x.co")) == [b]
    assert people.lookup("email", "zzz") == [] and people.lookup_ids("email", "zzz") == []
    assert people.lookup("email", "b@x.co")[0]["age"] == 20


def test_lookups_stay_in_id_order_after_updates(people):
    first = [people.insert({"city": "Oslo", "group": 1, "age": n}) for n in range(3)]
    late = people.insert({"city": "Rome", "group": 1, "age": 9})
    people.update(first[1], {"city": "Rome"})  # an older document joins a key
    assert people.lookup_ids("city", "Rome") == [first[1], late]
    people.update(first[1], {"city": "Oslo"})  # and goes back
    assert people.lookup_ids("city", "Oslo") == first
    assert people.lookup_ids("city", "Rome") == [late]
    people.update(first[0], {"age": 5})  # a change the index does not see
    assert people.lookup_ids("city", "Oslo") == first


def test_lookups_stay_in_id_order_for_a_key_many_documents_share(people):
    n = 1200  # past the length where a run becomes a SortedList
    for doc_id in range(n, 0, -1):  # inserted newest first
        people.insert({"city": "Oslo", "group": 1, "age": doc_id}, doc_id)
    assert people.lookup_ids("city", "Oslo") == list(range(1, n + 1))
    people.update(500, {"city": "Rome"})
    people.remove([7])
    people.update(500, {"city": "Oslo"})
    assert people.lookup_ids("city", "Oslo") == [i for i in range(1, n + 1) if i != 7]


def test_none_keys_are_not_indexed_and_a_key_yielded_twice_lists_once(store):
    table = store.table("t", indexes={"k": lambda d: [d["k"], d["k"], None]})
    a = table.insert({"k": "x"})
    assert table.lookup_ids("k", "x") == [a]
    assert table.lookup_ids("k", None) == []


def test_tuple_keys(store):
    table = store.table("t", indexes={"k": lambda d: [(d["org"], d["code"])]})
    a = table.insert({"org": "o1", "code": "PID-1"})
    table.insert({"org": "o2", "code": "PID-1"})
    assert table.lookup_ids("k", ("o1", "PID-1")) == [a]


# -- ordered indexes -----------------------------------------------------------------------
def test_ordered_entries_ascending_per_group(people):
    rows = [(1, 5), (2, 1), (1, 3), (1, 9), (1, 3)]
    made = [people.insert({"group": g, "age": age}) for g, age in rows]
    assert people.ordered("by_age", 1) == [(3, made[2]), (3, made[4]), (5, made[0]), (9, made[3])]
    assert people.ordered("by_age", 2) == [(1, made[1])]
    assert people.ordered("by_age", 3) == []


def test_ordered_ranges_limits_slices_and_counts(people):
    made = {age: people.insert({"group": 1, "age": age}) for age in (10, 20, 30, 40, 50)}
    assert people.ordered("by_age", 1, lo=20, hi=40) == [(20, made[20]), (30, made[30])]
    assert people.ordered("by_age", 1, lo=25) == [(30, made[30]), (40, made[40]), (50, made[50])]
    assert people.ordered("by_age", 1, hi=20) == [(10, made[10])]
    assert people.ordered("by_age", 1, lo=40, hi=20) == []
    assert people.ordered("by_age", 1, limit=2) == [(10, made[10]), (20, made[20])]
    assert people.ordered("by_age", 1, lo=30, limit=1) == [(30, made[30])]
    assert people.ordered("by_age", 1, limit=0) == []
    assert people.ordered_slice("by_age", 1, 1, 3) == [(20, made[20]), (30, made[30])]
    assert people.ordered_slice("by_age", 1, 4, 99) == [(50, made[50])]
    assert people.ordered_slice("by_age", 1, 9, 12) == [] == people.ordered_slice("by_age", 2, 0, 5)
    assert people.ordered_count("by_age", 1) == 5
    assert people.ordered_count("by_age", 1, lo=20, hi=40) == 2
    assert people.ordered_count("by_age", 1, lo=60) == 0
    assert people.ordered_count("by_age", 2) == 0


def test_a_group_of_one_entry_answers_ranges_slices_and_counts(people):
    a = people.insert({"group": 7, "age": 30})
    assert people.ordered("by_age", 7) == [(30, a)] == people.ordered("by_age", 7, lo=30, hi=31)
    assert people.ordered("by_age", 7, lo=31) == [] == people.ordered("by_age", 7, hi=30)
    assert people.ordered("by_age", 7, lo=20, hi=30) == [] and people.ordered("by_age", 7, 0, 99, 1)
    assert (
        people.ordered_slice("by_age", 7, 0, 1)
        == [(30, a)]
        == people.ordered_slice("by_age", 7, -3, 5)
    )
    assert people.ordered_slice("by_age", 7, 1, 5) == [] == people.ordered_slice("by_age", 7, 0, 0)
    assert [
        people.ordered_count("by_age", 7, lo, hi)
        for lo, hi in [(None, None), (30, 31), (31, None), (None, 30)]
    ] == [1, 1, 0, 0]
    b = people.insert({"group": 7, "age": 10})  # a second entry, then one again
    assert people.ordered("by_age", 7, hi=30) == [(10, b)]
    people.remove([a])
    assert (
        people.ordered("by_age", 7) == [(10, b)] and people.ordered_count("by_age", 7, lo=11) == 0
    )


def test_ordered_follows_updates_and_removals(people):
    a = people.insert({"group": 1, "age": 30})
    b = people.insert({"group": 1, "age": 40})
    people.update(a, {"age": 50})
    assert people.ordered("by_age", 1) == [(40, b), (50, a)]
    people.update(b, {"group": 2})
    assert people.ordered("by_age", 1) == [(50, a)] and people.ordered("by_age", 2) == [(40, b)]
    people.update(a, {"age": 50, "emails": ["a@x.co"]})  # entries unchanged
    assert people.ordered("by_age", 1) == [(50, a)]
    people.remove([a])
    assert people.ordered("by_age", 1) == []


def test_ordered_keys_may_be_datetimes_and_tuples(store):
    table = store.table(
        "requests",
        ordered={"due": lambda r: [(r["provider"], (r["due"], r["number"]))]},
    )
    jan, feb = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    x = table.insert({"provider": "P", "due": feb, "number": "R1"})
    y = table.insert({"provider": "P", "due": jan, "number": "R2"})
    assert table.ordered("due", "P") == [((jan, "R2"), y), ((feb, "R1"), x)]
    assert table.ordered("due", "P", lo=(feb,)) == [((feb, "R1"), x)]


def test_a_long_group_stays_ordered_through_inserts_and_removals(store):
    table = store.table("t", ordered={"o": lambda d: [("g", d["o"])]})
    made = [table.insert({"o": (n * 7919) % 1000}) for n in range(1000)]
    table.remove(made[::3])
    kept = sorted(((n * 7919) % 1000, made[n]) for n in range(1000) if n % 3)
    assert table.ordered("o", "g") == kept
    assert table.ordered("o", "g", lo=500, limit=3) == [e for e in kept if e[0] >= 500][:3]
    assert table.ordered_slice("o", "g", 10, 13) == kept[10:13]
    assert table.ordered_count("o", "g", lo=100, hi=200) == len(
        [e for e in kept if 100 <= e[0] < 200]
    )


def test_tables_of_one_store_are_separate_and_declared_once(store):
    a = store.table("a", indexes={"k": lambda d: [d["k"]]})
    b = store.table("b", indexes={"k": lambda d: [d["k"]]})
    a.insert({"k": "x"})
    assert len(b) == 0 and b.lookup_ids("k", "x") == []
    assert store.table("a") is a
    assert (a.name, b.name) == ("a", "b")
    assert b.insert({"k": "y"}) == 1


# -- counters and documents ----------------------------------------------------------------
def test_counters_count_from_zero_and_rise_to_a_loaded_value(store):
    counters = store.counters
    assert counters.get(("code", "org1", "PID")) == 0
    assert counters.next(("code", "org1", "PID")) == 1
    assert counters.next(("code", "org1", "PID")) == 2
    assert counters.next(("code", "org2", "PID")) == 1
    counters.raise_to("number", 40)
    counters.raise_to("number", 7)  # never lowers
    assert counters.next("number") == 41
    assert store.counters is counters


def test_documents_are_stored_and_read_as_copies(store):
    docs = store.documents
    assert docs.get("config") is None and docs.get("config", {}) == {}
    value = {"api_keys": {"k1": ["L1"]}}
    docs.put("config", value)
    value["api_keys"]["k1"].append("L2")
    got = docs.get("config")
    assert got == {"api_keys": {"k1": ["L1"]}}
    got["api_keys"]["k1"].append("L3")
    assert docs.get("config") == {"api_keys": {"k1": ["L1"]}}


# -- capped logs ---------------------------------------------------------------------------
def test_a_capped_log_numbers_entries_and_keeps_the_newest_limit(store):
    log = store.log("journal", limit=3)
    for n in range(5):
        assert log.append({"n": n})["id"] == n + 1
    assert [e["n"] for e in log.window()] == [2, 3, 4]
    assert len(log) == 3 and log.get(2) is None and log.get(4)["n"] == 3
    assert [e["id"] for e in log.window(after=3)] == [4, 5]
    assert [e["id"] for e in log.window(before=5)] == [3, 4]
    assert log.window(after=4, before=5) == []


def test_a_capped_log_evicts_by_bytes_but_keeps_the_newest_entry(store):
    log = store.log("outbox", limit=100, max_bytes=100)
    log.append({"n": 1}, size=40)
    log.append({"n": 2}, size=40)
    assert log.bytes == 80 and len(log) == 2
    log.append({"n": 3}, size=40)
    assert [e["n"] for e in log.window()] == [2, 3] and log.bytes == 80
    log.append({"n": 4}, size=500)  # alone beyond the bound: kept
    assert [e["n"] for e in log.window()] == [4] and log.bytes == 500
    log.set_limit(100, 1000)
    log.append({"n": 5}, size=10)
    assert [e["n"] for e in log.window()] == [4, 5]
    log.set_limit(1)
    assert [e["n"] for e in log.window()] == [5] and (log.limit, log.max_bytes) == (1, 1000)


def test_clearing_a_log_keeps_counting_and_restarting_starts_again(store):
    log = store.log("journal", limit=10)
    log.append({"n": 1}, size=5)
    log.clear()
    assert len(log) == 0 and log.bytes == 0 and log.window() == []
    assert log.append({"n": 2})["id"] == 2
    log.restart()
    assert log.append({"n": 3})["id"] == 1


def test_an_integral_float_id_is_the_integer_id(people):
    # a state document's integer may arrive as 3.0 (JSON Schema's "integer" admits it)
    assert people.insert({"group": 1, "age": 1}, 1010.0) == 1010
    assert people.get(1010) == {"group": 1, "age": 1} and people.contains(1010.0)
    with pytest.raises(ValueError):
        people.insert({"group": 1, "age": 2}, 1010)
    assert ids(people) == [1010] and type(ids(people)[0]) is int
    assert people.update(1010.0, {"age": 2}) and people.remove([1010.0]) == [1010.0]


def test_documents_may_nest_deeper_than_the_recursion_limit(store):
    import sys

    deep = current = []
    for _ in range(sys.getrecursionlimit() + 100):
        current.append([])
        current = current[0]
    table = store.table("deep")
    doc_id = table.insert({"body": {"a": deep, "b": [1, {"c": 2}]}})
    table.update(doc_id, {"more": deep})
    got = table.get(doc_id)
    assert got["body"]["b"] == [1, {"c": 2}] and got["body"]["a"] is not deep
    store.documents.put("deep", deep)
    assert store.documents.get("deep") is not deep


def test_copies_keep_key_and_item_order(people):
    doc = {"z": 1, "a": [3, {"y": 1, "b": 2}, [4, 5]], "m": {"q": None, "c": True}}
    a = people.insert(doc)
    assert list(people.get(a).items()) == list(doc.items())
    assert list(people.get(a)["a"][1]) == ["y", "b"]


# -- reads of many ids; whole stores copied between engines (issue 17) ----------------------
def test_get_many_answers_in_the_order_given_with_none_for_a_missing_id(people):
    a = people.insert({"emails": ["a@x.co"], "group": 1, "age": 30})
    b = people.insert({"group": 2, "age": 40})
    people.remove([people.insert({"group": 1, "age": 1})])
    got = people.get_many([b, 999, a, 3, b])
    assert [None if r is None else (r.doc_id, dict(r)) for r in got] == [
        (b, {"group": 2, "age": 40}),
        None,
        (a, {"emails": ["a@x.co"], "group": 1, "age": 30}),
        None,
        (b, {"group": 2, "age": 40}),
    ]
    assert all(isinstance(r, Record) for r in got if r is not None)
    got[0]["age"] = 1
    assert people.get(b)["age"] == 40 and people.get_many([]) == []
    assert [r.doc_id for r in people.get_many(iter([a, 2.0]))] == [a, b]  # any iterable


def test_counters_and_documents_list_what_they_hold(store):
    assert store.counters.items() == [] and store.documents.items() == []
    store.counters.next(("code", "o1", "PID"))
    store.counters.raise_to("number", 40)
    store.counters.raise_all([("number", 7), (("deal", "o1"), 3), ("new", 2)])
    assert dict(store.counters.items()) == {
        ("code", "o1", "PID"): 1,
        "number": 40,
        ("deal", "o1"): 3,
        "new": 2,
    }
    store.documents.put("b", {"k": [1]})
    store.documents.put("a", 1)
    listed = store.documents.items()
    assert listed == [("a", 1), ("b", {"k": [1]})]
    listed[1][1]["k"].append(2)
    assert store.documents.get("b") == {"k": [1]}


def test_a_loaded_table_has_its_records_indexes_and_high_water_mark(people):
    assert people.last_id() == 0
    records = [Record({"emails": [f"p{n}@x.co"], "group": n % 2, "age": n}, n) for n in (5, 2, 9)]
    assert people.load(iter(records), last_id=20) == 3
    assert ids(people) == [2, 5, 9] and len(people) == 3
    assert people.lookup_ids("email", "p5@x.co") == [5]
    assert people.ordered("by_age", 1) == [(5, 5), (9, 9)]
    assert people.last_id() == 20 and people.insert({"group": 1, "age": 1}) == 21
    assert people.load([]) == 0 and people.last_id() == 21


ENGINES = ["tiny", "redis"]


@pytest.fixture
def make_store(request):
    """Stores on either engine (Redis: the session's server, a world per test)."""
    world = f"copy-{uuid.uuid4().hex[:8]}"
    names = iter(range(1, 100))

    def make(kind):
        if kind == "tiny":
            return Store(TinyEngine())
        client = request.getfixturevalue("redis_client")
        return Store(redis_engine.Engine(client, world, f"s{next(names)}"))

    return make


def declare(store):
    """Two tables like a backend's: hash indexes (one yielding tuples and None), an ordered
    index on tuples of datetimes, and a table with an ordered index only."""
    people = store.table(
        "people",
        indexes={
            "email": lambda d: [(d["org"], e.lower()) for e in d.get("emails", [])],
            "city": lambda d: [d.get("city")],
        },
        ordered={"due": lambda d: [(d["org"], (d["due"], d["n"]))] if "due" in d else []},
    )
    notes = store.table("notes", ordered={"at": lambda d: [(d.get("org"), d["n"])]})
    return people, notes


def fill(store, n):
    people, notes = declare(store)
    jan = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        doc = {"org": f"o{i % 3}", "emails": [f"P{i}@x.co"], "n": i, "nested": {"k": [i]}}
        if i % 4:
            doc["city"] = f"c{i % 5}"
        if i % 2:
            doc["due"] = jan.replace(day=1 + i % 28)
        people.insert(doc)
    people.remove(list(range(3, n + 1, 7)) + [n])  # the highest id goes: last_id stays
    people.update(2, {"city": "moved", "emails": ["new@x.co"]})
    notes.insert({"text": "a note", "n": 2}, 40)
    notes.insert({"text": "another", "org": "o1", "n": 1}, 39)
    store.counters.next(("deal", "o1"))
    store.counters.raise_to(("code", "o1", "PID"), 120)
    store.documents.put("config", {"keys": {"k1": ["L1"]}, "at": jan})
    return people, notes


def answers(store, n):
    """Every read a backend can make of the stores ``fill`` builds."""
    people, notes = declare(store)
    orgs, cities = [f"o{i}" for i in range(3)], [f"c{i}" for i in range(5)] + ["moved", None]
    jan, feb = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)
    return {
        "docs": [(r.doc_id, dict(r)) for r in people],
        "notes": [(r.doc_id, dict(r)) for r in notes],
        "len": (len(people), len(notes)),
        "get_many": [r and r.doc_id for r in people.get_many(range(n + 2))],
        "email": {
            (o, i): people.lookup_ids("email", (o, f"p{i}@x.co")) for o in orgs for i in range(n)
        },
        "new": [(r.doc_id, r["n"]) for r in people.lookup("email", ("o1", "new@x.co"))],
        "city": {c: people.lookup_ids("city", c) for c in cities},
        "ordered": {o: people.ordered("due", o) for o in orgs},
        "ranges": [
            (
                people.ordered("due", o, lo=(jan,), hi=(feb,), limit=3),
                people.ordered_slice("due", o, 1, 4),
            )
            for o in orgs
        ],
        "counts": [people.ordered_count("due", o, lo=(feb,)) for o in orgs],
        "notes_at": [(notes.ordered("at", o), notes.ordered_count("at", o, hi=2)) for o in orgs],
        "counters": sorted(map(repr, store.counters.items())),
        "documents": store.documents.items(),
        "last_id": (people.last_id(), notes.last_id()),
    }


@pytest.mark.parametrize("source_kind", ENGINES)
@pytest.mark.parametrize("target_kind", ENGINES)
@pytest.mark.parametrize("batch", [1, 1000])
def test_a_copied_store_answers_every_read_as_its_source(
    make_store, monkeypatch, source_kind, target_kind, batch
):
    """With batches of one record, a key a later batch shares with an earlier one (Redis:
    a field holding one id that gains more) is met too."""
    monkeypatch.setattr(redis_engine, "LOAD", batch)
    n = 60
    source, target = make_store(source_kind), make_store(target_kind)
    fill(source, n)
    source.copy_to(target)
    read = answers(target, n)
    assert read == answers(source, n)
    assert read["new"] == [(2, 1)] and read["city"]["moved"] == [2] and read["ordered"]["o1"]
    assert answers(target, n)["last_id"] == (n, 40)
    # the next ids continue after the source's highest ever used, on both
    for store in (source, target):
        people, notes = declare(store)
        assert people.insert({"org": "o1", "n": -1}) == n + 1 and notes.insert({"n": 0}) == 41
        assert store.counters.next(("code", "o1", "PID")) == 121


@pytest.mark.parametrize("rows", [1, 3])
def test_a_copy_keeps_an_ordered_index_whose_group_is_none(make_store, rows):
    """None is no hash key, but it is a group (CRM.COM lists every contact in group None)."""

    def table(store):
        return store.table("x", ordered={"created": lambda d: [(None, d["n"])]})

    source, target = make_store("tiny"), make_store("redis")
    for n in range(rows):
        table(source).insert({"n": n})
    source.copy_to(target)
    expected = [(n, n + 1) for n in range(rows)]
    assert table(target).ordered_slice("created", None, 0, 10) == expected
    assert table(target).ordered("created", None) == expected


def test_a_copy_goes_into_tables_the_target_declared_and_refuses_a_filled_one(make_store):
    source, target = make_store("tiny"), make_store("redis")
    fill(source, 10)
    people, _ = declare(target)  # a backend built over the target first
    source.copy_to(target)
    assert people.lookup_ids("city", "moved") == [2]
    again = make_store("redis")
    declare(again)[1].insert({"text": "here before", "n": 0})
    with pytest.raises(ValueError, match="notes"):
        source.copy_to(again)
    assert len(declare(again)[0]) == 0  # nothing copied


def test_the_garbage_collector_is_paused_for_a_copy_and_on_again_after(make_store, monkeypatch):
    import gc

    from simulator.store import gc_paused

    source, target = make_store("tiny"), make_store("tiny")
    fill(source, 5)
    seen = []
    load = type(declare(target)[0]).load

    def spy(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return load(self, *args, **kwargs)

    monkeypatch.setattr(type(declare(target)[0]), "load", spy)
    assert gc.isenabled()
    source.copy_to(target)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off: left off
    finally:
        gc.enable()


# -- fill: documents stored without the fields a table restores when read -------------------
def _filled(doc):
    return {"kind": "person", "tags": [], **doc, "read": True}


def test_a_table_with_fill_hands_out_filled_documents_and_stores_them_as_given(store):
    seen = []

    def keys(d):
        seen.append(dict(d))
        return [d.get("email")]

    table = store.table("filled", indexes={"email": keys}, fill=_filled)
    a = table.insert({"email": "a@x.co"})
    assert seen == [{"email": "a@x.co"}]  # key functions see the document as inserted
    whole = {"kind": "person", "tags": [], "email": "a@x.co", "read": True}
    assert table.get(a) == whole and table.get(a).doc_id == a
    assert table.get_many([a, 99]) == [whole, None]
    assert table.lookup("email", "a@x.co") == [whole]
    assert list(table) == [whole]
    # an update merges into the filled document, and the keys follow it
    assert table.update(a, {"email": "b@x.co", "kind": "company"})
    assert table.get(a) == {**whole, "email": "b@x.co", "kind": "company"}
    assert table.lookup_ids("email", "a@x.co") == [] and table.lookup_ids("email", "b@x.co") == [a]
    assert table.remove([a]) == [a] and table.lookup_ids("email", "b@x.co") == []


@pytest.mark.parametrize("source_kind", ENGINES)
@pytest.mark.parametrize("target_kind", ENGINES)
def test_a_copied_table_with_fill_reads_the_same_in_its_target(
    make_store, source_kind, target_kind
):
    source, target = make_store(source_kind), make_store(target_kind)
    table = source.table("filled", indexes={"email": lambda d: [d.get("email")]}, fill=_filled)
    a = table.insert({"email": "a@x.co"})
    source.copy_to(target)
    copied = target.table("filled")
    assert copied.get(a) == table.get(a) == _filled({"email": "a@x.co"})
    assert copied.lookup_ids("email", "a@x.co") == [a]
