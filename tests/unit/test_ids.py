"""simulator/clock.py's ``Ids``: a seed's ids are ``random.Random(seed).choice`` draws, so
ids stay the same from release to release for the same seed and the same requests."""

from __future__ import annotations

import random
import string

import pytest

from simulator.clock import Ids

ALPHABETS = {
    "digits": (string.digits, lambda ids, n: ids.digits(n)),
    "hex": ("0123456789ABCDEF", lambda ids, n: ids.hex(n)),
    "lower hex": ("0123456789abcdef", lambda ids, n: ids.hex(n, upper=False)),
    "token": (string.ascii_letters + string.digits, lambda ids, n: ids.token(n)),
    "own alphabet": ("xyz", lambda ids, n: ids.token(n, "xyz")),
}


@pytest.mark.parametrize("kind", ALPHABETS)
def test_ids_are_the_seeds_choice_draws(kind: str) -> None:
    alphabet, draw = ALPHABETS[kind]
    ids, expected = Ids(42), random.Random(42)
    for n in (1, 8, 33):
        assert draw(ids, n) == "".join(expected.choice(alphabet) for _ in range(n))


def test_restart_rewinds_to_the_same_ids() -> None:
    ids = Ids(5)
    first = [ids.digits(8) for _ in range(3)]
    ids.restart()
    assert [ids.digits(8) for _ in range(3)] == first
    assert len(set(first)) == 3
