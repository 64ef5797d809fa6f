"""The TinyDB engine: documents packed, ``BUCKET`` ids to a TinyDB document and ``SHARD``
documents to a TinyDB table, written through TinyDB's public API, so that no write costs
more as a table grows."""

from datetime import UTC, datetime
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


PER_SHARD = tiny.BUCKET * tiny.SHARD  # ids per TinyDB table


def test_documents_live_packed_in_tinydb_documents_of_bucket_ids(store, table):
    n = PER_SHARD + tiny.BUCKET + 1
    for i in range(1, n + 1):
        table.insert({"group": 1, "age": i})
    table.flush()
    data = buckets(store)
    assert sorted(data) == ["people/0", "people/1"]
    # TinyDB document b + 1 holds bucket b: ids b * BUCKET + slot
    assert sorted(map(int, data["people/0"])) == list(range(1, tiny.SHARD + 1))
    assert sorted(data["people/0"]["1"]) == list(range(1, tiny.BUCKET))  # id 0 is never used
    assert sorted(data["people/0"]["2"]) == list(range(tiny.BUCKET))
    assert sorted(map(int, data["people/1"])) == [tiny.SHARD + 1, tiny.SHARD + 2]
    # each document packed (simulator.store.compact)
    held = data["people/0"]["2"][3]
    assert type(held) is bytes
    assert table._shapes.unpack(held) == {"group": 1, "age": tiny.BUCKET + 3}
    through_tinydb = store.engine._db.table("people/1").get(doc_id=tiny.SHARD + 2)
    assert table._shapes.unpack(through_tinydb[1]) == {"group": 1, "age": PER_SHARD + 17}
    assert [r.doc_id for r in table] == list(range(1, n + 1))


def test_a_document_that_does_not_pack_is_held_whole_and_copied(store, table):
    when = datetime(2024, 1, 2, tzinfo=UTC)  # marshal writes no datetime
    doc = {"group": 1, "age": 1, "when": when, "tags": ["a"]}
    a = table.insert(doc)
    b = table.insert({"group": 1, "age": 2})
    table.flush()
    held = buckets(store)["people/0"]["1"]
    assert type(held[a]) is dict and held[a] == doc and held[a]["tags"] is not doc["tags"]
    assert type(held[b]) is bytes
    assert table.get(a) == doc
    table.get(a)["tags"].append("changed")  # a read is a copy all the way down
    assert table.get(a) == doc
    assert table.update(a, {"age": 3}) and table.get(a) == {**doc, "age": 3}
    assert table.update(a, {"when": None}) and type(buckets(store)["people/0"]["1"][a]) is bytes
    assert table.get(a) == {**doc, "age": 3, "when": None}


def test_a_deep_document_packs_and_reads_back_whole(store, table):
    deep: dict = {"group": 1, "age": 1}
    inner = deep
    for i in range(500):  # far deeper than the shaped levels
        inner["x"] = {"i": i, "l": [i, {"j": i}]}
        inner = inner["x"]
    a = table.insert(deep)
    table.flush()
    assert type(buckets(store)["people/0"]["1"][a]) is bytes
    assert table.get(a) == deep


def test_a_write_goes_through_tinydbs_public_methods_and_rebuilds_one_shard(store, table):
    for i in range(1, 3 * PER_SHARD):
        table.insert({"group": 1, "age": i})
    table.flush()
    data = buckets(store)
    before = {name: data[name] for name in data}
    calls = []
    names = ("insert", "insert_multiple", "update", "remove")
    real = {name: getattr(TinyTable, name) for name in names}

    def spy(name):
        def call(self, *args, **kwargs):
            calls.append((name, self.name, kwargs.get("doc_ids")))
            return real[name](self, *args, **kwargs)

        return call

    whole_bucket = [PER_SHARD + 2 * tiny.BUCKET + slot for slot in range(tiny.BUCKET)]
    with mock.patch.multiple(TinyTable, **{name: spy(name) for name in names}):
        table.update(PER_SHARD + 1, {"age": 0})
        table.remove([PER_SHARD + 2])  # one of a bucket's documents: its TinyDB document changes
        table.remove(whole_bucket)  # a whole bucket: its TinyDB document goes
        table.insert({"group": 1, "age": 0}, 1000 * PER_SHARD + 3)
        table.flush()
    first = tiny.SHARD + 1  # the TinyDB id of the second shard's first bucket
    assert calls == [
        ("update", "people/1", [first]),
        ("update", "people/1", [first]),
        ("remove", "people/1", [first + 2]),
        ("insert", "people/1000", None),
    ]
    assert data["people/0"] is before["people/0"] and data["people/2"] is before["people/2"]
    assert table.get(PER_SHARD + 1) == {"group": 1, "age": 0}
    assert not table.contains(PER_SHARD + 2) and table.contains(PER_SHARD + 3)
    assert not any(map(table.contains, whole_bucket))
    assert table.get(1000 * PER_SHARD + 3) == {"group": 1, "age": 0}
    assert len(table) == 3 * PER_SHARD - 1 - 1 - tiny.BUCKET + 1


