"""The memory engine's structures pinned down exactly (issue 15): each test fails if one
detail of them changes."""

from sortedcontainers import SortedList

from simulator.store.memory import (
    LONG,
    HashIndex,
    MemoryCounters,
    MemoryDocuments,
    MemoryLog,
    OrderedIndex,
)


def test_a_none_key_is_not_indexed():
    index = HashIndex(lambda d: [])
    index.add(1, [None, "a"])
    assert index._ids == {"a": 1}
    index.discard(1, [None, "a"])
    assert index._ids == {}


def test_a_hash_key_holds_an_int_then_a_sorted_list_then_a_sorted_container():
    index = HashIndex(lambda d: [])
    index.add(5, ["k"])
    assert index._ids == {"k": 5}
    index.add(5, ["k"])  # the same id again: nothing changes
    assert index._ids == {"k": 5}
    index.add(3, ["k"])
    assert index._ids == {"k": [3, 5]}
    index.add(9, ["k"])
    index.add(4, ["k"])
    assert index._ids == {"k": [3, 4, 5, 9]} and type(index._ids["k"]) is list
    for doc_id in range(10, 10 + LONG):
        index.add(doc_id, ["k"])
    assert isinstance(index._ids["k"], SortedList)
    assert index.ids("k") == [3, 4, 5, 9, *range(10, 10 + LONG)]


def test_a_hash_key_falls_back_to_an_int_and_is_dropped_when_empty():
    index = HashIndex(lambda d: [])
    index.add(1, ["k", "j"])
    index.add(2, ["k"])
    index.discard(1, ["k"])
    assert index._ids == {"k": 2, "j": 1}
    index.discard(7, ["k", "j", "missing"])  # never added: nothing happens
    assert index._ids == {"k": 2, "j": 1}
    index.discard(2, ["k"])
    index.discard(1, ["j"])
    assert index._ids == {} and index.ids("k") == []
    big = HashIndex(lambda d: [])
    for doc_id in range(1, LONG + 3):
        big.add(doc_id, ["k"])
    for doc_id in range(1, LONG + 2):
        big.discard(doc_id, ["k"])
    assert big._ids == {"k": LONG + 2}


def test_ids_are_a_new_list_each_time():
    index = HashIndex(lambda d: [])
    index.add(1, ["k"])
    index.add(2, ["k"])
    got = index.ids("k")
    got.append(99)
    assert index.ids("k") == [1, 2]


def test_ordered_entries_are_per_document_and_groups_are_dropped_when_empty():
    index = OrderedIndex(lambda d: [("g", d["o"]), ("g", d["o"]), ("h", d["o"])])
    entries = index.entries_of(7, {"o": 3})
    assert list(entries) == [("g", (3, 7)), ("h", (3, 7))]
    index.add(entries)
    index.add(index.entries_of(8, {"o": 3}))
    index.discard(entries)
    assert index._groups == {"g": (3, 8), "h": (3, 8)}  # a group's lone entry, bare
    index.discard(index.entries_of(8, {"o": 3}))
    index.discard(index.entries_of(9, {"o": 3}))
    assert index._groups == {}
    assert index.range("g", None, None, None) == [] and index.count("g", 1, 2) == 0


def test_a_long_ordered_group_becomes_a_sorted_container_and_reads_the_same():
    index = OrderedIndex(lambda d: [("g", d["o"])])
    for doc_id in range(LONG + 1, 0, -1):
        index.add(index.entries_of(doc_id, {"o": doc_id % 10}))
    run = index._groups["g"]
    assert isinstance(run, SortedList)
    expected = sorted((doc_id % 10, doc_id) for doc_id in range(1, LONG + 2))
    assert index.range("g", None, None, None) == expected
    assert index.range("g", 3, 5, None) == [e for e in expected if 3 <= e[0] < 5]
    assert index.range("g", 3, None, 2) == [e for e in expected if e[0] >= 3][:2]
    assert index.slice("g", -5, 2) == expected[:2]
    assert index.count("g", 9, None) == len([e for e in expected if e[0] == 9])
    assert isinstance(index.range("g", None, None, None), list)


def test_counters_and_documents():
    counters = MemoryCounters()
    counters.raise_to("n", 0)
    assert counters._values == {}
    assert counters.next("n") == 1 and counters.get("n") == 1
    docs = MemoryDocuments()
    docs.put("d", [1, {"a": [2]}])
    assert docs.get("d") == [1, {"a": [2]}] and docs.get("d") is not docs._docs["d"]


def test_a_log_is_built_on_first_append_and_gets_by_position():
    log = MemoryLog(3)
    assert log._entries is None and log.get(1) is None and log.window() == []
    for n in range(1, 6):
        log.append({"n": n}, size=n)
    assert log.bytes == 3 + 4 + 5
    assert log.get(3) == {"id": 3, "n": 3, "_bytes": 3}
    assert log.get(2) is None and log.get(6) is None
    entry = log.append({"n": 6})
    assert entry == {"id": 6, "n": 6} and log.get(6) is entry  # no size: no "_bytes"
    assert log.window(after=0, before=100) == log.window()
    assert [e["id"] for e in log.window(after=4)] == [5, 6]


# -- found by mutation testing (tests/mutation/run.py store/memory) ------------------------
def test_a_run_becomes_a_sorted_container_only_past_long():
    index = HashIndex(lambda d: [])
    for doc_id in range(1, LONG + 1):
        index.add(doc_id, ["k"])
    assert type(index._ids["k"]) is list and len(index._ids["k"]) == LONG
    index.add(LONG + 1, ["k"])
    assert isinstance(index._ids["k"], SortedList)


def test_discarding_an_id_a_run_lacks_changes_nothing():
    index = HashIndex(lambda d: [])
    for doc_id in (1, 3, 5):
        index.add(doc_id, ["k"])
    index.discard(2, ["k"])  # bisect lands inside the run, on another id
    index.discard(9, ["k"])  # bisect lands past the end
    assert index.ids("k") == [1, 3, 5]


def test_discard_goes_on_past_a_key_holding_one_id():
    index = HashIndex(lambda d: [])
    index.add(1, ["a", "b", "c"])
    index.add(2, ["c"])
    index.discard(1, ["a", "b", "c"])
    assert index._ids == {"c": 2}


def test_a_fresh_counter_rises_to_one():
    counters = MemoryCounters()
    counters.raise_to("n", 1)
    assert counters.get("n") == 1 and counters.next("n") == 2


def test_evicting_an_entry_without_a_size_takes_no_bytes():
    log = MemoryLog(1, max_bytes=1000)
    log.append({"n": 1})
    log.append({"n": 2}, size=5)
    assert [e["n"] for e in log.window()] == [2] and log.bytes == 5


def test_entries_that_exactly_fill_max_bytes_are_all_kept():
    log = MemoryLog(10, max_bytes=100)
    log.append({"n": 1}, size=50)
    log.append({"n": 2}, size=50)
    log.set_limit(10)  # evicts what no longer fits: nothing
    assert len(log) == 2 and log.bytes == 100


def test_windows_and_slices_that_end_at_or_before_the_start_are_empty():
    log = MemoryLog(10)
    for n in range(3):
        log.append({"n": n})
    assert log.window(before=1) == [] and log.window(before=0) == []
    index = OrderedIndex(lambda d: [("g", d["o"])])
    index.add(index.entries_of(1, {"o": 1}))
    assert index.slice("g", 0, 0) == [] and index.slice("g", 0, -3) == []
