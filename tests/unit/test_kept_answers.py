"""``Kept``: an answer part a backend returns again (get_pending's polled page) is encoded
once, and the answer built around its bytes is the answer encoded whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import encode_json
from simulator.vendors._base import Kept
from simulator.vendors.crmcom.routes import reply

TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "é", '"', "\\"])))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(TEXT, JSON, max_size=5), st.booleans())
def test_a_kept_answer_has_the_bytes_of_the_answer_encoded_whole(data, auth):
    whole = reply(dict(data), auth)
    kept = reply(Kept(data), auth)
    assert kept.get_data() == whole.get_data()
    assert (kept.status_code, kept.mimetype) == (whole.status_code, whole.mimetype)


def test_a_kept_part_is_encoded_once():
    kept = Kept({"a": [1, 2]})
    first = kept.encoded()
    kept["a"].append(3)  # nobody may change it; if they did, the bytes would not follow
    assert kept.encoded() is first
    assert first == encode_json({"a": [1, 2]})
