"""Bulk loads on the TinyDB engine (``store.interface.deferring``): indexes filled in bulk
hold what inserts one by one give them, every read within the block sees them whole, and
the memory engine's bulk builders agree with its one-at-a-time ``add``."""

import datetime
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sortedcontainers import SortedList

from simulator.store import Store, memory, tiny
from simulator.store.interface import DEFERRED, adopting, deferring
from simulator.store.memory import LONG, HashIndex, OrderedIndex


def people(store):
    return store.table(
        "people",
        # a repeated key, a None key and a key many documents share
        indexes={
            "email": lambda d: [e.lower() for e in d["emails"]] + [None],
            "group": lambda d: [d["group"]],
        },
        # a repeated entry, and groups long enough to become SortedLists
        ordered={
            "by_age": lambda d: [(d["group"], d["age"]), (d["group"], d["age"])],
            "all": lambda d: [(None, -d["age"])],
        },
    )


def person(i, rng):
    emails = [f"p{rng.randrange(50)}@x", f"P{i}@X", f"p{i}@x"]
    return {"group": rng.randrange(3), "age": rng.randrange(40), "emails": emails}


def contents(table):
    hashes, ordered = table.index_contents()
    return (
        {name: dict(items) for name, items in hashes.items()},
        {name: dict(items) for name, items in ordered.items()},
    )


def load(docs, deferred, first=()):
    """A table holding ``first`` (inserted outside any block), then ``docs`` with their ids."""
    store = Store(tiny.Engine())
    table = people(store)
    for doc_id, doc in first:
        table.insert(doc, doc_id)
    if deferred:
        with deferring():
            for doc_id, doc in docs:
                table.insert(doc, doc_id)
            assert table._lazy is not None  # the indexes are behind, inside the block
    else:
        for doc_id, doc in docs:
            table.insert(doc, doc_id)
    return table


@pytest.mark.parametrize("seed", range(4))
def test_indexes_filled_in_bulk_hold_what_one_by_one_inserts_give_them(seed):
    rng = random.Random(seed)
    ids = rng.sample(range(1, 5 * LONG), 3 * LONG)  # not ascending: runs need sorting
    docs = [(i, person(i, rng)) for i in ids]
    first = [(i, person(i, rng)) for i in range(5 * LONG, 5 * LONG + 20)]
    one_by_one = load(docs, deferred=False, first=first)
    bulk = load(docs, deferred=True, first=first)
    assert bulk._lazy is None and bulk._unindexed == {}
    assert contents(bulk) == contents(one_by_one)
    assert len(bulk.ordered("all", None)) == len(docs) + len(first)
    assert isinstance(bulk._ordered["all"]._groups[None], SortedList)
    assert list(bulk) == list(one_by_one)


def test_a_read_within_the_block_sees_the_whole_index_and_keeps_it_filled():
    store = Store(tiny.Engine())
    table = people(store)
    with deferring():
        a = table.insert({"group": 1, "age": 30, "emails": ["A@x"]})
        assert table.lookup_ids("email", "a@x") == [a]
        b = table.insert({"group": 1, "age": 20, "emails": ["a@x"]})
        # the index read once is kept on insert; the others are still behind
        assert table.lookup_ids("email", "a@x") == [a, b]
        assert table._lazy is not None and table._ordered["by_age"]._groups == {}
        assert table.ordered("by_age", 1) == [(20, b), (30, a)]
        assert table.ordered_count("by_age", 1, lo=25) == 1
        assert table.lookup_ids("group", 1) == [a, b]
    assert table._lazy is None


def test_an_update_or_a_removal_within_the_block_settles_the_indexes_first():
    store = Store(tiny.Engine())
    table = people(store)
    with deferring():
        a = table.insert({"group": 1, "age": 30, "emails": ["a@x"]})
        b = table.insert({"group": 1, "age": 20, "emails": ["b@x"]})
        assert table.update(a, {"age": 10, "emails": ["c@x"]})
        assert table._lazy is None
        c = table.insert({"group": 2, "age": 5, "emails": ["a@x"]})  # kept at once now
        assert table.lookup_ids("email", "a@x") == [c]
        assert table.remove([b]) == [b]
    assert table.ordered("by_age", 1) == [(10, a)]
    assert table.lookup_ids("email", "c@x") == [a] and table.lookup_ids("email", "b@x") == []


def test_a_block_left_by_an_error_settles_nothing_and_keeps_no_callback():
    store = Store(tiny.Engine())
    table = people(store)
    with pytest.raises(RuntimeError), deferring():
        table.insert({"group": 1, "age": 30, "emails": ["a@x"]})
        pending = DEFERRED.get()
        raise RuntimeError
    assert DEFERRED.get() is None and pending == []
    assert table._lazy is not None  # left behind: the load that failed drops the table
    assert table.lookup_ids("email", "a@x") == [1]  # still whole when read


