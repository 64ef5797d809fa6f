"""Packed documents (``simulator.store.compact``): whatever JSON a document holds reads back
equal, in the same key order and with its types (True is not 1), as new objects; what
cannot be packed says so; the shape registry is bounded and safe across threads."""

import marshal
import math
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.store import compact
from simulator.store.compact import Shapes, Unpackable

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
keys = st.sampled_from(["a", "b", "c", "id", ""]) | st.text(max_size=3)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)
documents = st.dictionaries(keys, json_values, max_size=6)


def same(a, b):
    """Equal, with the same types and key order all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    return a == b


@given(st.lists(documents, min_size=1, max_size=5))
def test_every_json_document_reads_back_the_same(docs):
    shapes = Shapes()
    packed = [shapes.pack(doc) for doc in docs]
    for doc, data in zip(docs, packed, strict=True):
        assert same(shapes.unpack(data), doc)


def test_a_read_is_a_new_object_each_time():
    shapes = Shapes()
    data = shapes.pack({"a": [{"b": 1}], "c": {"d": [2]}})
    one, two = shapes.unpack(data), shapes.unpack(data)
    assert one == two and one is not two
    assert one["a"] is not two["a"] and one["a"][0] is not two["a"][0]
    assert one["c"]["d"] is not two["c"]["d"]


def test_keys_are_kept_once_per_shape_and_values_by_type():
    shapes = Shapes()
    small = shapes.pack({"contact_id": 1, "email": "a@b.c", "active": True})
    assert b"contact_id" not in small and b"email" not in small  # the shape's number only
    assert len(shapes) == 1
    shapes.pack({"contact_id": 2, "email": "x@y.z", "active": False})
    assert len(shapes) == 1  # the same keys in the same order: the same shape
    shapes.pack({"email": "x@y.z", "contact_id": 2, "active": False})
    assert len(shapes) == 2  # another order is another shape (order is kept)
    back = shapes.unpack(small)
    assert back["active"] is True and type(back["contact_id"]) is int


def test_dicts_below_the_shaped_levels_keep_their_keys():
    shapes = Shapes()
    doc = {"top": {"mid": [{"low": {"deep": 1}}], "row": {"side": 2}}}
    data = shapes.pack(doc)
    assert b"top" not in data and b"mid" not in data and b"row" not in data
    assert b"side" not in data  # a dict in a dict: two levels down
    assert b"low" in data and b"deep" in data  # a dict in a list in a dict: three
    assert shapes.unpack(data) == doc


@pytest.mark.parametrize(
    "doc",
    [
        {"when": datetime(2024, 1, 1, tzinfo=UTC)},
        {"pair": (1, 2)},  # it would read back as a dict
        {"row": {"pair": (1, 2)}},
        {"rows": [(1, 2)]},
    ],
)
def test_what_cannot_be_packed_says_so(doc):
    with pytest.raises(Unpackable):
        Shapes().pack(doc)


def test_a_tuple_below_the_shaped_levels_reads_back_as_a_tuple():
    shapes = Shapes()
    for doc in ({"a": [{"b": {"c": (1, "x")}}]}, {"rows": [{"pair": (1, 2)}]}):
        back = shapes.unpack(shapes.pack(doc))
        assert back == doc and same(back, doc)


def test_a_document_deeper_than_marshal_writes_is_unpackable():
    doc: dict = {}
    inner = doc
    for _ in range(3000):
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(Unpackable):
        Shapes().pack(doc)


def test_the_registry_is_bounded_and_other_shapes_stay_dicts(monkeypatch):
    monkeypatch.setattr(compact, "SHAPES", 3)
    shapes = Shapes()
    docs = [{f"k{i}": i, "rows": [{f"r{i}": [i]}]} for i in range(5)]
    packed = [shapes.pack(doc) for doc in docs]
    assert len(shapes) == 3
    assert b"k4" in packed[4] and b"r4" in packed[4]  # written as dicts, keys and all
    assert [shapes.unpack(data) for data in packed] == docs


def test_shapes_registered_from_threads_read_back_whole():
    shapes = Shapes()
    results: dict[int, list[tuple[dict, bytes]]] = {}

    def work(n):
        docs = [{f"t{n}-{i}": i, "common": n} for i in range(200)]
        results[n] = [(doc, shapes.pack(doc)) for doc in docs]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(shapes) == 800
    for pairs in results.values():
        for doc, data in pairs:
            assert shapes.unpack(data) == doc


def test_a_dict_with_nothing_to_unpack_is_marked_and_read_without_a_walk(monkeypatch):
    shapes = Shapes()
    flat = {"number": "PR1", "provider_id": "P", "executed_date": None, "n": 2}
    nested = {"id": "C1", "demographics": {"gender": "MALE"}, "phones_set": []}
    flat_data, nested_data = shapes.pack(flat), shapes.pack(nested)
    assert marshal.loads(flat_data)[0] < 0  # -1 - its shape's number
    top = marshal.loads(nested_data)
    assert top[0] >= 0 and top[2][0] < 0  # the demographics inside are flat
    monkeypatch.setattr(Shapes, "_opened", lambda *_: pytest.fail("walked a flat dict"))
    assert same(shapes.unpack(flat_data), flat)
