"""The server worker's garbage collection (docs/serving.md, "Garbage collection and the
tail"): full passes freeze what survived them, so the next one walks only what arrived
since; granian runs asyncio's tasks (its Rust tasks keep every request with a body)."""

import json
import subprocess
import sys

from simulator import serve
from simulator.config import Config

PROBE = """
import gc, json
from simulator.serve import steady_gc, _freeze_after_full
steady_gc(); steady_gc()
gc.disable()  # only the passes below: their callbacks run all the same
out = {"hooks": gc.callbacks.count(_freeze_after_full), "threshold": gc.get_threshold()}
kept = [[i] for i in range(50_000)]  # lists live on, as records created by requests do
frozen = gc.get_freeze_count()
gc.collect(1)
out["after_young"] = gc.get_freeze_count() - frozen
gc.collect()
out["after_full"] = gc.get_freeze_count() - frozen
cycle = []
cycle.append(cycle)
del cycle
out["cycle_collected"] = gc.collect() >= 1  # garbage made after a freeze is still found
del kept
out["freed"] = frozen + out["after_full"] - gc.get_freeze_count()
print(json.dumps(out))
"""


def test_full_passes_freeze_what_survived_them_and_come_every_second_middle_pass():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    out = json.loads(done.stdout)
    assert out["hooks"] == 1
    assert out["threshold"][2] == serve.FULL_PASS_EVERY == 2
    assert out["after_young"] == 0  # a young pass freezes nothing
    assert out["after_full"] >= 50_000  # the full pass froze the lists that live on
    assert out["cycle_collected"]
    assert out["freed"] >= 50_000  # frozen objects still die by reference counting


def test_granian_runs_asyncio_tasks(monkeypatch):
    from granian.constants import TaskImpl
    from granian.server.mp import MPServer

    seen = {}

    def fake_serve(self, *args, **kwargs):
        seen["task_impl"] = self.task_impl

    monkeypatch.setattr(MPServer, "serve", fake_serve)
    serve.serve_granian(Config(port=1))
    assert seen == {"task_impl": TaskImpl.asyncio}
