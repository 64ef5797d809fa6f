"""Fake AntCRM: one org, one listener, customers with deals and tickets in proportion,
for ``crmsim fake`` and the benchmarks (simulator/fake.py)."""

from __future__ import annotations

from typing import Any

from simulator.fake import POOL, Pools, Records, iso
from simulator.vendors.antcrm.parsing import ACTION_TYPES


def credentials(seed: int) -> dict[str, Any]:
    """The keys and users ``state(..., seed, ...)`` configures."""
    return {"org_id": "acme", "listener_id": "wh-1", "sender": "owner@acme.example"}


def _customer_code(i: int) -> str:
    """Every tenth customer is a Lead, the others Contacts."""
    return f"LID-{i + 1}" if i % 10 == 9 else f"PID-{i + 1}"


def state(p: Pools, seed: int, size: int) -> dict[str, Any]:
    creds = credentials(seed)
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
                        "at": iso(p.when(i)),
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


def listener_item(action: str) -> Any:
    """A Hypothesis strategy of one listener item of ``action`` (its ``data`` drawn from
    ``schemas/antcrm/actions/<action>.json``)."""
    from hypothesis import strategies as st

    from simulator.testing import all_schemas, refine, schema_strategy

    path = f"antcrm/actions/{action}.json"
    data = schema_strategy(path).map(lambda d: refine(all_schemas(), path, d, len(str(d))))
    return st.fixed_dictionaries({"actionType": st.just(action), "data": data})


def listener_documents() -> Any:
    """A Hypothesis strategy of listener envelopes. The envelope's schema picks each item's
    schema with if/then over eight actions, which a generator from the whole schema
    searches slowly (each item is kept only when its branch's validator accepts it); this
    composes it from the parts instead."""
    from hypothesis import strategies as st

    return st.fixed_dictionaries(
        {
            "senderUser": st.emails(),
            "data": st.lists(st.one_of([listener_item(a) for a in ACTION_TYPES]), max_size=4),
        }
    )