def test_a_table_without_indexes_defers_nothing():
    store = Store(tiny.Engine())
    table = store.table("plain")
    with deferring():
        table.insert({"a": 1})
        assert DEFERRED.get() == []
    assert table.get(1) == {"a": 1}


def test_a_bulk_flush_stores_the_documents_it_was_given_outside_a_block_through_tinydb():
    store = Store(tiny.Engine())
    table = store.table("plain")
    doc = {"a": [1]}
    with deferring():
        table.insert(doc)
        table.insert({"a": 2}, tiny.BUCKET)  # another bucket: the first is flushed
    data = store.engine._db.storage.data
    assert list(data["plain/0"]) == ["1"] and list(data["plain/0"]["1"]) == [1]
    assert table._shapes.unpack(data["plain/0"]["1"][1]) == {"a": [1]}
    doc["a"].append(2)  # insert packed it: the caller's dict is not what is stored
    assert table.get(1) == {"a": [1]}
    table.flush()
    held = store.engine._db.table("plain/0").get(doc_id=2)
    assert table._shapes.unpack(held[0]) == {"a": 2}


def test_a_bulk_load_packs_its_documents_once_indexed_and_compact_moves_every_key(
    monkeypatch,
):
    monkeypatch.setattr(tiny, "COMPACT_AT", 3 * tiny.BUCKET)
    store = Store(tiny.Engine())
    table = store.table(
        "named",
        indexes={"name": lambda d: [d["name"], (d["name"], d["kind"])]},
        ordered={"by": lambda d: [(d["kind"], d["name"])]},
    )
    docs = {1000 + i: {"name": f"n{i}", "kind": f"k{i % 3}"} for i in range(3 * tiny.BUCKET)}
    given = {doc_id: (doc_id, doc["name"], doc["kind"]) for doc_id, doc in docs.items()}
    with adopting(), deferring():
        for doc_id, doc in docs.items():
            table.insert(doc, doc_id)
            if doc_id == 1010:  # read within the block: kept from then on
                assert table.lookup_ids("name", "n3") == [1003]
        assert table.lookup_ids("name", "n40") == [1040]
        assert table._raw(1000) is docs[1000]  # adopted, held as it is until the block ends
        assert "named/3" not in store.engine._db.storage.data  # written at its end
        assert table.get(1001) == docs[1001]
    data = store.engine._db.storage.data
    assert sorted(data["named/3"]["63"]) == list(range(8, tiny.BUCKET))  # no slot unfilled
    assert all(type(v) is bytes for s in data.values() for b in s.values() for v in b.values())
    assert {r.doc_id: dict(r) for r in table} == docs
    strings = {id(x) for doc_id, name, kind in given.values() for x in (doc_id, name, kind)}
    before = (dict(table._hash["name"]._ids), dict(table._ordered["by"]._groups), dict(data))
    assert table.compact_due
    [finish] = store.compact()
    assert table._hash["name"]._ids == {} and table._ordered["by"]._groups == {}  # let go
    assert finish() == len(docs)
    assert not table.compact_due and store.compact() == []  # once per load
    index = table._hash["name"]._ids
    assert (index, table._ordered["by"]._groups, data) == before  # equal, in the same order
    assert [list(d) for d in (index, table._ordered["by"]._groups)] == [list(d) for d in before[:2]]
    for key, doc_id in index.items():  # every key and id the index's own now
        parts = key if isinstance(key, tuple) else (key,)
        assert id(doc_id) not in strings and not {id(p) for p in parts} & strings
    groups = table._ordered["by"]._groups
    names = {id(x) for run in groups.values() for entry in run for x in entry}
    assert not names & strings and not {id(kind) for kind in groups} & strings
    assert {r.doc_id: dict(r) for r in table} == docs
    assert table.lookup_ids("name", "n7") == [1007] and table.lookup_ids("name", ("n7", "k1"))
    assert table.ordered("by", "k1", limit=2) == [("n1", 1001), ("n10", 1010)]


START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("at", "marshalled"),
    [
        (lambda i: i * 10, True),
        (lambda i: START + datetime.timedelta(days=i), False),  # marshal writes no datetime
    ],
)
def test_compact_writes_long_runs_and_what_marshal_cannot(monkeypatch, at, marshalled):
    monkeypatch.setattr(tiny, "COMPACT_AT", 10)
    monkeypatch.setattr(memory, "LONG", 4)
    written, read = [], tiny._read
    monkeypatch.setattr(tiny, "_read", lambda *w: written.append(w[1]) or read(*w))
    store = Store(tiny.Engine())
    table = store.table(
        "dated",
        indexes={"kind": lambda d: [d["kind"]]},
        ordered={"at": lambda d: [(d["kind"], d["at"])]},
    )
    docs = {i: {"kind": f"k{i % 2}", "at": at(i)} for i in range(1, 30)}
    with deferring():
        for doc_id, doc in docs.items():
            table.insert(doc, doc_id)
    assert type(table._ordered["at"]._groups["k0"]) is SortedList  # a long run
    before = (dict(table._hash["kind"]._ids), dict(table._ordered["at"]._groups))
    [finish] = store.compact()
    assert finish() == len(docs)
    assert written == [marshalled]
    after = (table._hash["kind"]._ids, table._ordered["at"]._groups)
    assert after == before
    assert type(after[0]["k0"]) is type(before[0]["k0"])
    assert type(after[1]["k0"]) is SortedList and type(after[1]["k1"]) is SortedList
    assert {r.doc_id: dict(r) for r in table} == docs
    assert table.ordered("at", "k1", limit=1) == [(docs[1]["at"], 1)]
    assert table.lookup_ids("kind", "k0") == list(range(2, 30, 2))


