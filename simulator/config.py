"""Settings: defaults, overridden by ``CRMSIM_*`` environment variables, then by the caller.

This is the only module that reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ALL_VENDORS = ("omoto", "antcrm", "crmcom", "botw")


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 2  # measured: see docs/serving.md (worker and threads)
    vendors: tuple[str, ...] = ALL_VENDORS
    seed: int | None = None
    strict_contract: bool = False
    validate_responses: bool = False
    journal_limit: int = 1000
    outbox_limit: int = 10000
    max_body_bytes: int = 1024 * 1024
    max_control_bytes: int = 1024 * 1024 * 1024
    schemas_dir: Path | None = None
    data: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("CRMSIM_" + f.name.upper())
            if raw is None or f.name == "extra":
                continue
            values[f.name] = _convert(f.name, raw)
        return cls(**values)

    def merged(self, overrides: Mapping[str, Any] | None) -> Config:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in overrides.items() if k in known}
        extra = {k: v for k, v in overrides.items() if k not in known}
        if "vendors" in values:
            values["vendors"] = tuple(values["vendors"])
        return replace(self, **values, extra={**self.extra, **extra})


def _convert(name: str, raw: str) -> Any:
    if name in (
        "port",
        "threads",
        "journal_limit",
        "outbox_limit",
        "max_body_bytes",
        "max_control_bytes",
        "seed",
    ):
        return int(raw)
    if name in ("strict_contract", "validate_responses"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name == "vendors":
        chosen = tuple(v.strip() for v in raw.split(",") if v.strip())
        unknown = set(chosen) - set(ALL_VENDORS)
        if unknown:
            raise ValueError(f"CRMSIM_VENDORS names unknown vendors: {', '.join(sorted(unknown))}")
        return chosen
    if name in ("schemas_dir", "data"):
        return Path(raw)
    return raw


def hypothesis_profile(environ: Mapping[str, str] | None = None) -> str | None:
    """``HYPOTHESIS_PROFILE`` (``ci`` caps property scenarios like the test suite's profile)."""
    env = os.environ if environ is None else environ
    return env.get("HYPOTHESIS_PROFILE")