def test_the_storage_hands_out_its_live_dict_without_copies(store, table):
    storage = store.engine._db.storage
    assert storage.read() is storage.data
    table.insert({"group": 1, "age": 1})
    with mock.patch.object(type(storage), "write", autospec=True) as write:
        table.flush()
    assert write.call_args.args[1] is storage.data  # TinyDB writes back what it read


def test_an_emptied_shard_is_dropped_and_can_fill_again(store, table):
    a = table.insert({"group": 1, "age": 1}, 5 * PER_SHARD)
    table.remove([a])
    assert "people/5" not in buckets(store)
    assert table.get(a) is None and not table.contains(a)
    table.insert({"group": 1, "age": 2}, a)
    assert table.get(a) == {"group": 1, "age": 2}


def test_truncate_drops_every_shard(store, table):
    for i in range(1, 2 * PER_SHARD):
        table.insert({"group": 1, "age": i})
    other = store.table("other")
    other.insert({"k": 1})
    other.flush()
    table.truncate()
    assert sorted(buckets(store)) == ["other/0"]
    assert len(table) == 0 and table.insert({"group": 1, "age": 1}) == 1


def test_inserts_into_one_bucket_reach_tinydb_together_and_reads_see_them_before(store, table):
    calls = []
    real_insert, real_update = TinyTable.insert, TinyTable.update

    def insert(self, document):
        calls.append(("insert", self.name, document.doc_id, sorted(document)))
        return real_insert(self, document)

    def update(self, fields, doc_ids=None):
        calls.append(("update", self.name, doc_ids))
        return real_update(self, fields, doc_ids=doc_ids)

    with mock.patch.multiple(TinyTable, insert=insert, update=update):
        first = [table.insert({"emails": [f"{i}@x.co"], "group": 1, "age": i}) for i in (1, 2)]
        assert calls == [] and "people/0" not in buckets(store)
        assert table.get(first[0]) == {"emails": ["1@x.co"], "group": 1, "age": 1}
        assert table.contains(2) and table.lookup_ids("email", "2@x.co") == [2]
        with pytest.raises(ValueError):
            table.insert({"group": 1, "age": 9}, 2)  # taken, though still held back
        table.insert({"group": 1, "age": 3}, tiny.BUCKET)  # the next bucket: the first goes
        assert calls == [("insert", "people/0", 1, [1, 2])]
        table.update(tiny.BUCKET, {"age": 4})  # an update of a held document: it goes first
        assert calls[1:] == [("insert", "people/0", 2, [0]), ("update", "people/0", [2])]
        assert table.get(tiny.BUCKET)["age"] == 4
        table.insert({"group": 1, "age": 5}, tiny.BUCKET + 1)  # into a bucket TinyDB has
        assert [r.doc_id for r in table] == [1, 2, tiny.BUCKET, tiny.BUCKET + 1]  # flushed
        assert calls[3:] == [("update", "people/0", [2])]
    table.insert({"group": 1, "age": 6}, 3 * PER_SHARD)
    assert table.remove([3 * PER_SHARD]) == [3 * PER_SHARD]
    assert "people/3" not in buckets(store)
    table.insert({"group": 1, "age": 7}, 4 * PER_SHARD)
    table.truncate()  # held documents go too
    assert len(table) == 0 and list(table) == [] and table.get(4 * PER_SHARD) is None


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
