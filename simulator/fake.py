"""Realistic state documents of any size, for benchmarks and demos (``crmsim fake``).

``fake_state(seed, size)`` builds a state document (``schemas/sim/state.schema.json``) with
``size`` records in each vendor's main collections: BOTW contacts, Omoto responses (plus a
few campaigns), AntCRM customers (one org, one listener, deals and tickets in proportion),
CRM.COM contacts and provisioning requests (users, keys, providers too).

Names, emails and phones come from Faker, seeded with ``seed``, so the same seed gives the
same document byte for byte (with the same Faker version). A million records must take
seconds, not minutes: Faker is asked for a pool of values once, and each record combines
pool entries chosen by its index with the index itself, which keeps emails, phones,
passports and numbers unique.

Credentials (API keys, users) follow from the seed: ``credentials(seed)`` gives them to
tools that drive the loaded simulator.
"""

from __future__ import annotations

import gc
import hashlib
import io
import itertools
import json
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

POOL = 512
BASE = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600


def hex_id(seed: int, name: str, n: int = 32) -> str:
    return hashlib.sha256(f"crmsim-fake:{seed}:{name}".encode()).hexdigest()[:n].upper()


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users a ``fake_state(seed, ...)`` document configures, per vendor."""
    return {v.slug: v.fake.credentials(seed) for v in fakeable().values() if v.fake}


def summary(seed: int, size: int, vendors: Iterable[str] | None = None) -> str:
    """What ``crmsim fake`` says on standard error: the records and, per vendor, the keys,
    users and passwords the document configures, for a first call."""

    def text(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(text(v) for v in value)
        if isinstance(value, dict):
            return " ".join(f"{k}={text(v)}" for k, v in value.items())
        return str(value)

    creds = credentials(seed)
    chosen = [v for v in (vendors or creds) if v in creds]
    lines = [f"crmsim fake: seed {seed}, {size} records per vendor; credentials for a first call:"]
    width = max((len(v) for v in chosen), default=0)
    for slug in chosen:
        parts = [f"{k}={text(v)}" for k, v in creds[slug].items()]
        lines.append(f"  {slug:<{width}}  " + "; ".join(parts))
    return "\n".join(lines)


def fakeable() -> dict[str, Any]:
    from simulator.vendors import VENDORS  # each vendor's fake.py imports this module

    return {slug: v for slug, v in VENDORS.items() if v.fake is not None}


class Pools:
    """Faker values drawn once; record ``i`` combines them by index."""

    def __init__(self, seed: int) -> None:
        # here, not at the top: every vendor's fake.py imports this module, and the
        # registry imports those, so a module-level import would slow every start by 0.4 s
        from faker import Faker

        faker = Faker("en_US")
        faker.seed_instance(seed)
        self.random = random.Random(seed)
        self.first = [faker.first_name() for _ in range(POOL)]
        self.last = [faker.last_name() for _ in range(POOL)]
        self.domains = [faker.free_email_domain() for _ in range(16)] + [
            faker.domain_name() for _ in range(48)
        ]
        self.companies = [faker.company() for _ in range(POOL)]
        self.cities = [faker.city() for _ in range(64)]
        self.streets = [faker.street_name() for _ in range(POOL)]
        self.sentences = [faker.sentence(nb_words=8) for _ in range(POOL)]
        self.ips = [faker.ipv4_public() for _ in range(POOL)]
        self.area = [f"{faker.random_int(201, 989)}" for _ in range(POOL)]
        self.titles = ["Mr", "Ms", "Mrs", "Dr", None]
        # Seconds after BASE for each slot of the pool: timestamps spread over a year.
        self.offsets = [self.random.randrange(YEAR_SECONDS) for _ in range(POOL)]

    def person(self, i: int) -> tuple[str, str]:
        return self.first[i % POOL], self.last[(i * 7 + i // POOL) % POOL]

    def email(self, i: int, first: str, last: str) -> str:
        user = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        return f"{user}{i}@{self.domains[i % len(self.domains)]}"

    def phone_digits(self, i: int) -> str:
        """Ten-digit North American number, unique for ``i`` below ten million."""
        return f"{self.area[i % POOL]}{i // 10000 % 1000:03d}{i % 10000:04d}"

    def phone(self, i: int) -> str:
        d = self.phone_digits(i)
        return f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}"

    def when(self, i: int) -> datetime:
        return BASE + timedelta(seconds=(self.offsets[i % POOL] + i * 13) % YEAR_SECONDS)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


Records = Iterator[dict[str, Any]]


def _parts(seed: int, size: int, vendors: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    known = fakeable()
    chosen = list(vendors) if vendors is not None else list(known)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown vendors: {', '.join(unknown)} (known: {', '.join(known)})")
    if size < 0:
        raise ValueError("size must be >= 0")
    pools = Pools(seed)
    return {slug: v.fake.state(pools, seed, size) for slug, v in known.items() if slug in chosen}


def fake_state(seed: int, size: int, vendors: Iterable[str] | None = None) -> dict[str, Any]:
    """A state document with ``size`` records in each chosen vendor's main collections."""
    return {
        vendor: {k: list(v) if isinstance(v, Iterator) else v for k, v in part.items()}
        for vendor, part in _parts(seed, size, vendors).items()
    }


def write(out: IO[str], seed: int, size: int, vendors: Iterable[str] | None = None) -> None:
    """Stream ``fake_state(seed, size, vendors)`` as compact JSON (one line) to ``out``.

    Records are encoded one at a time, so a million of them never sit in memory at once.
    The text is exactly ``json.dumps(fake_state(...), separators=(",", ":"),
    ensure_ascii=False)``.
    """
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    gc_was_enabled = gc.isenabled()
    gc.disable()  # records hold no cycles: the collector would only rescan them
    try:
        out.write("{")
        for n, (vendor, part) in enumerate(_parts(seed, size, vendors).items()):
            out.write(("," if n else "") + encode(vendor) + ":{")
            for m, (key, value) in enumerate(part.items()):
                out.write(("," if m else "") + encode(key) + ":")
                if not isinstance(value, Iterator):
                    out.write(encode(value))
                    continue
                out.write("[")
                first = True
                while chunk := list(itertools.islice(value, 4096)):
                    # one encoder call per chunk: "[a,b]" -> "a,b"
                    out.write(("" if first else ",") + encode(chunk)[1:-1])
                    first = False
                out.write("]")
            out.write("}")
        out.write("}")
    finally:
        if gc_was_enabled:
            gc.enable()


def dumps(seed: int, size: int, vendors: Iterable[str] | None = None) -> str:
    """``write`` into a string."""
    buffer = io.StringIO()
    write(buffer, seed, size, vendors)
    return buffer.getvalue()
