"""Omoto backend: campaigns and their keys, Response API endpoints, stored campaign responses
(docs/vendors/omoto.md).

Survey invites are not state: each one goes to the namespace's outbox (kind
``survey-invite``) the moment it is sent. Every lookup is a hash index of a table (a
campaign by key, by id); response ids are the responses table's document ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulator.clock import iso
from simulator.errors import StateInvalid
from simulator.store import Record
from simulator.vendors._base import Context, VendorBackend
from simulator.vendors.omoto import errors, parsing
from simulator.vendors.omoto.parsing import RESPONSE_FIELDS

INVITE = "survey-invite"
DEFAULT_ENDPOINTS = ("endpoint",)
# The CRM API's page: a Response API endpoint of this name would be unreachable.
RESERVED_ENDPOINTS = frozenset({"receivecustomerinfo"})


def _one(field: str) -> Any:
    def keys(doc: Mapping[str, Any]) -> Iterable[Any]:
        return [doc[field]]

    return keys


class OmotoBackend(VendorBackend):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.response_endpoints: list[str] = list(DEFAULT_ENDPOINTS)
        self._endpoints: frozenset[str] = frozenset(self.response_endpoints)
        self.campaigns = self.store.table(
            "campaigns",
            indexes={"api_key": _one("api_key"), "campaign_id": _one("campaign_id")},
        )
        self.responses = self.store.table("responses")

    # -- the checks, in the documented order ---------------------------------------------
    def has_endpoint(self, endpoint: str) -> bool:
        """Whether ``/omoto/{endpoint}.htm`` is a configured Response API endpoint."""
        return endpoint in self._endpoints

    def authorize(self, api_key: str | None) -> Record:
        """The campaign of ``api_key``; 401 keymismatch when missing, empty or unknown."""
        found = self.campaigns.lookup("api_key", api_key) if api_key else []
        if not found:
            raise errors.KeyMismatch("the key is missing, empty or not configured")
        return found[0]

    # -- operations -----------------------------------------------------------------------
    def receive_customer_info(
        self, api_key: str | None, invitees: Iterable[parsing.Invitee]
    ) -> None:
        """CRM API: one survey invite per customer with an email or a mobile number (OM-CRM-6).

        ``invitees`` are those customers (parsing.py); the invites land in the outbox. Not
        emulated: Omoto's "business rules" beyond that one check (OM-CRM-5), de-duplication,
        scheduling.
        """
        campaign = self.authorize(api_key)
        for invitee in invitees:
            self.ctx.send(
                INVITE,
                campaign_id=campaign["campaign_id"],
                api_key=campaign["api_key"],
                personalinfo=invitee.personalinfo,
                qualifyinginfo=invitee.qualifyinginfo,
                email=invitee.email,
                mobileno=invitee.mobileno,
                transactionid=invitee.transactionid,
                stamp=("sent_at",),  # the same instant as the entry's, even on a running clock
            )

    def push_response(
        self, endpoint: str, api_key: str | None, response: parsing.CampaignResponse
    ) -> int:
        """Response API (OM-RESP-6): store one campaign response. Returns its ``response_id``.

        ``response`` is the parsed form (parsing.py: every parseerror check comes before
        the campaign check, here). Not emulated: de-duplication, any reply content.
        """
        campaign = self.authorize(api_key)
        campaign_id, record = response.campaign_id, response.fields
        if campaign_id != campaign["campaign_id"]:
            raise errors.KeyMismatch("campaignid is not the campaign of the key")
        response_id = self.responses.allocate_id()
        self.responses.insert(
            {
                "response_id": response_id,
                "endpoint": endpoint,
                "campaign_id": campaign_id,
                **record,
                "received_at": iso(self.ctx.clock.now()),
            },
            response_id,
        )
        return response_id

    # -- configuration: the Response API endpoints, held outside the store ----------------
    def dump_config(self) -> dict[str, Any]:
        return {**super().dump_config(), "response_endpoints": list(self.response_endpoints)}

    def load_config(self, doc: Mapping[str, Any]) -> None:
        super().load_config(doc)
        self.response_endpoints = list(doc["response_endpoints"])
        self._endpoints = frozenset(self.response_endpoints)

    # -- state document -------------------------------------------------------------------
    def load_state(self, doc: Mapping[str, Any]) -> None:
        problems: list[dict[str, Any]] = []
        self._load_endpoints(doc.get("response_endpoints", DEFAULT_ENDPOINTS), problems)
        self._load_campaigns(doc.get("campaigns", []), problems)
        self._load_responses(doc.get("responses", []), problems)
        if problems:
            raise StateInvalid(problems)

    def _load_endpoints(self, names: Iterable[str], problems: list[dict[str, Any]]) -> None:
        endpoints: list[str] = []
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in RESERVED_ENDPOINTS:
                message = f"'{name}' is the CRM API's page and cannot be a response endpoint"
            elif name in seen:
                message = f"response endpoint '{name}' is listed twice"
            else:
                seen.add(name)
                endpoints.append(name)
                continue
            problems.append({"pointer": f"/response_endpoints/{i}", "message": message})
        self.response_endpoints = endpoints
        self._endpoints = frozenset(endpoints)

    def _load_campaigns(
        self, campaigns: Iterable[Mapping[str, Any]], problems: list[dict[str, Any]]
    ) -> None:
        for i, c in enumerate(campaigns):
            clash = False
            for field in ("campaign_id", "api_key"):
                if self.campaigns.lookup_ids(field, c[field]):
                    clash = True
                    problems.append(
                        {
                            "pointer": f"/campaigns/{i}/{field}",
                            "message": f"{field} '{c[field]}' is used by another campaign",
                        }
                    )
            if not clash:
                self.campaigns.insert(
                    {
                        "campaign_id": c["campaign_id"],
                        "api_key": c["api_key"],
                        "name": c.get("name"),
                    }
                )

    def _load_responses(
        self, responses: list[Mapping[str, Any]], problems: list[dict[str, Any]]
    ) -> None:
        # int(): JSON Schema's integers include 3.0, and a float past 2^53 plus one is
        # itself (two responses given no id would get the same one)
        given: set[int] = set()
        for i, r in enumerate(responses):
            if "response_id" not in r:
                continue
            if int(r["response_id"]) in given:
                problems.append(
                    {
                        "pointer": f"/responses/{i}/response_id",
                        "message": f"response_id {r['response_id']} is used twice",
                    }
                )
            given.add(int(r["response_id"]))
        next_id = max(given, default=0)
        now = iso(self.ctx.clock.now())
        for r in responses:
            response_id = r.get("response_id")
            if response_id is None:
                next_id += 1
                response_id = next_id
            else:
                response_id = int(response_id)
            if self.responses.contains(response_id):
                continue  # reported above
            self.responses.insert(
                {
                    "response_id": response_id,
                    "endpoint": r.get("endpoint"),
                    "campaign_id": r["campaign_id"],
                    **{f: r.get(f) for f in RESPONSE_FIELDS},
                    "received_at": r.get("received_at") or now,
                },
                response_id,
            )

    def dump_state(self) -> dict[str, Any]:
        return {
            "campaigns": [dict(c) for c in self.campaigns],
            "response_endpoints": list(self.response_endpoints),
            "responses": [dict(r) for r in self.responses],
        }
