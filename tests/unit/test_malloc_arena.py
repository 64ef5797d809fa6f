"""``world.one_malloc_arena``: a served worker's threads share glibc's one malloc arena
(docs/serving.md, "Memory per record"). Checked in a fresh interpreter (it changes how the
process allocates)."""

import platform
import subprocess
import sys

import pytest

from simulator import world

SCRIPT = """
import ctypes, threading
from simulator.world import one_malloc_arena
print(one_malloc_arena())
# where a thread's block lies: a thread arena's heap is a mapping of its own, far from
# the main arena's heap (without the call, 0x7f... against 0x55...)
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
main_block = libc.malloc(64)
found = []
def grab():
    found.append(libc.malloc(64))
t = threading.Thread(target=grab)
t.start(); t.join()
print(abs(found[0] - main_block) < (64 << 20))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_threads_allocate_from_the_main_arena():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "True"]


def test_without_mallopt_it_says_so(monkeypatch):
    class NoMallopt:
        def __init__(self, _name):
            pass

    import ctypes

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert world.one_malloc_arena() is False
