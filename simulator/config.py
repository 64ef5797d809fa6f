"""Settings: defaults, overridden by ``CRMSIM_*`` environment variables, then by the caller.

This is the only module that reads the environment: the server's settings
(``Config.from_env``), and what clients of a crmsim read (``control_token`` for the Python
client, the pytest plugin, ``crmsim replay`` and ``record``; ``local_url`` for ``record``
and ``wait``; ``hypothesis_profile`` for ``crmsim replay``; ``real_vendor_url`` for the
pytest plugin's ``crmsim_vendor`` marker).
``tests/test_docs_agree.py`` checks that no other module of ``simulator/`` reads it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def all_vendors() -> tuple[str, ...]:
    """The slugs of every vendor in the registry (simulator/vendors/__init__.py)."""
    from simulator.vendors import VENDORS

    return tuple(VENDORS)


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 2  # measured: see docs/serving.md (worker and threads)
    # worker processes: 1 with the memory store; more only with a shared (Redis) store
    workers: int = 1
    # where worlds live: "memory" (this process, TinyDB) or redis://HOST:PORT/DB, shared by
    # every process that points at it (simulator/shared.py, docs/scale-out.md)
    store: str = "memory"
    server: str = "granian"  # or "gunicorn": measured, see docs/serving.md
    vendors: tuple[str, ...] = field(default_factory=all_vendors)
    seed: int | None = None
    strict_contract: bool = False
    validate_responses: bool = False
    # the control plane's door (simulator/guard.py, docs/control-plane.md)
    control_token: str | None = None
    open_control_plane: bool = False
    journal_limit: int = 1000
    outbox_limit: int = 10000
    # bounded resources (docs/control-plane.md): namespaces, journal bytes, control bodies
    max_namespaces: int = 1000
    journal_max_bytes: int = 16 * 1024 * 1024  # per namespace
    outbox_max_bytes: int = 16 * 1024 * 1024  # per namespace
    journal_body_bytes: int = 64 * 1024  # bodies past this are kept truncated, with a hash
    max_body_bytes: int = 1024 * 1024
    max_control_bytes: int = 256 * 1024 * 1024
    schemas_dir: Path | None = None
    data: Path | None = None
    # HTTPS: a PEM certificate (chain) and its private key (simulator/tls.py, `crmsim cert`)
    certfile: Path | None = None
    keyfile: Path | None = None
    # vendor -> base path replacing its default one (simulator/mounts.py, CC-M1)
    mounts: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("CRMSIM_" + f.name.upper())
            if raw is None or f.name == "extra":
                continue
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError as exc:
                raise BadSetting(f"CRMSIM_{f.name.upper()}={raw!r}: {exc}") from None
        return cls(**values)

    def merged(self, overrides: Mapping[str, Any] | None) -> Config:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in overrides.items() if k in known}
        extra = {k: v for k, v in overrides.items() if k not in known}
        if "vendors" in values:
            values["vendors"] = tuple(values["vendors"])
        if "store" in values:
            try:
                values["store"] = parse_store(values["store"])
            except ValueError as exc:
                raise BadSetting(f"store: {exc}") from None
        if "mounts" in values:
            try:
                values["mounts"] = parse_mounts(values["mounts"])
            except ValueError as exc:
                raise BadSetting(f"mounts: {exc}") from None
        return replace(self, **values, extra={**self.extra, **extra})


class BadSetting(ValueError):
    """A ``CRMSIM_*`` variable that cannot be read; the message names it and what it takes."""


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")
SERVERS = ("granian", "gunicorn")


def _convert(name: str, raw: str) -> Any:
    if name in (
        "port",
        "threads",
        "workers",
        "journal_limit",
        "outbox_limit",
        "max_body_bytes",
        "max_control_bytes",
        "max_namespaces",
        "journal_max_bytes",
        "outbox_max_bytes",
        "journal_body_bytes",
        "seed",
    ):
        try:
            number = int(raw)
        except ValueError:
            raise ValueError("not an integer") from None
        if name == "port" and not 0 <= number <= 65535:
            raise ValueError("not a port (0 to 65535)")
        if name != "seed" and name != "port" and number < 1:
            raise ValueError("must be at least 1")
        return number
    if name == "control_token":
        return raw.strip() or None  # an empty token is no token
    if name in ("strict_contract", "validate_responses", "open_control_plane"):
        word = raw.strip().lower()
        if word not in TRUE + FALSE:
            raise ValueError(f"not a boolean (one of {', '.join(TRUE + FALSE[:-1])})")
        return word in TRUE
    if name == "store":
        return parse_store(raw)
    if name == "server":
        if raw.strip().lower() not in SERVERS:
            raise ValueError(f"not a server (one of {', '.join(SERVERS)})")
        return raw.strip().lower()
    if name == "vendors":
        chosen = tuple(v.strip() for v in raw.split(",") if v.strip())
        unknown = set(chosen) - set(all_vendors())
        if unknown:
            raise ValueError(f"unknown vendors: {', '.join(sorted(unknown))}")
        return chosen
    if name in ("certfile", "keyfile"):
        return Path(raw.strip()) if raw.strip() else None  # empty: plain HTTP
    if name in ("schemas_dir", "data"):
        return Path(raw)
    if name == "mounts":
        return parse_mounts(raw)
    return raw


STORE_SCHEMES = ("redis://", "rediss://", "unix://")


def parse_store(raw: str) -> str:
    """``memory`` (the default) or a Redis URL (``redis://HOST:PORT/DB``, ``rediss://`` for
    TLS, ``unix:///path/redis.sock``)."""
    value = raw.strip()
    if value.lower() in ("", "memory"):
        return "memory"
    if not value.startswith(STORE_SCHEMES):
        raise ValueError("not a store (memory, or a URL redis://HOST:PORT/DB)")
    return value


def shared_store(config: Config) -> bool:
    """Whether worlds live in Redis, shared by processes."""
    return config.store.startswith(STORE_SCHEMES)


MOUNT_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")


def parse_mounts(value: str | Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """``crmcom=/crm,botw=/b`` (or a mapping, or ``VENDOR=/PATH`` items) as a mapping of
    vendor to base path: known vendors, each once; paths of one or more segments, without
    a trailing slash. Overlaps are checked where the vendors are (simulator/mounts.py)."""
    if isinstance(value, str):
        value = [item for item in value.split(",") if item.strip()]
    items = (
        list(value.items())
        if isinstance(value, Mapping)
        else [tuple(item.partition("=")[::2]) for item in value]
    )
    mounts: dict[str, str] = {}
    for vendor, path in items:
        vendor, path = vendor.strip(), path.strip()
        known = all_vendors()
        if vendor not in known:
            raise ValueError(
                f"{vendor or '(none)'}={path} names no vendor (one of {', '.join(known)}; "
                "write VENDOR=/PATH)"
            )
        if vendor in mounts:
            raise ValueError(f"{vendor} is mounted twice")
        base = path.rstrip("/")
        segments = base.split("/")[1:]
        if (
            not path.startswith("/")
            or not segments
            or not all(MOUNT_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments)
        ):
            raise ValueError(
                f"{vendor}={path}: a base path is /SEGMENT[/SEGMENT...] (e.g. /crm), "
                "without '..', '<', '>' or '//'"
            )
        mounts[vendor] = base
    return mounts


def control_token(environ: Mapping[str, str] | None = None) -> str | None:
    """``CRMSIM_CONTROL_TOKEN``, for clients of a crmsim (the Python client, the pytest
    plugin, ``crmsim replay`` and ``record``); None when unset or empty."""
    env = os.environ if environ is None else environ
    return env.get("CRMSIM_CONTROL_TOKEN", "").strip() or None


def local_url(environ: Mapping[str, str] | None = None) -> str:
    """The base URL of a crmsim served on this machine with the same environment, for the
    commands that talk to one (``crmsim record``, ``crmsim wait``): ``CRMSIM_PORT`` and
    ``CRMSIM_HOST`` as ``crmsim serve`` reads them (a wildcard address is reached on
    loopback), https when ``CRMSIM_CERTFILE`` is set. Unreadable values are ``BadSetting``."""
    env = os.environ if environ is None else environ
    host, port = Config.host, Config.port
    if env.get("CRMSIM_PORT") is not None:
        try:
            port = _convert("port", env["CRMSIM_PORT"])
        except ValueError as exc:
            raise BadSetting(f"CRMSIM_PORT={env['CRMSIM_PORT']!r}: {exc}") from None
    host = env.get("CRMSIM_HOST", "").strip() or host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = "https" if env.get("CRMSIM_CERTFILE", "").strip() else "http"
    return f"{scheme}://{host}:{port}"


def hypothesis_profile(environ: Mapping[str, str] | None = None) -> str | None:
    """``HYPOTHESIS_PROFILE`` (``ci`` caps property scenarios like the test suite's profile)."""
    env = os.environ if environ is None else environ
    return env.get("HYPOTHESIS_PROFILE")


REAL_URL_ENV = "CRMSIM_REAL_{}_URL"


def real_vendor_url(vendor: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``CRMSIM_REAL_<VENDOR>_URL``: a real vendor's sandbox that the pytest plugin points a
    ``crmsim_vendor`` test at instead of crmsim; None when unset or empty."""
    env = os.environ if environ is None else environ
    return env.get(REAL_URL_ENV.format(vendor.upper())) or None


VAR_ENV = "CRMSIM_VAR_{}"


def scenario_var(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``CRMSIM_VAR_<NAME>``: the value of a scenario's ``vars:`` entry ``name`` (a secret a
    recorded scenario leaves out, docs/drift.md); None when unset."""
    env = os.environ if environ is None else environ
    return env.get(VAR_ENV.format(name.upper()))
