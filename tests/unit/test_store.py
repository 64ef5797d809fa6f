"""The TinyDB engine: documents in TinyDB tables of ``BUCKET`` ids, written through TinyDB's
public API, so that no write costs more as a table grows."""

from unittest import mock

import pytest
from tinydb.table import Table as TinyTable

from simulator.store import Store, tiny


@pytest.fixture
def store():
    return Store(tiny.Engine())


@pytest.fixture
def table(store):
    return store.table(
        "people",
        indexes={"email": lambda d: [e.lower() for e in d.get("emails", [])]},
        ordered={"by_age": lambda d: [(d["group"], d["age"])]},
    )


def buckets(store):
    return store.engine._db.storage.data


def test_documents_live_in_tinydb_tables_of_bucket_ids(store, table):
    n = tiny.BUCKET * 2 + 1
    for i in range(1, n + 1):
        table.insert({"group": 1, "age": i})
    table.flush()
    data = buckets(store)
    assert sorted(data) == ["people/0", "people/1", "people/2"]
    assert sorted(map(int, data["people/1"])) == list(range(tiny.BUCKET, 2 * tiny.BUCKET))
    assert data["people/0"]["1"] == {"group": 1, "age": 1}
    assert store.engine._db.table("people/1").get(doc_id=tiny.BUCKET) == {
        "group": 1,
        "age": tiny.BUCKET,
    }


def test_a_write_goes_through_tinydbs_public_methods_and_rebuilds_one_bucket(store, table):
    for i in range(1, 3 * tiny.BUCKET):
        table.insert({"group": 1, "age": i})
    table.flush()
    data = buckets(store)
    before = {name: data[name] for name in data}
    calls = []
    names = ("insert_multiple", "update", "remove")
    real = {name: getattr(TinyTable, name) for name in names}

    def spy(name):
        def call(self, *args, **kwargs):
            calls.append((name, self.name))
            return real[name](self, *args, **kwargs)

        return call

    with (
        mock.patch.object(TinyTable, "insert_multiple", spy("insert_multiple")),
        mock.patch.object(TinyTable, "update", spy("update")),
        mock.patch.object(TinyTable, "remove", spy("remove")),
    ):
        table.update(tiny.BUCKET + 1, {"age": 0})
        table.remove([tiny.BUCKET + 2])
        table.insert({"group": 1, "age": 0}, tiny.BUCKET + 3 + 1000 * tiny.BUCKET)
        table.flush()
    assert calls == [
        ("update", "people/1"),
        ("remove", "people/1"),
        ("insert_multiple", "people/1001"),
    ]
    assert data["people/0"] is before["people/0"] and data["people/2"] is before["people/2"]


def test_the_storage_hands_out_its_live_dict_without_copies(store, table):
    storage = store.engine._db.storage
    assert storage.read() is storage.data
    table.insert({"group": 1, "age": 1})
    with mock.patch.object(type(storage), "write", autospec=True) as write:
        table.flush()
    assert write.call_args.args[1] is storage.data  # TinyDB writes back what it read


def test_an_emptied_bucket_is_dropped_and_can_fill_again(store, table):
    a = table.insert({"group": 1, "age": 1}, 5 * tiny.BUCKET)
    table.remove([a])
    assert "people/5" not in buckets(store)
    assert table.get(a) is None and not table.contains(a)
    table.insert({"group": 1, "age": 2}, a)
    assert table.get(a) == {"group": 1, "age": 2}


def test_truncate_drops_every_bucket(store, table):
    for i in range(1, 2 * tiny.BUCKET):
        table.insert({"group": 1, "age": i})
    other = store.table("other")
    other.insert({"k": 1})
    other.flush()
    table.truncate()
    assert sorted(buckets(store)) == ["other/0"]
    assert len(table) == 0 and table.insert({"group": 1, "age": 1}) == 1


def test_inserts_into_one_bucket_reach_tinydb_together_and_reads_see_them_before(store, table):
    calls = []
    real = TinyTable.insert_multiple

    def spy(self, documents):
        documents = list(documents)
        calls.append((self.name, [d.doc_id for d in documents]))
        return real(self, documents)

    with mock.patch.object(TinyTable, "insert_multiple", spy):
        first = [table.insert({"emails": [f"{i}@x.co"], "group": 1, "age": i}) for i in (1, 2)]
        assert calls == [] and "people/0" not in buckets(store)
        assert table.get(first[0]) == {"emails": ["1@x.co"], "group": 1, "age": 1}
        assert table.contains(2) and table.lookup_ids("email", "2@x.co") == [2]
        with pytest.raises(ValueError):
            table.insert({"group": 1, "age": 9}, 2)  # taken, though still held back
        table.insert({"group": 1, "age": 3}, tiny.BUCKET)  # the next bucket: the first goes
        assert calls == [("people/0", [1, 2])]
        table.update(tiny.BUCKET, {"age": 4})  # an update of a held document: it goes first
        assert calls[1:] == [("people/1", [tiny.BUCKET])]
        assert table.get(tiny.BUCKET)["age"] == 4
        table.insert({"group": 1, "age": 5}, 2 * tiny.BUCKET)
        assert [r.doc_id for r in table] == [1, 2, tiny.BUCKET, 2 * tiny.BUCKET]  # flushed
        assert calls[2:] == [("people/2", [2 * tiny.BUCKET])]
    table.insert({"group": 1, "age": 6}, 3 * tiny.BUCKET)
    assert table.remove([3 * tiny.BUCKET]) == [3 * tiny.BUCKET]
    assert "people/3" not in buckets(store)
    table.insert({"group": 1, "age": 7}, 4 * tiny.BUCKET)
    table.truncate()  # held documents go too
    assert len(table) == 0 and list(table) == [] and table.get(4 * tiny.BUCKET) is None


def test_a_taken_id_is_refused_as_tinydb_would_and_removals_count(table):
    for age in (1, 2, 3):
        table.insert({"group": 1, "age": age})
    with pytest.raises(ValueError, match="^Document with ID 2 already exists$"):
        table.insert({"group": 1, "age": 9}, 2)
    table.flush()
    with pytest.raises(ValueError, match="^Document with ID 3 already exists$"):
        table.insert({"group": 1, "age": 9}, 3)
    assert table.remove([2]) == [2] and len(table) == 2
    assert table.remove([1, 3]) == [1, 3] and len(table) == 0


def test_nothing_outside_the_store_imports_tinydb():
    import pathlib

    root = pathlib.Path(tiny.__file__).parents[1]
    importers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            line.lstrip().startswith(("import tinydb", "from tinydb"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    )
    assert importers == ["store/tiny.py"]