@pytest.mark.parametrize("seed", range(3))
def test_the_memory_indexes_bulk_builders_agree_with_add(seed):
    rng = random.Random(seed)
    docs = [(i, person(i, rng)) for i in rng.sample(range(1, 4 * LONG), 2 * LONG)]
    early, late = docs[: LONG // 2], docs[LONG // 2 :]
    keys = people(Store(tiny.Engine()))._hash["email"].keys
    entries = people(Store(tiny.Engine()))._ordered["by_age"].entries
    one, bulk = HashIndex(keys), HashIndex(keys)
    sorted_one, sorted_bulk = OrderedIndex(entries), OrderedIndex(entries)
    for doc_id, doc in docs:
        one.add(doc_id, dict.fromkeys(keys(doc)))
        sorted_one.add(sorted_one.entries_of(doc_id, doc))
    for part in (early, late):  # the second call merges into what the first built
        bulk.add_many(part)
        sorted_bulk.add_many(part)
    assert dict(bulk.items()) == dict(one.items())
    assert dict(sorted_bulk.items()) == dict(sorted_one.items())
    for key, _ in one.items():
        assert bulk.ids(key) == one.ids(key)


def test_a_groups_lone_entry_is_kept_bare_and_reads_as_a_run_of_one():
    index = OrderedIndex(lambda d: [("g", d["o"])])
    index.add(index.entries_of(5, {"o": 2}))
    assert index._groups == {"g": (2, 5)}
    assert index.range("g", None, None, None) == [(2, 5)] and index.range("g", 3, None, 1) == []
    assert index.slice("g", 0, 5) == [(2, 5)] and index.count("g", 2, 3) == 1
    assert dict(index.items()) == {"g": [(2, 5)]}
    index.add(index.entries_of(4, {"o": 2}))
    assert index._groups == {"g": [(2, 4), (2, 5)]}
    index.discard(index.entries_of(4, {"o": 2}))
    assert index._groups == {"g": (2, 5)}
    index.discard(index.entries_of(6, {"o": 2}))  # not there: nothing changes
    assert index._groups == {"g": (2, 5)}
    index.discard(index.entries_of(5, {"o": 2}))
    assert index._groups == {}
    index.add_many([(9, {"o": 1})])
    index.add_many([(8, {"o": 1})])  # merged with the lone entry
    assert index._groups == {"g": [(1, 8), (1, 9)]}


def test_a_documents_entries_of_one_order_key_share_one_tuple_and_go_together():
    store = Store(tiny.Engine())
    table = store.table(
        "keyed",
        ordered={"keys": lambda d: [((k, v), d["n"]) for k, v in d["keys"].items()]},
    )
    docs = {
        i: {"n": 1000 + i, "keys": {"a": f"a{i}", "b": f"b{i}", "c": "shared"}}
        for i in range(1, 40)
    }
    with deferring():
        for doc_id, doc in docs.items():
            table.insert(doc, doc_id)
    index = table._ordered["keys"]
    one, two = (
        index.range(("a", "a5"), None, None, None),
        index.range(("b", "b5"), None, None, None),
    )
    assert one == two == [(1005, 5)] and one[0] is two[0]  # one tuple for the document's keys
    assert table.ordered("keys", ("c", "shared"), limit=3) == [(1001, 1), (1002, 2), (1003, 3)]
    table.remove([5])
    assert table.ordered("keys", ("a", "a5")) == [] and table.ordered("keys", ("b", "b5")) == []
    assert (1005, 5) not in table.ordered("keys", ("c", "shared"))


_orders = st.one_of(
    st.tuples(st.integers(0, 5), st.text("ab", max_size=2)),  # CRM.COM's (instant, number)
    st.tuples(st.integers(0, 5)),
    st.tuples(),
)


@given(st.lists(st.tuples(_orders, st.integers(1, 50)), min_size=1, max_size=60))
def test_entries_sorted_by_their_lead_first_end_as_a_plain_sort_leaves_them(entries):
    """``_sorted_once`` sorts long runs of tuple-ordered entries by their order's lead
    first: the result is the plain sort's, each entry once, whatever the leads are."""
    expected = sorted(set(entries))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory, "PRESORT", 1)
        assert memory._sorted_once(list(entries)) == expected
