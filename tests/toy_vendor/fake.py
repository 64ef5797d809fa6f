"""Fake toy notes."""

from typing import Any


def credentials(seed: int) -> dict[str, Any]:
    return {}


def state(pools: Any, seed: int, size: int) -> dict[str, Any]:
    return {
        "notes": [
            {"id": i + 1, "text": pools.sentences[i % len(pools.sentences)]} for i in range(size)
        ]
    }
