"""Summarise a tail probe's directory (bench/tailprobe/sitecustomize.py).

Usage: .venv/bin/python bench/tailprobe/summary.py DIR

Per process that wrote them: its collections (full passes: count, median, p90, longest;
every pass over 5 ms: count and total), the WSGI calls by path (p50, p99, longest), and the
event loop's late ticks (over 30 ms; how many with the loop's thread mostly on the CPU).
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def main() -> None:
    root = Path(sys.argv[1])
    for path in sorted(root.glob("gc-*.tsv")):
        rows = [line.split("\t") for line in path.read_text().splitlines()]
        full = [float(r[2]) for r in rows if r[1] == "2"]
        over = [float(r[2]) for r in rows if float(r[2]) > 5]
        if len(rows) < 5:
            continue
        print(
            f"{path.name}: full passes {len(full)}, median {quantile(full, 0.5):.0f} ms, "
            f"p90 {quantile(full, 0.9):.0f}, longest {max(full, default=0):.0f}; "
            f"passes over 5 ms {len(over)}, {sum(over):.0f} ms in all"
        )
    for path in sorted(root.glob("req-*.tsv")):
        calls: dict[str, list[float]] = collections.defaultdict(list)
        for line in path.read_text().splitlines():
            r = line.split("\t")
            if len(r) >= 5 and r[1] == "C":
                calls["/".join(r[4].split("/")[:3])].append(float(r[2]))
        print(f"{path.name}: WSGI calls")
        for name, took in sorted(calls.items(), key=lambda kv: -len(kv[1])):
            if len(took) >= 500:
                print(
                    f"  {name:40s} {len(took):7d}  p50 {quantile(took, 0.5):.2f} ms  "
                    f"p99 {quantile(took, 0.99):.2f}  longest {max(took):.1f}"
                )
    for path in sorted(root.glob("lag-*.tsv")):
        late = [line.split("\t") for line in path.read_text().splitlines()]
        big = [r for r in late if float(r[1]) > 30]
        busy = [r for r in big if float(r[2].split("=")[1]) > float(r[1]) / 2]
        print(f"{path.name}: late ticks over 30 ms {len(big)}, the loop busy in {len(busy)}")


if __name__ == "__main__":
    main()
