"""Where one request's time goes, stage by stage (docs/serving.md, "Where the time goes").

Usage: .venv/bin/python bench/stages.py [--requests 4000]

Calls crmsim's WSGI app directly with prepared environs (no HTTP server, no test client),
for `GET /__sim/health`, a BOTW create and a BOTW search over 1,000 stored contacts, and
prints each pipeline stage's share of the request from cProfile's cumulative times.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any

from werkzeug.test import EnvironBuilder

from simulator import create_app

KEY = {"Authorization": "Bearer K"}
STAGES = {
    "namespace + fault lookup": (
        "pipeline.py:enter_namespace",
        "pipeline.py:start_call",
        "pipeline.py:apply_fault",
    ),
    "body read": ("pipeline.py:read_body",),
    "contract check": ("pipeline.py:check_contract",),
    "control-plane guard": ("guard.py:guard_control_plane",),
    "view (vendor work + answer)": ("_base.py:bound", "admin/routes.py:health"),
    "  of which the answer's JSON": ("errors.py:json_response",),
    "journal entry": ("pipeline.py:record",),
}


def environs(kind: str, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        if kind == "create":
            b = EnvironBuilder(
                path="/crm/1",
                method="POST",
                data=f"email=n{i}%40example.com",
                headers=KEY,
                content_type="application/x-www-form-urlencoded",
            )
        elif kind == "search":
            b = EnvironBuilder(
                path="/crm/1", query_string=f"email=c{1 + i % 1000}%40example.com", headers=KEY
            )
        else:
            b = EnvironBuilder(path="/__sim/health")
        out.append(b.get_environ())
    return out


def cumulative(stats: pstats.Stats, suffix: str) -> float:
    return sum(
        row[3]
        for (path, _line, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if f"{path}:{name}".endswith(suffix)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    n = parser.parse_args().requests
    app = create_app({"seed": 1, "journal_limit": 1000})
    contacts = [
        {"contact_id": i, "listing_id": "1", "email": f"c{i}@example.com"} for i in range(1, 1001)
    ]
    state = {"api_keys": {"K": ["1"]}, "contacts": contacts}
    assert app.test_client().put("/__sim/state/botw", json=state).status_code == 200

    def run(batch: list[dict[str, Any]]) -> None:
        for environ in batch:
            b"".join(app(environ, lambda status, headers, exc=None: None))

    for kind in ("health", "create", "search"):
        run(environs(kind, 300))  # warm
        batch = environs(kind, n)
        started = time.perf_counter()
        run(batch)
        plain = (time.perf_counter() - started) / n * 1e6
        profile = cProfile.Profile()
        batch = environs(kind, n)
        profile.enable()
        run(batch)
        profile.disable()
        stats = pstats.Stats(profile)
        total = cumulative(stats, "pipeline.py:__call__")
        shares = {k: sum(cumulative(stats, s) for s in v) / total for k, v in STAGES.items()}
        flask = 1 - sum(v for k, v in shares.items() if not k.startswith(" "))
        print(f"\n{kind}: {plain:.0f} µs a request (WSGI call, no HTTP server)")
        for name, share in shares.items():
            print(f"  {name:40s} {share:6.1%}")
        print(f"  {'Flask/Werkzeug dispatch and response':40s} {flask:6.1%}")


if __name__ == "__main__":
    main()
