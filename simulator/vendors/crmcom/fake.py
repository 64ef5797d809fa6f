"""Fake CRM.COM users, a Web API key, contacts, providers and provisioning requests,
for ``crmsim fake`` and the benchmarks (simulator/fake.py)."""

from __future__ import annotations

from typing import Any

from simulator.fake import POOL, Pools, Records, hex_id, iso


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users ``state(..., seed, ...)`` configures."""
    return {
        "username": "api.user",
        "password": hex_id(seed, "crmcom-password", 16),
        "organisation": "ACME",
        "web_api_key": hex_id(seed, "crmcom-key"),
        "providers": ["PROV1", "PROV2"],
    }


def state(p: Pools, seed: int, size: int) -> dict[str, Any]:
    creds = credentials(seed)
    id_prefix = hex_id(seed, "crmcom-ids", 16)
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
                "scheduled_date": iso(p.when(i)),
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
