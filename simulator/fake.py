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

from faker import Faker

from simulator.config import ALL_VENDORS

POOL = 512
BASE = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
BOTW_LISTINGS = 10


def _hex(seed: int, name: str, n: int = 32) -> str:
    return hashlib.sha256(f"crmsim-fake:{seed}:{name}".encode()).hexdigest()[:n].upper()


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users a ``fake_state(seed, ...)`` document configures."""
    return {
        "botw": {"api_key": _hex(seed, "botw"), "listings": _listings()},
        "omoto": {
            "campaigns": [
                {"campaign_id": str(154 + i), "api_key": _hex(seed, f"omoto{i}", 24)}
                for i in range(3)
            ]
        },
        "antcrm": {"org_id": "acme", "listener_id": "wh-1", "sender": "owner@acme.example"},
        "crmcom": {
            "username": "api.user",
            "password": _hex(seed, "crmcom-password", 16),
            "organisation": "ACME",
            "web_api_key": _hex(seed, "crmcom-key"),
            "providers": ["PROV1", "PROV2"],
        },
    }


def _listings() -> list[str]:
    return [str(1001 + i) for i in range(BOTW_LISTINGS)]


class _Pools:
    """Faker values drawn once; record ``i`` combines them by index."""

    def __init__(self, seed: int) -> None:
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


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


Records = Iterator[dict[str, Any]]


def _botw(p: _Pools, seed: int, size: int) -> dict[str, Any]:
    listings = _listings()

    def contacts() -> Records:
        for i in range(size):
            first, last = p.person(i)
            yield {
                "contact_id": i + 1,
                "listing_id": listings[i % BOTW_LISTINGS],
                "unique_id": f"l-{i + 1:08d}",
                "first_name": first,
                "last_name": last,
                "email": p.email(i, first, last),
                "phone": "1" + p.phone_digits(i),
                "created_date": p.when(i).strftime("%Y-%m-%d %H:%M:%S"),
                "ip_address": p.ips[i % POOL],
                "source": "api",
                "status": "active",
            }

    return {
        "api_keys": {_hex(seed, "botw"): listings},
        "blacklist": {listings[0]: {"emails": ["spam@example.com"], "phones": ["15550000000"]}},
        "contacts": contacts(),
    }


def _omoto(p: _Pools, seed: int, size: int) -> dict[str, Any]:
    campaigns = credentials(seed)["omoto"]["campaigns"]
    names = ["Book club NPS", "Store visit survey", "Support follow-up"]

    def responses() -> Records:
        for i in range(size):
            first, last = p.person(i)
            rating = (i * 7 + p.offsets[i % POOL]) % 11
            yield {
                "response_id": i + 1,
                "endpoint": "endpoint",
                "campaign_id": campaigns[i % len(campaigns)]["campaign_id"],
                "channel": "email" if i % 3 else "sms",
                "campaigntype": "nps",
                "catnpsmap": {"price": [], "service": []} if rating < 7 else {},
                "npsrating": rating,
                "comment": p.sentences[i % POOL],
                "customerinfo": {"email": p.email(i, first, last), "name": f"{first} {last}"},
                "namevaluemap": {"unitname": p.cities[i % len(p.cities)]},
                "received_at": _iso(p.when(i)),
            }

    return {
        "campaigns": [{**c, "name": names[n]} for n, c in enumerate(campaigns)],
        "response_endpoints": ["endpoint"],
        "responses": responses(),
    }


def _customer_code(i: int) -> str:
    """Every tenth customer is a Lead, the others Contacts."""
    return f"LID-{i + 1}" if i % 10 == 9 else f"PID-{i + 1}"


def _antcrm(p: _Pools, seed: int, size: int) -> dict[str, Any]:
    creds = credentials(seed)["antcrm"]
    org, sender, listener = creds["org_id"], creds["sender"], creds["listener_id"]
    stages = ["New", "Qualified", "Proposal", "Won", "Lost"]

    def customers() -> Records:
        for i in range(size):
            first, last = p.person(i)
            code = _customer_code(i)
            lead = code.startswith("LID")
            yield {
                "customerId": code,
                "org_id": org,
                "kind": "lead" if lead else "contact",
                "name": first,
                "lastname": last,
                "title": p.titles[i % len(p.titles)],
                "passport": f"P{i + 1:09d}",
                "gender": i % 3,
                "emails": [{"type": "Work", "value": p.email(i, first, last)}],
                "phones": [{"type": "Mobile", "value": p.phone(i)}],
                "addresses": [{"street": p.streets[i % POOL], "city": p.cities[i % len(p.cities)]}],
                "tags": ["webhook"],
                "source": "Facebook Ads" if lead else "Website",
                "history": [
                    {
                        "type": "created",
                        "listener_id": listener,
                        "senderUser": sender,
                        "at": _iso(p.when(i)),
                    }
                ],
                "created_by": sender,
            }

    def deals() -> Records:
        for d in range(size // 10):
            yield {
                "dealId": str(d + 1),
                "org_id": org,
                "name": f"Booking-ID #{d + 1:07d}",
                "value": (d * 37 % 900 + 100) * 1000,
                "currency": "VND",
                "stage": stages[d % len(stages)],
                "customer": _customer_code(d * 10),
            }

    def tickets() -> Records:
        for t in range(size // 20):
            yield {
                "ticketId": str(t + 1),
                "org_id": org,
                "title": "Support request",
                "body": p.sentences[t % POOL],
                "customer": _customer_code(t * 20),
                "dealId": str(t // 2 + 1),
            }

    return {
        "orgs": [
            {
                "org_id": org,
                "users": [sender, "agent@acme.example"],
                "groups": ["Sales", "Support"],
                "trial_sms_remaining": 5,
                "stages": stages,
                "categories": ["Travel", "Events"],
                "packages": ["Basic", "Premium"],
                "currencies": ["VND", "USD"],
                "channels": ["Website", "Kite Chat"],
            }
        ],
        "listeners": [
            {
                "listener_id": listener,
                "org_id": org,
                "default_tag": "webhook",
                "contact_source": "Website",
                "lead_source": "Facebook Ads",
                "auto_email": {"enabled": True, "subject": "Welcome", "body": "Thanks!"},
            }
        ],
        "customers": customers(),
        "deals": deals(),
        "tickets": tickets(),
    }


def _crmcom(p: _Pools, seed: int, size: int) -> dict[str, Any]:
    creds = credentials(seed)["crmcom"]
    id_prefix = _hex(seed, "crmcom-ids", 16)
    providers = creds["providers"]
    states = ["PENDING"] * 7 + ["COMPLETED", "REJECTED", "CANCELLED"]

    def contacts() -> Records:
        for i in range(size):
            first, last = p.person(i)
            contact: dict[str, Any] = {
                "id": f"{id_prefix}{i:016X}",
                "number": f"CI{i + 1:06d}",
                "type": "COMPANY" if i % 10 == 9 else "PERSON",
            }
            if i % 10 == 9:
                contact["company_name"] = p.companies[i % POOL]
            else:
                contact["first_name"], contact["last_name"] = first, last
                contact["demographics"] = {
                    "passport_number": f"X{i + 1:09d}",
                    "gender": "FEMALE" if i % 2 else "MALE",
                }
            contact["emails_set"] = [
                {
                    "id": f"E{i + 1:010d}",
                    "type": "PERSONAL",
                    "email_address": p.email(i, first, last),
                }
            ]
            contact["phones_set"] = [
                {"id": f"P{i + 1:010d}", "type": "MOBILE", "number": p.phone(i)}
            ]
            yield contact

    def requests() -> Records:
        # created_date is left out: it becomes the clock's now at load, so the requests are
        # inside get_pending's 7-day window whenever the document is loaded.
        for i in range(size):
            yield {
                "number": f"PR{i + 1:08d}",
                "provider_id": providers[i % len(providers)],
                "subscription_number": f"S{i // 3 + 1:08d}",
                "account_number": f"AR{i // 6 + 1:08d}",
                "type": "ACTIVATE_SUBSCRIPTION" if i % 4 else "TERMINATE_SUBSCRIPTION",
                "life_cycle_state": states[i % len(states)],
                "scheduled_date": _iso(p.when(i)),
            }

    return {
        "users": [
            {
                "username": creds["username"],
                "password": creds["password"],
                "organisation": creds["organisation"],
            }
        ],
        "web_api_keys": [{"key": creds["web_api_key"], "organisation": creds["organisation"]}],
        "contacts": contacts(),
        "provisioning_providers": [
            {"id": pid, "name": f"Generic provider {n + 1}", "alternative_code": f"GP{n + 1}"}
            for n, pid in enumerate(providers)
        ],
        "provisioning_requests": requests(),
    }


BUILDERS = {"botw": _botw, "omoto": _omoto, "antcrm": _antcrm, "crmcom": _crmcom}


def _parts(seed: int, size: int, vendors: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    chosen = list(vendors) if vendors is not None else list(ALL_VENDORS)
    unknown = sorted(set(chosen) - set(BUILDERS))
    if unknown:
        raise ValueError(f"unknown vendors: {', '.join(unknown)} (known: {', '.join(BUILDERS)})")
    if size < 0:
        raise ValueError("size must be >= 0")
    pools = _Pools(seed)
    return {v: BUILDERS[v](pools, seed, size) for v in ALL_VENDORS if v in chosen}


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
