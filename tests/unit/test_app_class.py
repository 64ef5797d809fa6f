"""``simulator.app.App``: Flask with its per-request coroutine check remembered."""

import pytest

from simulator.app import App


def plain():
    return "x"


async def coroutine():
    return "x"


def test_a_plain_function_is_returned_as_is_and_remembered():
    app = App("t")
    assert app.ensure_sync(plain) is plain
    assert app._sync == {plain: plain}


def test_a_coroutine_function_still_goes_to_flasks_async_support():
    # Flask wraps it with asgiref, which crmsim does not install: Flask says so
    with pytest.raises(RuntimeError, match="async"):
        App("t").ensure_sync(coroutine)


def test_bound_methods_are_not_remembered():
    class Views:
        def view(self):
            return "x"

    app = App("t")
    v = Views()
    assert app.ensure_sync(v.view)() == "x"
    assert app._sync == {}
