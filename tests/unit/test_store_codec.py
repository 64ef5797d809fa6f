"""The encodings of the Redis engine (simulator/store/codec.py): key bytes that sort as Python
sorts, and stored JSON that gives back what was stored."""

import sys
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from simulator.store import codec

ints = st.integers(min_value=-(2**200), max_value=2**200) | st.sampled_from(
    [2**1100, -(2**1100), 2**1016, -(2**1016), 255, 256, -255, -256]
)
numbers = ints | st.floats(allow_nan=False, allow_infinity=False)
texts = st.text()
instants = st.datetimes(timezones=st.just(UTC))
# values of one kind compare in Python; tuples of them too
kinds = [numbers, texts, instants, st.tuples(texts, ints), st.tuples(instants, texts)]


@given(st.sampled_from(range(len(kinds))).flatmap(lambda k: st.tuples(kinds[k], kinds[k])))
def test_key_bytes_order_as_python_orders(pair):
    a, b = pair
    ea, eb = codec.encode_key(a), codec.encode_key(b)
    assert (ea < eb) == (a < b) and (ea == eb) == (a == b)


@given(st.one_of(*kinds), st.one_of(*kinds), st.integers(1, 2**53), st.integers(1, 2**53))
def test_an_entry_sorts_by_order_key_then_id_and_decodes(a, b, i, j):
    if type(a) is type(b) and (type(a) is not tuple or type(a[0]) is type(b[0])):
        ea, eb = codec.encode_entry(a, i), codec.encode_entry(b, j)
        assert (ea < eb) == ((a, i) < (b, j))
    assert codec.decode_entry(codec.encode_entry(a, i)) == (a, i)


shortcut = texts | ints | st.booleans() | st.sampled_from([0, 2**999, 2**1000, 2**1000 - 1])
shortcut_keys = shortcut | st.tuples(texts, texts) | st.lists(shortcut, max_size=4).map(tuple)


@given(shortcut_keys, st.integers(1, 2**64))
def test_the_shortcut_for_strings_ints_and_their_tuples_writes_the_general_bytes(value, i):
    general = bytearray()
    codec._encode(value, general)
    assert codec.encode_key(value) == bytes(general)
    assert codec.decode_key(codec.encode_key(value)) == value
    general.append(codec.NUMBER)
    codec._number(i, general)
    assert codec.encode_entry(value, i) == bytes(general)


def test_a_bound_sorts_before_its_entries_and_a_tuple_before_its_extensions():
    feb = datetime(2024, 2, 1, tzinfo=UTC)
    assert codec.encode_key((feb,)) < codec.encode_entry((feb, "R1"), 1)
    assert codec.encode_key((feb, "R1")) < codec.encode_entry((feb, "R1"), 1)
    assert codec.encode_entry((feb, "R1"), 10**9) < codec.encode_key((feb, "R2"))
    assert codec.encode_entry("a", 5) < codec.encode_key("a\x00")


def test_keys_decode_to_what_was_encoded():
    plus_one = timezone(timedelta(hours=1))
    values = [
        None,
        0,
        -1,
        2**100,
        -(2**2000),
        1e308,
        -1e308,
        1.5,
        -0.001,
        "",
        "a\x00b",
        "\ud800",
        b"x\x00",
        ("a", (1, None)),
    ]
    values += [datetime(2024, 1, 1, tzinfo=plus_one), datetime(2024, 1, 1, 12, 30)]
    for value in values:
        back = codec.decode_key(codec.encode_key(value))
        assert back == value
        # an integral float is its integer, as for Python's dicts
        integral = isinstance(value, float) and value.is_integer()
        assert type(back) is (int if integral else type(value))
    assert codec.decode_key(codec.encode_key(values[-2])).utcoffset() == timedelta(hours=1)


json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
stored = st.recursive(
    json_values | instants | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["\x00", "a", "\x00x"]) | texts, inner, max_size=4)
    ),
    max_leaves=20,
)


@given(stored)
def test_documents_come_back_as_stored(value):
    assert codec.loads(codec.dumps(value)) == value
    assert codec.loads(codec._dumps_deep(value)) == value
    assert codec._loads_deep(codec.dumps(value)) == value


def test_a_dict_shaped_like_a_tag_stays_a_dict():
    for value in (
        {"\x00": ["t", "2024-01-01T00:00:00"]},
        {"\x00": ["b", "AA=="]},
        {"k": [{"\x00": ["d", [["a", 1]]]}]},
        {"s": "x\x00y", "d": datetime(2024, 1, 1, tzinfo=UTC)},
    ):
        assert codec.loads(codec.dumps(value)) == value


def test_documents_nested_past_the_recursion_limit_round_trip():
    deep = current = {}
    for _ in range(sys.getrecursionlimit() + 100):
        current["n"] = {}
        current = current["n"]
    current["at"] = datetime(2024, 1, 1, tzinfo=UTC)
    text = codec.dumps({"deep": deep})
    back = codec.loads(text)["deep"]
    for _ in range(sys.getrecursionlimit() + 100):
        back = back["n"]
    assert back == {"at": datetime(2024, 1, 1, tzinfo=UTC)}
