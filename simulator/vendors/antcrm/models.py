"""AntCRM webhook listener backend: orgs, listeners, customers, deals, tickets
(docs/vendors/antcrm.md).

One public method per operation (``listener``) and one per action (``add_contact`` ...
``send_sms``). An action reads and checks its whole item first (``parsing.py``), then decides,
then writes: a failing item raises ``Invalid`` before its first write and changes nothing.

Every lookup goes through an index. Customers are indexed per ``(index, org_id, pool, key)``
(``index``: which kind of key, ``_customer_entries``), where the pool is ``customer`` (Contacts
and Accounts), ``account`` (Accounts only) or ``lead``; each group is ordered by the code's
number, so "the oldest (lowest <n>) wins" is the first entry. Store counters hold the
highest code number per org and prefix, the highest deal and ticket id per org (raised by
``load_state``) and the trial SMS each org has used. Orgs and listeners are configuration,
held in memory (``dump_config``/``load_config``); a request never changes them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.clock import iso
from simulator.errors import StateInvalid
from simulator.journal import Outcome
from simulator.store import Record
from simulator.vendors._base import Context, VendorBackend
from simulator.vendors.antcrm import errors
from simulator.vendors.antcrm.parsing import (
    CONTACT_TYPES,
    NOTE_MODELS,
    Company,
    Entry,
    Invalid,
    Profile,
    absent,
    clean,
    cus_fields,
    customer_code,
    digits,
    identifier,
    norm_email,
    norm_name,
    number,
    owner,
    permit,
    points,
    profile,
    profiles,
    scalar,
    single_points,
    text,
    word,
)

PREFIX = {"contact": "PID", "account": "CID", "lead": "LID"}
KIND_BY_PREFIX = {prefix: kind for kind, prefix in PREFIX.items()}
# The lookup pools each kind of customer belongs to: ``customer`` (Contacts and Accounts),
# ``account`` (Accounts only) and ``lead``. The Contacts-only pool of update-contact
# (AC-UPD-1) is the ``customer`` pool without its Accounts: it has no index of its own.
POOLS = {"contact": ("customer",), "account": ("customer", "account"), "lead": ("lead",)}
CATALOGUES = ("stages", "categories", "packages", "currencies", "channels", "slas")
# What an action returns: (result, the record's id, why) -- see ``Outcome`` (AC-OUTCOME-1).
Result = tuple[str, str | None, str | None]
POOL_WORDS = {
    "customer": "Contact or Account",
    "contact": "Contact",
    "account": "Account",
    "lead": "Lead",
}

CUSTOMER_DEFAULTS: dict[str, Any] = {
    "name": None,
    "lastname": None,
    "title": None,
    "passport": None,
    "gender": 2,
    "bgInfo": None,
    "dateOfBirth": None,
    "emails": [],
    "phones": [],
    "addresses": [],
    "websites": [],
    "im": [],
    "tags": [],
    "cusFields": [],
    "permit": None,
    "source": None,
    "contactId": None,
    "companyId": None,
    "companyLead": None,
    "history": [],
    "notes": [],
    "created_by": None,
}
DEAL_DEFAULTS: dict[str, Any] = {
    "name": None,
    "value": None,
    "currency": None,
    "description": None,
    "stage": None,
    "closeDate": None,
    "category": None,
    "package": None,
    "owner_opportunity": None,
    "customer": None,
    "contacts": [],
    "permit": None,
    "cusFields": [],
    "notes": [],
}
TICKET_DEFAULTS: dict[str, Any] = {
    "contactType": "customer",
    "title": None,
    "body": None,
    "customer": None,
    "dealId": None,
    "tag": None,
    "groupName": None,
    "slaName": None,
    "channel": None,
    "cusFields": [],
}
HISTORY_DEFAULTS: dict[str, Any] = {"listener_id": None, "senderUser": None, "text": None}
NOTE_DEFAULTS: dict[str, Any] = {"tag": None, "channel": None, "permit": None, "created_by": None}


def code_number(code: str) -> int:
    """The ``<n>`` of ``PID-<n>``."""
    return int(code.partition("-")[2])


def key_group(index: str, org: str, pool: str, key: Hashable) -> Hashable:
    """The ``keys`` index's group of a lookup: ``index:pool:<len(org)>:org:key``, one
    string (a tuple of four cost 160 bytes more per key with its string: 0.3 KiB per
    customer, docs/serving.md "Memory per record"). ``index`` and ``pool`` are names
    without a colon and the org's length comes first, so two lookups share a group only
    when all four parts are equal; a key that is not a string gets a tuple, which no
    stored key is."""
    if isinstance(key, str):
        return f"{index}:{pool}:{len(org)}:{org}:{key}"
    return (index, org, pool, key)


def _customer_entries(c: Mapping[str, Any]) -> list[tuple[Hashable, int]]:
    """The ordered-index entries ``(key_group(index, org, pool, key), n)`` of a customer,
    for each of its keys by which it is looked up (``_entry``'s ``index``: customerId,
    contactId, passport, name, email, phone). One index for every kind of key, so that a
    state load computes a customer's number and pools once, not once per kind (a repeated
    key yields a repeated entry, which the index keeps once)."""
    code, org = c["customerId"], c["org_id"]
    n = code_number(code)
    keys = [
        ("customerId", code),
        ("contactId", clean(c.get("contactId"))),
        ("passport", clean(c.get("passport"))),
        ("name", norm_name(c.get("name"))),
    ]
    keys += [("email", norm_email(e["value"])) for e in c["emails"]]
    keys += [("phone", digits(p["value"])) for p in c["phones"]]
    # ``key_group``'s strings, each made in one step from the part every key of a pool
    # shares (a load makes half a million: a call and the org's length formatted each
    # time were a fifth of the index's fill); the keys are strings or None
    pools = POOLS[c["kind"]]
    if len(pools) == 1:
        middle = f":{pools[0]}:{len(org)}:{org}:"
        return [(f"{index}{middle}{key}", n) for index, key in keys if key]
    middles = [f":{pool}:{len(org)}:{org}:" for pool in pools]
    return [(f"{index}{middle}{key}", n) for index, key in keys if key for middle in middles]


@dataclass(frozen=True)
class Call:
    """Who is calling: the listener, its org and the (org's spelling of the) senderUser."""

    listener: dict[str, Any]
    org: dict[str, Any]
    sender: str

    @property
    def org_id(self) -> str:
        return str(self.org["org_id"])

    @property
    def listener_id(self) -> str:
        return str(self.listener["listener_id"])


class AntcrmBackend(VendorBackend):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.orgs: dict[str, dict[str, Any]] = {}
        self.listeners: dict[str, dict[str, Any]] = {}
        # org -> lower-cased user email -> the org's spelling
        self._users: dict[str, dict[str, str]] = {}
        # org -> catalogue -> casefolded name -> the org's spelling
        self._catalogues: dict[str, dict[str, dict[str, str]]] = {}
        self._networks: dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}
        # customer codes per (org, prefix), deal and ticket ids per org, trial SMS used per
        # org: store counters
        self._counters = self.store.counters
        # values of the item being processed that were not kept (AC-EMAIL-1, AC-CONF-1):
        # scratch of one item, emptied before each (not state: never shared or dumped)
        self._dropped: list[str] = []
        # no hash index by code: a customer is found by its customerId key (``keys``),
        # and a state load checks its codes against a set (an index read by nothing else
        # cost 0.14 s and about 150 bytes per customer)
        self.customers = self.store.table("customers", ordered={"keys": _customer_entries})
        self.deals = self.store.table(
            "deals",
            indexes={"dealId": lambda d: [(d["org_id"], d["dealId"])]},
            ordered={
                "name": lambda d: (
                    [((d["org_id"], key), int(d["dealId"]))]
                    if (key := norm_name(d.get("name")))
                    else []
                )
            },
        )
        self.tickets = self.store.table(
            "tickets", indexes={"ticketId": lambda t: [(t["org_id"], t["ticketId"])]}
        )
        # History lines and notes that requests add to a stored record: a row each, under
        # ``of`` (``<table>:<doc id>:<list>``), instead of a longer list in the record: a
        # duplicate's or a note's cost does not grow with the lines its record already holds
        # (a record is stored packed: its update repacks all of it). ``dump_state`` appends
        # them to the record's own list, in the order they came.
        self.lines = self.store.table("lines", indexes={"of": lambda r: [r["of"]]})

    # == the operation ====================================================================
    def authorize(self, *, listener_id: str, client_ip: str | None) -> dict[str, Any]:
        """The first two envelope checks: the listener exists (404), the IP may call (403)."""
        listener = self.listeners.get(listener_id)
        if listener is None:
            raise errors.ListenerNotFound()
        networks = self._networks.get(listener_id, [])
        if networks and not _ip_in(client_ip, networks):
            raise errors.IpNotAllowed()
        return listener

    def listener(self, *, listener_id: str, client_ip: str | None, document: Any) -> list[Outcome]:
        """``POST /antcrm/webhook/listener/{listener_id}`` with a parsed JSON body (AC-ENV-2).

        Checks the envelope in the documented order, then processes the items one by one;
        returns one ``Outcome`` per item for the journal (AC-OUTCOME-1); the vendor itself
        answers only ``{"success": true}``.
        """
        listener = self.authorize(listener_id=listener_id, client_ip=client_ip)
        if not isinstance(document, dict):
            raise errors.InvalidJson()
        sender = document.get("senderUser")
        if absent(sender):
            raise errors.SenderUserRequired()
        org = self.orgs[listener["org_id"]]
        user = (
            self._users[org["org_id"]].get(sender.strip().lower())
            if isinstance(sender, str)
            else None
        )
        if user is None:
            raise errors.SenderUserNotFound()
        items = document.get("data")
        if not isinstance(items, list):
            raise errors.DataMustBeArray()
        call = Call(listener, org, user)
        return [self._dispatch(call, item) for item in items]

    def _dispatch(self, call: Call, item: Any) -> Outcome:
        if not isinstance(item, dict):
            return Outcome(None, "ignored", None, "the item is not an object")
        action = item.get("actionType")
        data = item.get("data")
        method = self._actions().get(action) if isinstance(action, str) else None
        if method is None:
            name = action if isinstance(action, str) else None
            return Outcome(name, "ignored", None, f"unknown actionType {action!r}")
        if not isinstance(data, dict):
            return Outcome(action, "ignored", None, "data is not an object")
        self._dropped = []
        try:
            result, record_id, detail = method(call, data)
        except Invalid as exc:
            return Outcome(action, "ignored", None, str(exc))
        if self._dropped:
            kept = "not kept: " + "; ".join(self._dropped)
            detail = f"{detail}; {kept}" if detail else kept
        return Outcome(action, result, record_id, detail)

    def _actions(self) -> dict[str, Callable[[Call, Mapping[str, Any]], Result]]:
        return {
            "add-contact": self.add_contact,
            "add-lead": self.add_lead,
            "update-contact": self.update_contact,
            "update-lead": self.update_lead,
            "add-note": self.add_note,
            "add-deal": self.add_deal,
            "add-ticket": self.add_ticket,
            "send-sms": self.send_sms,
        }

    # == actions ==========================================================================
    def add_contact(self, call: Call, data: Mapping[str, Any]) -> Result:
        """add-contact: an Account for ``type`` 1, else a Contact (AC-TYPE-1), unless a
        duplicate."""
        return self._add(call, self._profile(call, data, "add-contact"), "customer")

    def add_lead(self, call: Call, data: Mapping[str, Any]) -> Result:
        """add-lead: a Lead, unless a duplicate among the org's Leads (AC-LEAD-1)."""
        return self._add(call, self._profile(call, data, "add-lead"), "lead")

    def _add(self, call: Call, p: Profile, pool: str) -> Result:
        """Create in ``pool`` unless a duplicate exists there (which gets a History line)."""
        if p.name is None:
            raise Invalid("name is required")
        duplicate = self._duplicate(call.org_id, pool, p)
        if duplicate is not None:
            self._history(duplicate, call, "duplicate")
            code = duplicate["customerId"]
            return "duplicate", code, f"{code} already exists: nothing created, History line added"
        kind = "lead" if pool == "lead" else "account" if p.type == 1 else "contact"
        return "created", self._create(call, kind, p), None

    def update_contact(self, call: Call, data: Mapping[str, Any]) -> Result:
        """update-contact: merge into one Contact or Account; never creates it (AC-UPD-4)."""
        return self._update(call, self._profile(call, data, "update-contact"), "customer")

    def update_lead(self, call: Call, data: Mapping[str, Any]) -> Result:
        """update-lead: merge into one Lead; never creates it (AC-UPD-4)."""
        return self._update(call, self._profile(call, data, "update-lead"), "lead")

    def _profile(self, call: Call, data: Mapping[str, Any], action: str) -> Profile:
        """Read a customer payload; emails that are not addresses (AC-EMAIL-1) and permit
        values the org does not configure (AC-CONF-1) are left out and reported."""
        p = profile(data, action, self._dropped)
        p.permit = self._permit(call, p.permit)
        return p

    def add_note(self, call: Call, data: Mapping[str, Any]) -> Result:
        """add-note: a note on a customer (``model`` contact) or a deal (``model`` deal)."""
        body = text(data, "body")
        on_deal = word(data, "model", NOTE_MODELS) == "deal"  # absent: a contact note
        pool = _pool(word(data, "contactType", CONTACT_TYPES))
        customer_id, passport = customer_code(data), text(data, "passport")
        contact_code = text(data, "contactId")
        emails = single_points(data, "email", "emails")
        phones = single_points(data, "phone", "phones")
        deal_id, deal_name = identifier(data, "dealId"), text(data, "name")
        note = {
            "body": body,
            "tag": text(data, "tag"),
            "channel": self._kept(call, "channels", text(data, "channel"), "channel"),
            "permit": self._permit(call, permit(data)),
            "created_by": call.sender,
            "at": self._now(),
        }
        if body is None:
            raise Invalid("body is required")
        if on_deal:
            if deal_id is None and deal_name is None:
                raise Invalid("a deal note needs dealId or name")
            deal = self._deal(call.org_id, deal_id, deal_name)
            if deal is None:
                how = f"dealId {deal_id!r}" if deal_id is not None else f"name {deal_name!r}"
                return "ignored", None, f"no deal has {how}"
            self._add_line("deals", deal, "notes", note)
            return "created", deal["dealId"], f"note on deal {deal['dealId']}"
        if customer_id is None:
            customer_id = contact_code  # AC-NOTE-1: contactId is the customer's code
        if customer_id is not None:
            how = f"customerId {customer_id!r}"
            target = self._first("customerId", call.org_id, pool, customer_id)
        elif passport is not None:
            how = f"passport {passport!r}"
            target = self._first("passport", call.org_id, pool, passport)
        elif emails:
            how = f"email {emails}"
            target = self._oldest("email", call.org_id, pool, map(norm_email, emails))
        elif phones:
            how = f"phone {phones}"
            target = self._oldest("phone", call.org_id, pool, map(digits, phones))
        else:
            raise Invalid("a contact note needs customerId, contactId, passport, email or phone")
        if target is None:
            return "ignored", None, f"no {POOL_WORDS[pool]} has {how}"
        self._add_line("customers", target, "notes", note)
        return "created", target["customerId"], f"note on {target['customerId']}"

    def add_deal(self, call: Call, data: Mapping[str, Any]) -> Result:
        """add-deal: update the deal found by ``dealId`` (else by ``name``), or create one."""
        org = call.org_id
        name, deal_id = text(data, "name"), identifier(data, "dealId")
        fields: dict[str, Any] = {
            "value": scalar(data, "value"),
            "description": text(data, "description"),
            "closeDate": number(data, "closeDate"),
            "owner_opportunity": self._owner(call, owner(data)),
            "permit": self._permit(call, permit(data)),
        }
        configured = {
            "currency": self._configured(org, "currencies", text(data, "currency")),
            "category": self._configured(org, "categories", text(data, "category")),
            "package": self._configured(org, "packages", text(data, "package")),
            "stage": self._configured(org, "stages", text(data, "stage")),
        }
        custom = cus_fields(data)
        deal_with = (
            self._profile(call, data["dealWith"], "dealWith") if _object(data, "dealWith") else None
        )
        contacts = profiles(data, "contacts", self._dropped)
        for c in contacts:
            c.permit = self._permit(call, c.permit)
        if name is None:
            raise Invalid("name is required")
        deal = self._deal(org, deal_id, name)  # by dealId only when given

        if deal is None:
            if configured["stage"] is None:
                raise Invalid("a new deal needs a configured stage")
            if deal_with is None:
                raise Invalid("a new deal needs dealWith")
            found = self._find_customer(org, deal_with)
            if found is None and deal_with.name is None:
                raise Invalid("dealWith matches no customer and has no name")
            # -- checks done: from here on, writes only --
            customer = found["customerId"] if found else self._create_from(call, deal_with)
            new_id = self._counters.next(("deal", org))
            self.deals.insert(
                {
                    "dealId": str(new_id),
                    "org_id": org,
                    **DEAL_DEFAULTS,  # not copied: the store keeps a copy
                    **{k: v for k, v in fields.items() if v is not None},
                    **{k: v for k, v in configured.items() if v is not None},
                    "name": name,
                    "customer": customer,
                    "contacts": self._resolve_all(call, contacts),
                    "cusFields": custom,
                    "notes": [],
                }
            )
            made = "created" if found is None else "found"
            return "created", str(new_id), f"deal {new_id} with customer {customer} ({made})"

        changes: dict[str, Any] = {"name": name}
        changes.update({k: v for k, v in fields.items() if v is not None})
        changes.update({k: v for k, v in configured.items() if v is not None})
        if custom:
            changes["cusFields"] = _upsert(deal["cusFields"], custom)
        if deal_with is not None:
            found = self._find_customer(org, deal_with)
            if found is not None:
                changes["customer"] = found["customerId"]
            elif deal_with.name is not None:
                changes["customer"] = self._create_from(call, deal_with)
        resolved = self._resolve_all(call, contacts)
        if resolved:
            changes["contacts"] = resolved
        self.deals.update(deal.doc_id, changes)
        return "updated", deal["dealId"], f"deal {deal['dealId']}"

    def add_ticket(self, call: Call, data: Mapping[str, Any]) -> Result:
        """add-ticket: a ticket, linked to the first key's customer and to ``dealId``."""
        org = call.org_id
        contact_type = word(data, "contactType", CONTACT_TYPES) or "customer"
        pool = _pool(contact_type)
        body = text(data, "body")
        customer_id, contact_id = customer_code(data), text(data, "contactId")
        passport = text(data, "passport")
        emails = single_points(data, "email", "emails")
        phones = single_points(data, "phone", "phones")
        deal_id = identifier(data, "dealId")
        text(data, "name")
        record = {
            "contactType": contact_type,
            "title": text(data, "title"),
            "body": body,
            "tag": text(data, "tag"),
            "groupName": self._kept(call, "groups", text(data, "groupName"), "groupName"),
            "slaName": self._kept(call, "slas", text(data, "slaName"), "slaName"),
            "channel": text(data, "channel"),
            "cusFields": cus_fields(data),
        }
        if body is None:
            raise Invalid("body is required")
        if customer_id is not None:
            customer = self._first("customerId", org, pool, customer_id)
        elif contact_id is not None:
            customer = self._first("contactId", org, pool, contact_id)
        elif passport is not None:
            customer = self._first("passport", org, pool, passport)
        elif emails:
            customer = self._oldest("email", org, pool, map(norm_email, emails))
        elif phones:
            customer = self._oldest("phone", org, pool, map(digits, phones))
        else:
            customer = None
        deal = self.deals.lookup("dealId", (org, deal_id))  # no deal has a None id
        ticket_id = self._counters.next(("ticket", org))
        linked = customer["customerId"] if customer is not None else None
        self.tickets.insert(
            {
                "ticketId": str(ticket_id),
                "org_id": org,
                **TICKET_DEFAULTS,  # not copied: the store keeps a copy
                **record,
                "customer": linked,
                "dealId": deal[0]["dealId"] if deal else None,
            }
        )
        return "created", str(ticket_id), f"ticket {ticket_id}, customer {linked or 'none'}"

    def send_sms(self, call: Call, data: Mapping[str, Any]) -> Result:
        """send-sms: one SMS per phone while the org may send (account or trial counter)."""
        content = text(data, "content")
        phones = [e["value"] for e in points(data, "phones")]
        if content is None or not phones:
            raise Invalid("content and phones are required")
        sent = 0
        for phone in phones:
            if not self._take_sms(call.org):
                break
            self._sms(call, phone, content, None, "send-sms")
            sent += 1
        if not sent:
            return "ignored", None, "the org may not send SMS (no SMS account, no trial SMS left)"
        return "sent", None, f"{sent} of {len(phones)} SMS sent"

    # == values configured in CRM (AC-CONF-1) ==============================================
    def _kept(self, call: Call, catalogue: str, value: str | None, what: str) -> str | None:
        """A group, channel or SLA name in the org's spelling; ``None`` (reported) when the
        org lists names of that kind and this is not one; as given when it lists none."""
        if value is None:
            return None
        names = self._catalogues[call.org_id][catalogue]
        if not names:
            return value
        found = names.get(value.casefold())
        if found is None:
            self._dropped.append(f"{what} {value!r} is not one of the org's {catalogue}")
        return found

    def _kept_users(self, call: Call, users: Iterable[str], what: str) -> list[str]:
        """The org's users among ``users`` (case-insensitive, the org's spelling); the org
        always has users, since the senderUser is one of them (AC-ENV-2)."""
        known = self._users[call.org_id]
        found: list[str] = []
        for user in users:
            spelling = known.get(user.strip().lower())
            if spelling is None:
                self._dropped.append(f"{what} {user!r} is not a user of the org")
            elif spelling not in found:
                found.append(spelling)
        return found

    def _permit(self, call: Call, given: Entry | None) -> Entry | None:
        """``permit`` with its ``group`` and ``users`` kept only when the org has them."""
        if given is None:
            return None
        found: Entry = {}
        if "status" in given:
            found["status"] = given["status"]
        group = self._kept(call, "groups", given.get("group"), "permit.group")
        if group is not None:
            found["group"] = group
        users = self._kept_users(call, given.get("users", []), "permit.users")
        if users:
            found["users"] = users
        return found or None

    def _owner(self, call: Call, given: Entry | None) -> Entry | None:
        """``owner_opportunity`` with the org's users and groups only."""
        if given is None:
            return None
        found: Entry = {}
        users = self._kept_users(call, given.get("users", []), "owner_opportunity.users")
        if users:
            found["users"] = users
        groups = [
            g
            for name in given.get("groups", [])
            if (g := self._kept(call, "groups", name, "owner_opportunity.groups")) is not None
        ]
        if groups:
            found["groups"] = list(dict.fromkeys(groups))
        return found or None

    # == customers ========================================================================
    def _entry(self, index: str, org: str, pool: str, key: Hashable) -> tuple[Any, int] | None:
        """The oldest ``(n, doc id)`` of ``pool`` whose ``index`` key is ``key``; the
        ``contact`` pool is the ``customer`` pool without its Accounts (AC-UPD-1)."""
        if pool != "contact":
            entries = self.customers.ordered("keys", key_group(index, org, pool, key), limit=1)
            return entries[0] if entries else None
        for entry in self.customers.ordered("keys", key_group(index, org, "customer", key)):
            doc = self.customers.get(entry[1])
            if doc is not None and doc["kind"] == "contact":
                return entry
        return None

    def _has_code(self, org: str, code: Any) -> bool:
        """A customer of ``org`` is stored under this customerId (a contact or an account is
        in the customer pool, a lead in the lead pool)."""
        return any(
            self.customers.ordered_count("keys", key_group("customerId", org, pool, code))
            for pool in ("customer", "lead")
        )

    def _first(self, index: str, org: str, pool: str, key: Hashable | None) -> Record | None:
        """The oldest customer of ``pool`` whose ``index`` key is ``key``."""
        if key is None:
            return None
        entry = self._entry(index, org, pool, key)
        return self.customers.get(entry[1]) if entry else None

    def _oldest(
        self, index: str, org: str, pool: str, keys: Iterable[Hashable | None]
    ) -> Record | None:
        """The oldest customer having any of ``keys``."""
        best: tuple[Any, int] | None = None
        for key in keys:
            if key is None:
                continue
            entry = self._entry(index, org, pool, key)
            if entry and (best is None or entry < best):
                best = entry
        return self.customers.get(best[1]) if best else None

    def _fall_through(
        self, org: str, pool: str, steps: Sequence[tuple[str, Sequence[Hashable | None]]]
    ) -> Record | None:
        """Duplicate-style search: each key in order, the first that finds anything wins."""
        for index, keys in steps:
            for key in keys:
                found = self._first(index, org, pool, key)
                if found is not None:
                    return found
        return None

    def _duplicate(self, org: str, pool: str, p: Profile) -> Record | None:
        """add-contact/add-lead: contactId → passport → each email → each phone (AC-DUP-1)."""
        return self._fall_through(
            org,
            pool,
            [
                ("contactId", [p.contact_id]),
                ("passport", [p.passport]),
                ("email", [norm_email(e["value"]) for e in p.emails]),
                ("phone", [digits(e["value"]) for e in p.phones]),
            ],
        )

    def _find_customer(self, org: str, p: Profile) -> Record | None:
        """dealWith / contacts: customerId → passport → each email → each phone."""
        return self._fall_through(
            org,
            _pool(p.contact_type),
            [
                ("customerId", [p.customer_id]),
                ("passport", [p.passport]),
                ("email", [norm_email(e["value"]) for e in p.emails]),
                ("phone", [digits(e["value"]) for e in p.phones]),
            ],
        )

    def _find_company(self, org: str, company: Company, by_code: bool) -> Record | None:
        """An Account by (``customerId`` on updates →) name → each email → each phone."""
        return self._fall_through(
            org,
            "account",
            [
                ("customerId", [company.customer_id if by_code else None]),
                ("name", [norm_name(company.name)]),
                ("email", [norm_email(e["value"]) for e in company.emails]),
                ("phone", [digits(e["value"]) for e in company.phones]),
            ],
        )

    def _company_for(self, call: Call, company: Company, by_code: bool) -> str | None:
        """Find-or-create the Account of ``companyContact``; None when it has no name."""
        found = self._find_company(call.org_id, company, by_code)
        if found is not None:
            return str(found["customerId"])
        if company.name is None:
            return None
        p = Profile(
            name=company.name,
            emails=company.emails,
            phones=company.phones,
            websites=company.websites,
            addresses=company.addresses,
            im=company.im,
        )
        return self._create(call, "account", p, auto_company=True)

    def _create(
        self,
        call: Call,
        kind: str,
        p: Profile,
        auto_company: bool = False,
        company_by_code: bool = False,
    ) -> str:
        """A new customer with History ``created`` and its side effects (AC-ADD-2, AC-AUTO-1)."""
        listener = call.listener
        company_id = None
        if kind == "contact" and p.company is not None:
            company_id = self._company_for(call, p.company, by_code=company_by_code)
        if auto_company:
            tag_list: list[str] = []
        elif p.tags is not None:
            tag_list = p.tags
        else:
            tag_list = [listener["default_tag"]] if listener["default_tag"] else []
        source = listener["lead_source" if kind == "lead" else "contact_source"]
        code = self._next_code(call.org_id, kind)
        record = {
            "customerId": code,
            "org_id": call.org_id,
            "kind": kind,
            **CUSTOMER_DEFAULTS,  # not copied: the store keeps a copy of what it is given
            **{k: v for k, v in p.scalars().items() if v is not None},
            "emails": p.emails,
            "phones": p.phones,
            "addresses": p.addresses,
            "websites": p.websites,
            "im": p.im,
            "tags": tag_list,
            "cusFields": p.cus_fields,
            "source": source,
            "companyId": company_id,
            "companyLead": p.company_lead if kind == "lead" else None,
            "history": [self._history_line(call, "created")],
            "notes": [],
            "created_by": call.sender,
        }
        self.customers.insert(record)
        if not auto_company:
            self._auto_messages(call, record)
        return code

    def _create_from(self, call: Call, p: Profile) -> str:
        """Create a dealWith/contacts customer exactly as add-contact/add-lead would, except
        that ``companyContact.customerId`` names its Account first (AC-DEAL-1)."""
        if _pool(p.contact_type) == "lead":
            return self._create(call, "lead", p)
        kind = "account" if p.type == 1 else "contact"
        return self._create(call, kind, p, company_by_code=True)

    def _resolve_all(self, call: Call, contacts: Iterable[Profile]) -> list[str]:
        """A deal's ``contacts``: find-or-create each; unresolvable entries are skipped."""
        codes: list[str] = []
        for p in contacts:
            found = self._find_customer(call.org_id, p)
            if found is not None:
                codes.append(found["customerId"])
            elif p.name is not None:
                codes.append(self._create_from(call, p))
        return list(dict.fromkeys(codes))

    def _update(self, call: Call, p: Profile, pool: str) -> Result:
        """update-contact / update-lead: requirement, target, merge (AC-UPD-2 to AC-UPD-5)."""
        if not (p.contact_id or p.passport or p.emails or p.phones or p.customer_id):
            raise Invalid("one of contactId, passport, emails, phones, customerId is required")
        target, how, searched = self._target(call.org_id, pool, p)
        if target is None:
            return "ignored", None, f"no {POOL_WORDS[searched]} has {how}"
        changes = {k: v for k, v in p.scalars().items() if v is not None}
        merges = (
            ("emails", p.emails, lambda e: norm_email(e["value"])),
            ("phones", p.phones, lambda e: digits(e["value"]) or e["value"]),
            ("addresses", p.addresses, lambda e: tuple(sorted(map(repr, e.items())))),
            ("websites", p.websites, lambda e: e["value"]),
            ("im", p.im, lambda e: (e["protocol"], e["value"])),
        )
        for key, given, identity in merges:
            if given:
                changes[key] = _append(target[key], given, identity)
        if p.tags:
            changes["tags"] = list(dict.fromkeys([*target["tags"], *p.tags]))
        if p.cus_fields:
            changes["cusFields"] = _upsert(target["cusFields"], p.cus_fields)
        if pool == "lead" and p.company_lead is not None:
            changes["companyLead"] = p.company_lead
        if target["kind"] == "contact" and p.company is not None:
            company_id = self._company_for(call, p.company, by_code=True)
            if company_id is not None:
                changes["companyId"] = company_id
        self.customers.update(target.doc_id, changes)
        self._history(target, call, "updated")
        return "updated", target["customerId"], None

    def _target(self, org: str, pool: str, p: Profile) -> tuple[Record | None, str, str]:
        """customerId → contactId → name → emails → phones → passport: first given only.

        Returns the record (or None), the key in words and the pool searched. A code names
        its record in the whole pool; on update-contact the other keys search Accounts for
        ``type`` 1 and Contacts otherwise (AC-UPD-1).
        """
        if p.customer_id is not None:
            found = self._first("customerId", org, pool, p.customer_id)
            return found, f"customerId {p.customer_id!r}", pool
        if p.contact_id is not None:
            found = self._first("contactId", org, pool, p.contact_id)
            return found, f"contactId {p.contact_id!r}", pool
        if pool == "customer":
            pool = "account" if p.type == 1 else "contact"
        if p.name is not None:
            found = self._first("name", org, pool, norm_name(p.name))
            return found, f"name {p.name!r}", pool
        if p.emails:
            keys = (norm_email(e["value"]) for e in p.emails)
            found = self._oldest("email", org, pool, keys)
            return found, f"email {[e['value'] for e in p.emails]}", pool
        if p.phones:
            found = self._oldest("phone", org, pool, (digits(e["value"]) for e in p.phones))
            return found, f"phone {[e['value'] for e in p.phones]}", pool
        found = self._first("passport", org, pool, p.passport)
        return found, f"passport {p.passport!r}", pool

    def _history(self, record: Record, call: Call, kind: str) -> None:
        self._add_line("customers", record, "history", self._history_line(call, kind))

    def _add_line(self, table: str, record: Record, field: str, line: dict[str, Any]) -> None:
        """Append ``line`` to the ``field`` list of ``record`` of ``table`` (``lines``)."""
        self.lines.insert({"of": f"{table}:{record.doc_id}:{field}", "line": line})

    def _with_lines(self, table: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        """The records of ``table`` as a dump shows them: copies, their ``fields`` lists
        followed by the lines requests added (one pass over ``lines``, not a lookup each)."""
        added: dict[str, list[dict[str, Any]]] = {}
        if len(self.lines):
            for row in self.lines:
                added.setdefault(row["of"], []).append(row["line"])
        records = []
        for r in self.store.table(table):
            doc = _copy(r)
            if added:
                for field in fields:
                    more = added.get(f"{table}:{r.doc_id}:{field}")
                    if more:
                        doc[field].extend(_copy(line) for line in more)
            records.append(doc)
        return records

    def _history_line(self, call: Call, kind: str) -> dict[str, Any]:
        texts = {
            "created": "Created from webhook listener {}",
            "duplicate": "Duplicate data received from webhook listener {}; nothing was created",
            "updated": "Updated from webhook listener {}",
        }
        return {
            "type": kind,
            "listener_id": call.listener_id,
            "senderUser": call.sender,
            "at": self._now(),
            "text": texts[kind].format(call.listener_id),
        }

    def _next_code(self, org: str, kind: str) -> str:
        prefix = PREFIX[kind]
        n = self._counters.next(("code", org, prefix))
        return f"{prefix}-{n}"

    # == deals ============================================================================
    def _deal(self, org: str, deal_id: str | None, name: str | None) -> Record | None:
        """By ``dealId`` only when given, else the oldest deal with that name."""
        if deal_id is not None:
            found = self.deals.lookup("dealId", (org, deal_id))
            return found[0] if found else None
        # a name without a key is in no group of the index: no entries
        entries = self.deals.ordered("name", (org, norm_name(name)), limit=1)
        return self.deals.get(entries[0][1]) if entries else None

    def _configured(self, org: str, catalogue: str, value: str | None) -> str | None:
        """The org's spelling of a configured stage/category/package/currency, else None."""
        if value is None:
            return None
        return self._catalogues[org][catalogue].get(value.casefold())

    # == side effects =====================================================================
    def _take_sms(self, org: dict[str, Any]) -> bool:
        """May the org send one SMS now? A trial SMS uses up one of the remaining ones.

        ``trial_sms_remaining`` of the org's configuration is what the state loaded; the
        store counts the trial SMS taken since (one atomic step, so two backends over one
        store never both take the last one). A refused attempt counts too: what remains
        is never below 0 (``_trial_left``)."""
        if org["sms_account_configured"]:
            return True
        trial = int(org["trial_sms_remaining"])
        return trial > 0 and self._counters.next(("trial_sms", org["org_id"])) <= trial

    def _trial_left(self, org: Mapping[str, Any]) -> int:
        trial = int(org["trial_sms_remaining"])
        if trial <= 0:
            return trial
        return max(0, trial - self._counters.get(("trial_sms", org["org_id"])))

    def _sms(self, call: Call, to: str, content: str, customer_id: str | None, origin: str) -> None:
        self.ctx.send(
            "sms",
            to=to,
            content=content,
            customerId=customer_id,
            origin=origin,
            listener_id=call.listener_id,
            org_id=call.org_id,
        )

    def _auto_messages(self, call: Call, record: Mapping[str, Any]) -> None:
        """Auto email, then auto SMS, each to the first address (AC-AUTO-2, AC-AUTO-3)."""
        mail = call.listener["auto_email"]
        if mail["enabled"] and mail["subject"] and mail["body"] and record["emails"]:
            self.ctx.send(
                "email",
                to=record["emails"][0]["value"],
                subject=mail["subject"],
                body=mail["body"],
                customerId=record["customerId"],
                listener_id=call.listener_id,
                org_id=call.org_id,
            )
        sms = call.listener["auto_sms"]
        if sms["enabled"] and sms["content"] and record["phones"] and self._take_sms(call.org):
            self._sms(
                call, record["phones"][0]["value"], sms["content"], record["customerId"], "auto"
            )

    def _now(self) -> str:
        return iso(self.ctx.clock.now())

    # == configuration: orgs and listeners, held outside the store ========================
    def _add_org(self, config: dict[str, Any]) -> None:
        org_id = config["org_id"]
        self.orgs[org_id] = config
        self._users[org_id] = {u.strip().lower(): u for u in reversed(config["users"])}
        self._catalogues[org_id] = {
            c: {v.strip().casefold(): v for v in reversed(config[c])}
            for c in (*CATALOGUES, "groups")
        }

    def _add_listener(self, listener: dict[str, Any]) -> list[tuple[int, str]]:
        """Adds the listener; returns its allowed IPs that are no address or network (with
        their positions), which it leaves out of its networks."""
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        bad: list[tuple[int, str]] = []
        for j, ip in enumerate(listener["allowed_ips"]):
            try:
                networks.append(ipaddress.ip_network(ip.strip(), strict=False))
            except ValueError:
                bad.append((j, ip))
        self.listeners[listener["listener_id"]] = listener
        self._networks[listener["listener_id"]] = networks
        return bad

    def dump_config(self) -> dict[str, Any]:
        """Orgs (``trial_sms_remaining`` as loaded: the store counts those used since) and
        listeners."""
        return {
            **super().dump_config(),
            "orgs": [_copy(o) for o in self.orgs.values()],
            "listeners": [_copy(li) for li in self.listeners.values()],
        }

    def load_config(self, doc: Mapping[str, Any]) -> None:
        super().load_config(doc)
        for org in doc["orgs"]:
            self._add_org(_copy(org))
        for listener in doc["listeners"]:
            self._add_listener(_copy(listener))

    # == state document ===================================================================
    def load_state(self, doc: Mapping[str, Any]) -> None:
        problems: list[dict[str, Any]] = []

        def problem(pointer: str, message: str) -> None:
            problems.append({"pointer": pointer, "message": message})

        for i, o in enumerate(doc.get("orgs", [])):
            if o["org_id"] in self.orgs:
                problem(f"/orgs/{i}/org_id", f"org_id {o['org_id']!r} is used twice")
                continue
            self._add_org(
                {
                    "org_id": o["org_id"],
                    "users": list(o.get("users", [])),
                    "groups": list(o.get("groups", [])),
                    "sms_account_configured": o.get("sms_account_configured", False),
                    "trial_sms_remaining": o.get("trial_sms_remaining", 0),
                    **{c: list(o.get(c, [])) for c in CATALOGUES},
                }
            )

        for i, li in enumerate(doc.get("listeners", [])):
            at = f"/listeners/{i}"
            if li["listener_id"] in self.listeners:
                problem(f"{at}/listener_id", f"listener_id {li['listener_id']!r} is used twice")
                continue
            if li["org_id"] not in self.orgs:
                problem(f"{at}/org_id", f"no org {li['org_id']!r}")
                continue
            mail, sms = li.get("auto_email", {}), li.get("auto_sms", {})
            bad_ips = self._add_listener(
                {
                    "listener_id": li["listener_id"],
                    "org_id": li["org_id"],
                    "default_tag": li.get("default_tag"),
                    "contact_source": li.get("contact_source"),
                    "lead_source": li.get("lead_source"),
                    "auto_email": {
                        "enabled": mail.get("enabled", False),
                        "subject": mail.get("subject"),
                        "body": mail.get("body"),
                    },
                    "auto_sms": {
                        "enabled": sms.get("enabled", False),
                        "content": sms.get("content"),
                    },
                    "allowed_ips": list(li.get("allowed_ips", [])),
                }
            )
            for j, ip in bad_ips:
                problem(f"{at}/allowed_ips/{j}", f"not an IP address or network: {ip!r}")

        companies: list[tuple[str, str, str]] = []
        known = frozenset(("customerId", "org_id", "kind", *CUSTOMER_DEFAULTS))
        # The (org, code) of the customers loaded here, and the (org, id) of the deals and
        # tickets: the tables' indexes are read only for records stored before (none on a
        # state load, which builds a new backend), so that they are filled in bulk at the
        # end instead of kept on every insert (and filled again then)
        codes: set[tuple[str, str]] = set()
        held = len(self.customers) > 0
        for i, c in enumerate(doc.get("customers", [])):
            org, code = c["org_id"], c["customerId"]
            prefix = code.partition("-")[0]
            # the state schema makes a given kind agree with the code's prefix
            kind = c.get("kind", KIND_BY_PREFIX[prefix])
            if org not in self.orgs:
                problem(f"/customers/{i}/org_id", f"no org {org!r}")
                continue
            pair = (org, code)
            if pair in codes or (held and self._has_code(org, code)):
                problem(
                    f"/customers/{i}/customerId",
                    f"customerId {code!r} is used twice in org {org!r}",
                )
                continue
            if c.get("companyId") is not None:
                if kind != "contact":
                    problem(f"/customers/{i}/companyId", "only a contact belongs to a company")
                    continue
                companies.append((f"/customers/{i}/companyId", org, c["companyId"]))
            # no copies here: the store copies what it is given (one deep copy per record)
            record = {"customerId": code, "org_id": org, "kind": kind, **CUSTOMER_DEFAULTS}
            if c.keys() <= known:  # the same dict, in fewer steps (a load makes 100,000)
                record.update(c)
            else:
                record.update({k: c[k] for k in CUSTOMER_DEFAULTS if k in c})
            record["history"] = [{**HISTORY_DEFAULTS, **h} for h in record["history"]]
            record["notes"] = [{**NOTE_DEFAULTS, **n} for n in record["notes"]]
            self.customers.insert(record)
            codes.add(pair)
            self._counters.raise_to(("code", org, prefix), code_number(code))
        for pointer, org, company_id in companies:
            if self._first("customerId", org, "account", company_id) is None:
                problem(pointer, f"no account {company_id!r} in org {org!r}")

        def customer(org: str, ref: Any) -> bool:
            return (org, ref) in codes or (held and self._has_code(org, ref))

        deal_ids: set[tuple[str, str]] = set()
        deals_held = len(self.deals) > 0
        for i, d in enumerate(doc.get("deals", [])):
            at = f"/deals/{i}"
            org, deal_id = d["org_id"], d["dealId"]
            if org not in self.orgs:
                problem(f"{at}/org_id", f"no org {org!r}")
                continue
            pair = (org, deal_id)
            if pair in deal_ids or (deals_held and self.deals.lookup_ids("dealId", pair)):
                problem(f"{at}/dealId", f"dealId {deal_id!r} is used twice in org {org!r}")
                continue
            refs = [("customer", d.get("customer"))]
            refs += [(f"contacts/{j}", ref) for j, ref in enumerate(d.get("contacts", []))]
            missing = [
                (where, ref) for where, ref in refs if ref is not None and not customer(org, ref)
            ]
            for where, ref in missing:
                problem(f"{at}/{where}", f"no customer {ref!r} in org {org!r}")
            if missing:
                continue
            record = {"dealId": deal_id, "org_id": org, **DEAL_DEFAULTS}
            record.update({k: d[k] for k in DEAL_DEFAULTS if k in d})
            record["notes"] = [{**NOTE_DEFAULTS, **n} for n in record["notes"]]
            self.deals.insert(record)
            deal_ids.add(pair)
            self._counters.raise_to(("deal", org), int(deal_id))

        ticket_ids: set[tuple[str, str]] = set()
        tickets_held = len(self.tickets) > 0
        for i, t in enumerate(doc.get("tickets", [])):
            at = f"/tickets/{i}"
            org, ticket_id = t["org_id"], t["ticketId"]
            if org not in self.orgs:
                problem(f"{at}/org_id", f"no org {org!r}")
                continue
            pair = (org, ticket_id)
            if pair in ticket_ids or (tickets_held and self.tickets.lookup_ids("ticketId", pair)):
                problem(f"{at}/ticketId", f"ticketId {ticket_id!r} is used twice in org {org!r}")
                continue
            ref = t.get("customer")
            if ref is not None and not customer(org, ref):
                problem(f"{at}/customer", f"no customer {ref!r} in org {org!r}")
                continue
            deal_ref = t.get("dealId")
            if deal_ref is not None and not (
                (org, deal_ref) in deal_ids
                or (deals_held and self.deals.lookup_ids("dealId", (org, deal_ref)))
            ):
                problem(f"{at}/dealId", f"no deal {deal_ref!r} in org {org!r}")
                continue
            record = {"ticketId": ticket_id, "org_id": org, **TICKET_DEFAULTS}
            record.update({k: t[k] for k in TICKET_DEFAULTS if k in t})
            self.tickets.insert(record)
            ticket_ids.add(pair)
            self._counters.raise_to(("ticket", org), int(ticket_id))
        if problems:
            raise StateInvalid(problems)

    def dump_state(self) -> dict[str, Any]:
        return {
            "orgs": [
                {**_copy(o), "trial_sms_remaining": self._trial_left(o)} for o in self.orgs.values()
            ],
            "listeners": [_copy(li) for li in self.listeners.values()],
            "customers": self._with_lines("customers", ("history", "notes")),
            "deals": self._with_lines("deals", ("notes",)),
            "tickets": [_copy(t) for t in self.tickets],
        }


# -- helpers ------------------------------------------------------------------------------
def _pool(contact_type: str | None) -> str:
    """``contactType`` lead → the Leads pool; absent or customer → Contacts and Accounts."""
    return "lead" if contact_type == "lead" else "customer"


def _object(data: Mapping[str, Any], key: str) -> bool:
    """Is ``key`` a provided object? (raises ``Invalid`` when it is provided as something else)"""
    value = data.get(key)
    if absent(value):
        return False
    if not isinstance(value, dict):
        raise Invalid(f"{key} must be an object")
    return True


def _append(
    current: list[Entry], given: Iterable[Entry], identity: Callable[[Entry], Any]
) -> list[Entry]:
    """``current`` plus each given entry not already present (by ``identity``)."""
    seen = {identity(e) for e in current}
    merged = list(current)
    for entry in given:
        key = identity(entry)
        if key not in seen:
            seen.add(key)
            merged.append(entry)
    return merged


def _upsert(current: list[Entry], given: Iterable[Entry]) -> list[Entry]:
    """``cusFields`` upserted by name: a given name replaces its value, a new name appends."""
    merged = {e["name"]: e for e in current}
    for entry in given:
        merged[entry["name"]] = entry
    return list(merged.values())


def _ip_in(
    client_ip: str | None, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    if client_ip is None:
        return False
    try:
        ip = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    # an IPv4 client of a dual-stack socket (``serve --host ::``) arrives as ::ffff:a.b.c.d
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return any(ip in net or (mapped is not None and mapped in net) for net in networks)


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (records never share lists with their dumps)."""
    # Scalars are most of a record: test them inline instead of recursing into each one.
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if isinstance(v, dict | list) else v for v in value]
    return value
