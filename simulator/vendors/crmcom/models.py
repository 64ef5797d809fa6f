"""CRM.COM Web API v2 backend: tokens, contact information, pending provisioning
(docs/vendors/crmcom.md).

Every operation checks in the documented order (CC-ORDER-1): the route has the token
checked (``authorize``) and the request parsed into typed arguments (``parsing.py``:
mandatory parameters, then values) before it calls the operation's method here, which
does the entity lookups, the uniqueness checks and the action. Lookups go through
indexes: contacts by ``(identifier field, value)``, tokens by token, pending provisioning
requests by provider in ``(scheduled_date, number)`` order.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import json
import math
import re
import secrets
from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from simulator.clock import iso, parse_iso
from simulator.errors import StateInvalid, utf8_json
from simulator.vendors._base import Context, Kept, VendorBackend
from simulator.vendors.crmcom import errors, parsing
from simulator.vendors.crmcom.parsing import (
    DEMO_IDENTIFIERS,
    DEMOGRAPHIC_IDS,
    IDENTIFIER_FIELDS,
    PROVIDER_FIELDS,
    SETS,
    UDF_FLOATS,
    UDF_STRINGS,
    missing,
    valid_date,
)

WINDOW = timedelta(days=7)
# store document naming the provisioning requests' current version: every write to that
# table puts a new one, and get_pending's cache holds lists of one version only
REQUESTS_VERSION = "provisioning_requests.version"
PAGES = 64  # get_pending pages kept per backend, while the requests are one version
ITEMS = 1024  # get_pending items (a request as a page shows it, about 1 KiB) kept likewise
DEFAULT_TTL = 7200
DEFAULT_UNIQUENESS = ("passport_number", "id_number")

# -- contact information fields (the request's, and its parsing, are in parsing.py) -----
ONLY_FOR_TYPE = {
    "social_security_number": "PERSON",
    "vat_registration_number": "COMPANY",
    "registration_number": "COMPANY",
}
UNIQUENESS_CHOICES = (
    "id_number",
    "passport_number",
    "social_security_number",
    "vat_registration_number",
    "registration_number",
)
DEMOGRAPHIC_KEYS = ("gender", *DEMOGRAPHIC_IDS, "date_of_birth", *DEMO_IDENTIFIERS.values())
CONTACT_KEYS = (
    "id",
    "number",
    "type",
    "life_cycle_state",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "company_name",
    "vat_registration_number",
    "registration_number",
    "notes",
    "organizational_unit",
    "preferred_language",
    "category",
    "owned_by_group",
    "privacy_level",
    "demographics",
    "addresses_set",
    "phones_set",
    "emails_set",
    *UDF_STRINGS,
    *UDF_FLOATS,
)
REPRESENTATION_KEYS = (*CONTACT_KEYS[:4], "name", *CONTACT_KEYS[4:])

# -- provisioning ---------------------------------------------------------------------------
REQUEST_KEYS = (
    "number",
    "provider_id",
    "subscription_number",
    "account_number",
    "type",
    "life_cycle_state",
    "created_date",
    "scheduled_date",
    "executed_date",
)
PENDING_KEYS = (
    "number",
    "type",
    "life_cycle_state",
    "created_date",
    "scheduled_date",
    "executed_date",
)


class Item(NamedTuple):
    """A provisioning request as get_pending's pages show it, with its JSON: ``head`` opens
    the subscription's group when the request is the group's first, ``encoded`` is the
    item (None: not UTF-8, a lone surrogate)."""

    subscription: str
    account: str | None
    item: dict[str, Any]
    head: bytes | None
    encoded: bytes | None
    alone: bytes | None  # the group when the request is its only one


Items = dict[int, Item]


def _utf8(value: Any) -> bytes | None:
    """``value`` as ``encode_json`` writes it when the whole answer is UTF-8; None if not."""
    try:
        return utf8_json(value)
    except UnicodeEncodeError:
        return None


def _item(r: Mapping[str, Any]) -> Item:
    """Request ``r`` as a page shows it."""
    item = {k: r.get(k) for k in PENDING_KEYS}
    subscription, account = r["subscription_number"], r.get("account_number")
    number, account_json = _utf8(subscription), _utf8(account)
    head = (
        None
        if number is None or account_json is None
        else b'{"subscription_number": '
        + number
        + b', "account_number": '
        + account_json
        + b', "pending_provisioning_requests_set": ['
    )
    encoded = _utf8(item)
    alone = None if head is None or encoded is None else head + encoded + b"]}"
    return Item(subscription, account, item, head, encoded, alone)


def _page_json(groups: list[list[Item]], wanted: bool) -> bytes | None:
    """``encode_json`` of the page of these groups of requests (``wanted``: with its
    ``subscriptions_set``, else ``{}``), joined from the requests' JSON; None when a part
    is not UTF-8 (then the page is encoded whole, as ASCII)."""
    if not wanted:
        return b"{}"
    out = []
    for items in groups:
        first = items[0]
        if len(items) == 1:  # most groups: one request of the subscription on the page
            if first.alone is None:
                return None
            out.append(first.alone)
            continue
        parts = [shown.encoded for shown in items]
        if first.head is None or None in parts:
            return None
        out.append(first.head + b", ".join(part for part in parts if part is not None) + b"]}")
    return b'{"subscriptions_set": [' + b", ".join(out) + b"]}"


TOKEN_KEYS = (
    "token",
    "issued_at",
    "released_at",
    "username",
    "organisation",
    "web_api_key",
    "unit",
)
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CONTACT_NUMBER = re.compile(r"CI([0-9]+)")


def contact_value(contact: Mapping[str, Any], field: str) -> Any:
    """The value of an identifier field, wherever it lives in the stored contact."""
    if field in DEMOGRAPHIC_IDS:
        return (contact.get("demographics") or {}).get(field)
    return contact.get(field)


# each identifier field, and whether a stored contact keeps it in its demographics
_ID_PLACES = tuple((f, f in DEMOGRAPHIC_IDS) for f in IDENTIFIER_FIELDS)


def value_key(field: str, value: Any) -> Hashable:
    """The ``value`` index's key of a field's value: ``field:value``, one string (a tuple
    with its string cost about 110 bytes more per key: docs/serving.md "Memory per
    record"). No field name holds a colon, so the first one ends it; a value that is not a
    string gets a tuple, which no stored key is."""
    return f"{field}:{value}" if isinstance(value, str) else (field, value)


def _contact_keys(contact: Mapping[str, Any]) -> list[str]:
    """``value_key`` of each identifier field holding a non-empty string (as
    ``contact_value`` reads it), then of ``name``: the list filter (CC-L1)."""
    demographics = contact.get("demographics") or {}
    keys = [
        f"{f}:{v}"
        for f, inside in _ID_PLACES
        if (v := (demographics if inside else contact).get(f)) and isinstance(v, str)
    ]
    name = contact_name(contact)
    if name:
        keys.append(f"name:{name}")
    return keys


def _creation_order(_contact: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    """Every contact in one group, ordered by document id: the order contacts were loaded
    or created (CC-L1), which an update does not change."""
    return [(None, 0)]


def contact_name(contact: Mapping[str, Any]) -> str | None:
    """PERSON: first, middle and last name joined by one space; COMPANY: company name."""
    if contact.get("type") == "COMPANY":
        name = contact.get("company_name")
        return name if isinstance(name, str) else None
    parts = [contact.get(k) for k in ("first_name", "middle_name", "last_name")]
    joined = " ".join([p.strip() for p in parts if isinstance(p, str) and p.strip()])
    return joined or None


_BLANK_CONTACT: dict[str, Any] = {
    **dict.fromkeys(CONTACT_KEYS),
    "life_cycle_state": "MARKETING",
    "organizational_unit": 0,
}
_BLANK_DEMOGRAPHICS = dict.fromkeys(DEMOGRAPHIC_KEYS)
_BLANK_ROWS = tuple((kind.plural, dict.fromkeys(kind.keys)) for kind in SETS)


def full_contact(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored contact with every field, in ``CONTACT_KEYS``' order, the empty ones null
    or blank but for the defaults in ``_BLANK_CONTACT`` (the contacts table's ``fill``): a
    state load stores its contacts as they were sent (``_load_contacts``), a request's
    write stores them whole. New objects throughout; a whole contact gives an equal one."""
    contact = {**_BLANK_CONTACT, **stored}
    contact["demographics"] = {**_BLANK_DEMOGRAPHICS, **(stored.get("demographics") or {})}
    for plural, blank in _BLANK_ROWS:
        rows = stored.get(plural)
        contact[plural] = [{**blank, **row} for row in rows] if rows else []
    return contact


def empty_contact() -> dict[str, Any]:
    """A new contact: every field empty but its defaults (a MARKETING contact of unit 0)."""
    return full_contact({})


def _request_order(r: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    if r.get("life_cycle_state") != "PENDING":
        return []
    return [(r["provider_id"], (_order_instant(r["scheduled_date"]), r["number"]))]


def _request_created(r: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    if r.get("life_cycle_state") != "PENDING":
        return []
    return [(r["provider_id"], _order_instant(r["created_date"]))]


@functools.lru_cache(maxsize=256)
def _asked(fields: frozenset[str]) -> tuple[str, ...]:
    """The representation's keys that ``fields_set`` names, in the representation's order."""
    return tuple(k for k in REPRESENTATION_KEYS if k in fields)


class CrmcomBackend(VendorBackend):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.token_ttl_seconds = DEFAULT_TTL
        self.uniqueness_fields: list[str] = list(DEFAULT_UNIQUENESS)
        self.users: list[dict[str, Any]] = []
        self.web_api_keys: list[dict[str, Any]] = []
        self.providers: list[dict[str, Any]] = []
        self._users: dict[tuple[str, str], dict[str, Any]] = {}
        self._keys: dict[str, dict[str, Any]] = {}
        self._providers: dict[tuple[str, str], dict[str, Any]] = {}
        self._counters = self.store.counters  # "number": the highest CI number given
        # provider id -> (version, cutoff, eligible [(order key, doc id)]) for get_pending
        # paging; ``version`` is the requests' (REQUESTS_VERSION) the list was built from
        self._eligible: dict[str, tuple[Any, int, list[tuple[Any, int]]]] = {}
        # get_pending's answers while the requests are at ``version``: (version, {(doc ids
        # of the page, keys): Page}, {doc id: Item}); a poll of an unchanged page reads no
        # record, and a page of requests shown before (another offset) reads none either
        self._pages: tuple[Any, dict[tuple[tuple[int, ...], tuple[str, ...]], Kept], Items] = (
            None,
            {},
            {},
        )
        self.tokens = self.store.table("tokens", indexes={"token": lambda t: [t["token"]]})
        self.contacts = self.store.table(
            "contacts",
            indexes={"value": _contact_keys},
            ordered={"created": _creation_order},
            fill=full_contact,
        )
        # no hash index by number: only a state load would read it (to refuse a number
        # used twice), and it checks its numbers against a set (the index cost 0.06 s and
        # a copied number per request)
        self.requests = self.store.table(
            "provisioning_requests",
            ordered={"pending": _request_order, "created": _request_created},
        )

    # -- tokens ---------------------------------------------------------------------------
    def authorize(self, token: Any) -> dict[str, Any]:
        """The token's record, or INVALIDTOKEN: missing, unknown, released or expired."""
        if not isinstance(token, str) or not token:
            raise errors.InvalidToken("A token is required.")
        found = self.tokens.lookup("token", token)
        if not found:
            raise errors.InvalidToken("The token is not recognised.")
        record = found[0]
        if record.get("released_at") is not None:
            raise errors.InvalidToken("The token has been released.")
        try:
            expires = parse_iso(record["issued_at"]) + timedelta(seconds=self.token_ttl_seconds)
        except OverflowError:  # past the year 9999, where the clock cannot go: clamp there
            expires = datetime.max.replace(tzinfo=UTC)
        if not self.ctx.clock.now() < expires:
            raise errors.InvalidToken("The token has expired.")
        return dict(record)

    def _issue(
        self,
        *,
        username: str | None,
        organisation: str | None,
        web_api_key: str | None,
        unit: str | None,
    ) -> str:
        now = self.ctx.clock.now()
        while True:
            token = self._mint(
                now, user=username or web_api_key, organisation=organisation, unit=unit
            )
            if not self.tokens.lookup_ids("token", token):
                break
        self.tokens.insert(
            {
                "token": token,
                "issued_at": iso(now),
                "released_at": None,
                "username": username,
                "organisation": organisation,
                "web_api_key": web_api_key,
                "unit": unit,
            }
        )
        return token

    def _mint(
        self, now: datetime, *, user: str | None, organisation: str | None, unit: str | None
    ) -> str:
        """A JWT like the vendor's (CC-T1): HS256 header; payload ``usr``, ``org``, ``oun``,
        ``exp``, ``iat``, ``jti`` with numbers as strings and ``exp - iat`` the lifetime; a
        43-character signature. Times come from the namespace's clock, ``jti`` and the
        signature from its seeded source. ``exp`` is integer arithmetic on epoch seconds,
        so no lifetime or clock (9999-12-31 included) can overflow it."""
        iat = math.floor(now.timestamp())
        claims = {
            "usr": user or "",
            "org": organisation or "",
            "oun": unit or "",
            "exp": str(iat + int(self.token_ttl_seconds)),
            "iat": str(iat),
            "jti": self._hex32(),
        }
        payload = (
            base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
            .rstrip(b"=")
            .decode()
        )
        return f"{JWT_HEADER}.{payload}.{self.ctx.ids.token(43, URLSAFE)}"

    def authenticate(self, login: parsing.Login) -> str:
        """POST authentication/token: a new token for a user of an organisation."""
        user = self._users.get((login.organisation, login.username))
        if user is None or user["password"] != login.password:
            raise errors.InvalidCredentials(
                "The username, password or organisation is not correct."
            )
        return self._issue(
            username=login.username,
            organisation=login.organisation,
            web_api_key=None,
            unit=login.unit,
        )

    def authenticate_web_api_key(self, login: parsing.KeyLogin) -> str:
        """POST authentication/web_api_key/token: a new token for a Web API key."""
        web_api_key = login.web_api_key
        record = self._keys.get(web_api_key) if web_api_key else None
        if record is None:
            raise errors.InvalidCredentials(
                "The Web API key is missing or not recognised."
                if web_api_key
                else "A Web API key is required as the HTTP Basic user name."
            )
        return self._issue(
            username=None,
            organisation=record.get("organisation"),
            web_api_key=web_api_key,
            unit=login.unit,
        )

    def release_token(self, token: str) -> None:
        """POST authentication/token/release: the token (which ``authorize`` accepted) is
        not usable any more."""
        doc_id = self.tokens.lookup_ids("token", token)[0]
        self.tokens.update(doc_id, {"released_at": iso(self.ctx.clock.now())})

    # -- contact information -------------------------------------------------------------
    def _find_contact(self, field: str, value: str) -> tuple[int, dict[str, Any]]:
        """The oldest contact whose ``field`` is ``value`` (type-restricted fields honoured)."""
        only = ONLY_FOR_TYPE.get(field)
        for doc in self.contacts.lookup("value", value_key(field, value)):
            if only is None or doc.get("type") == only:
                return doc.doc_id, dict(doc)
        raise errors.EntityNotFound("contact information", field, value)

    def representation(
        self, contact: Mapping[str, Any], fields: parsing.FieldsSet
    ) -> dict[str, Any]:
        """``data`` of the contact methods (CC-REP-1), only the keys asked for (all: None)."""
        keys = REPRESENTATION_KEYS if fields is None else _asked(fields)
        shown: dict[str, Any] = {}
        for key in keys:  # only the keys asked for are built (the sets are copied)
            if key == "name":
                shown[key] = contact_name(contact)
            elif key == "demographics":
                shown[key] = dict(contact.get(key) or {})
            elif key.endswith("_set"):
                shown[key] = [dict(item) for item in contact.get(key) or []]
            else:
                shown[key] = contact.get(key)
        return shown

    def show_contact_information(self, show: parsing.Show) -> dict[str, Any]:
        """GET contact_information/show: one contact, by identifier ``field=value``."""
        return self.representation(self._find_contact(*show.identifier)[1], show.fields)

    def list_contact_information(self, listing: parsing.Listing) -> list[dict[str, Any]]:
        """GET contact_information/list: one page of contacts, oldest first (CC-L1).

        ``listing.filters`` maps identifier fields and ``name`` to values that must all
        match exactly (a blank one is no filter, and not there). The page comes from the
        indexes: with filters the ids of the most selective one (each then checked against
        the others), without them the creation-ordered index, sliced; its cost does not grow
        with the contacts stored, only with those matching the most selective filter.
        """
        size, skip = listing.page.size, listing.page.skip
        given = listing.filters
        fields_set = listing.fields
        page: Iterable[int]
        if not given:
            page = [i for _, i in self.contacts.ordered_slice("created", None, skip, skip + size)]
        else:
            candidates = min(
                (self.contacts.lookup_ids("value", value_key(*item)) for item in given.items()),
                key=len,
            )
            page = itertools.islice(
                (i for i in candidates if self._matches(i, given)), skip, skip + size
            )
        found = self.contacts.get_many(page)  # a page in one read (one round trip on Redis)
        return [self.representation(doc, fields_set) for doc in found if doc is not None]

    def _matches(self, doc_id: int, filters: Mapping[str, str]) -> bool:
        doc = self.contacts.get(doc_id)
        assert doc is not None  # the index names stored documents only
        for field, value in filters.items():
            actual = contact_name(doc) if field == "name" else contact_value(doc, field)
            only = ONLY_FOR_TYPE.get(field)
            if actual != value or (only is not None and doc.get("type") != only):
                return False
        return True

    def create_contact_information(self, create: parsing.Create) -> dict[str, Any]:
        """POST contact_information/create: a new MARKETING contact with id and CI number."""
        fields_set = create.fields
        changes = create.changes
        new = self._apply(empty_contact(), changes)
        self._check_unique(new, None)
        new["id"] = self._new_id()
        new["number"] = f"CI{self._counters.next('number'):06d}"
        self.contacts.insert(new)
        return self.representation(new, fields_set)

    def update_contact_information(self, update: parsing.Update) -> dict[str, Any]:
        """POST contact_information/update: absent fields untouched, null clears, sets added."""
        fields_set = update.fields
        changes = update.changes
        doc_id, current = self._find_contact(*update.identifier)
        updated = self._apply(current, changes)
        kind = updated["type"]
        for name in ("first_name", "last_name") if kind == "PERSON" else ("company_name",):
            if missing(updated.get(name)):
                raise errors.MandatoryParameterMissing(name)
        self._check_unique(updated, current)
        self.contacts.update(doc_id, updated)
        return self.representation(updated, fields_set)

    def _apply(self, contact: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        """A new contact dict: ``contact`` with ``changes`` applied (sets get new item ids)."""
        out = {**contact}
        out["demographics"] = dict(contact.get("demographics") or {})
        for key, value in changes.items():
            if key == "sets":
                continue
            if key == "demographics":
                out[key] = (
                    dict.fromkeys(DEMOGRAPHIC_KEYS)
                    if value is None
                    else {**out["demographics"], **value}
                )
            else:
                out[key] = value
        for plural, (clear, items) in changes["sets"].items():
            kept = [] if clear else list(out.get(plural) or [])
            kept.extend({"id": self._new_item_id(), **item} for item in items)
            out[plural] = kept
        return out

    def _check_unique(self, contact: Mapping[str, Any], current: Mapping[str, Any] | None) -> None:
        for field in self.uniqueness_fields:
            value = contact_value(contact, field)
            if not isinstance(value, str) or not value:
                continue
            if current is not None and contact_value(current, field) == value:
                continue
            for doc in self.contacts.lookup("value", value_key(field, value)):
                if current is None or doc["id"] != current["id"]:
                    raise errors.ContactInformationNotUnique(field)

    def _hex32(self) -> str:
        """32 upper-case hex characters from the namespace's seeded random source."""
        return f"{self.ctx.ids.random.getrandbits(128):032X}"

    def _new_id(self) -> str:
        while True:
            candidate = self._hex32()
            if not self.contacts.lookup_ids("value", value_key("id", candidate)):
                return candidate

    def _new_item_id(self) -> str:
        return self._hex32()

    # -- provisioning ---------------------------------------------------------------------
    def get_pending_provisioning_requests(self, pending: parsing.Pending) -> Kept:
        """GET provisioning/generic_provisioning_requests/get_pending: one page (CC-PEND-2).

        The answer is kept while the requests stay at one version (a client polls the same
        page until something changes): the same page of the same requests is the same
        answer, returned again without reading a record. Callers must not change it."""
        field, value = pending.provider
        size, skip = pending.page.size, pending.page.skip
        wanted = pending.fields
        keys = tuple(k for k in ("subscriptions_set",) if wanted is None or k in wanted)
        provider = self._providers.get((field, value))
        if provider is None:
            raise errors.EntityNotFound("provisioning provider", field, value)
        cutoff = micros(self.ctx.clock.now() - WINDOW)
        eligible = self._eligible_requests(provider["id"], cutoff)
        version = self._eligible[provider["id"]][0]
        ids = tuple(doc_id for _, doc_id in eligible[skip : skip + size])
        kept_version, pages, items = self._pages
        if kept_version != version:
            pages, items = {}, {}
            self._pages = (version, pages, items)
        found = pages.get((ids, keys))
        if found is None:
            if len(pages) >= PAGES:
                del pages[next(iter(pages))]
            found = pages[ids, keys] = self._pending_page(ids, keys, items)
        return found

    def _pending_page(self, ids: tuple[int, ...], keys: tuple[str, ...], items: Items) -> Kept:
        """The page of requests ``ids``, grouped by subscription in order of first appearance,
        its JSON joined from each request's, encoded once while the requests' version holds
        (``items``: the last ``ITEMS`` encoded)."""
        missing = [doc_id for doc_id in ids if doc_id not in items]
        page_items = {doc_id: items[doc_id] for doc_id in ids if doc_id in items}
        for doc_id, r in zip(missing, self.requests.get_many(missing), strict=True):
            assert r is not None
            if len(items) >= ITEMS:  # the oldest goes: a reader moving through the offsets
                del items[next(iter(items))]  # reads each request again on the next pages
            items[doc_id] = page_items[doc_id] = _item(r)
        groups: dict[str, list[Item]] = {}
        for doc_id in ids:
            shown = page_items[doc_id]
            group = groups.get(shown.subscription)
            if group is None:
                groups[shown.subscription] = [shown]
            else:
                group.append(shown)
        data = {
            "subscriptions_set": [
                {
                    "subscription_number": group[0].subscription,
                    "account_number": group[0].account,
                    "pending_provisioning_requests_set": [shown.item for shown in group],
                }
                for group in groups.values()
            ]
        }
        page = {k: data[k] for k in keys}
        encoded = _page_json(list(groups.values()), bool(keys))
        return Kept(page) if encoded is None else Kept.encoded_as(page, encoded)

    def _eligible_requests(self, provider_id: str, cutoff: int) -> list[tuple[Any, int]]:
        """PENDING requests of the provider created at or after ``cutoff`` (``micros``),
        oldest scheduled first (ties by number).

        Cached per provider: when the cutoff moves forward (a running clock), only the
        requests whose created_date fell out of the window are removed (a range of the
        ``created`` index); a cutoff that moves back rebuilds the list. A cached list is
        used only while the store's requests are the version it was built from: another
        backend over the same store (a shared world's other process) may have written them.
        Without the cache a page costs a read of every pending request of the provider.
        """
        version = self.store.documents.get(REQUESTS_VERSION)
        cached = self._eligible.get(provider_id)
        if cached is not None and cached[0] != version:
            cached = None
        if cached is not None and cached[1] == cutoff:
            return cached[2]
        if cached is not None and cached[1] < cutoff:
            _, old_cutoff, eligible = cached
            gone = self.requests.ordered_count("created", provider_id, old_cutoff, cutoff)
            if gone <= max(16, len(eligible) // 8):
                for _, doc_id in self.requests.ordered("created", provider_id, old_cutoff, cutoff):
                    r = self.requests.get(doc_id)
                    assert r is not None
                    entry = (next(iter(_request_order(r)))[1], doc_id)
                    at = bisect.bisect_left(eligible, entry)
                    if at < len(eligible) and eligible[at] == entry:
                        del eligible[at]
                self._eligible[provider_id] = (version, cutoff, eligible)
                return eligible
        inside = {doc_id for _, doc_id in self.requests.ordered("created", provider_id, cutoff)}
        eligible = [e for e in self.requests.ordered("pending", provider_id) if e[1] in inside]
        self._eligible[provider_id] = (version, cutoff, eligible)
        return eligible

    def _requests_changed(self) -> None:
        """After any write to the requests table: cached get_pending lists are stale, in
        this backend and in every other one over the store. The version is random, not
        from the namespace's seeded ids (it is never seen, and must not move them), so a
        store emptied and loaded again never repeats one."""
        self.store.documents.put(REQUESTS_VERSION, secrets.token_hex(8))

    # -- configuration: users, keys, providers and settings, held outside the store -------
    def _add_user(self, user: dict[str, Any]) -> bool:
        key = (user["organisation"], user["username"])
        if key in self._users:
            return False
        self._users[key] = user
        self.users.append(user)
        return True

    def _add_key(self, record: dict[str, Any]) -> bool:
        if record["key"] in self._keys:
            return False
        self._keys[record["key"]] = record
        self.web_api_keys.append(record)
        return True

    def _add_provider(self, record: dict[str, Any]) -> str | None:
        """Adds the provider, or returns the first of its fields another one has."""
        clash = [f for f in PROVIDER_FIELDS if (f, record[f]) in self._providers]
        if clash:
            return clash[0]
        for f in PROVIDER_FIELDS:
            if record[f] is not None:
                self._providers[(f, record[f])] = record
        self.providers.append(record)
        return None

    def dump_config(self) -> dict[str, Any]:
        return {
            **super().dump_config(),
            "token_ttl_seconds": self.token_ttl_seconds,
            "uniqueness_fields": list(self.uniqueness_fields),
            "users": [dict(u) for u in self.users],
            "web_api_keys": [dict(k) for k in self.web_api_keys],
            "provisioning_providers": [dict(p) for p in self.providers],
        }

    def load_config(self, doc: Mapping[str, Any]) -> None:
        super().load_config(doc)
        self.token_ttl_seconds = doc["token_ttl_seconds"]
        self.uniqueness_fields = list(doc["uniqueness_fields"])
        for user in doc["users"]:
            self._add_user(dict(user))
        for record in doc["web_api_keys"]:
            self._add_key(dict(record))
        for provider in doc["provisioning_providers"]:
            self._add_provider(dict(provider))

    # -- state document -------------------------------------------------------------------
    def load_state(self, doc: Mapping[str, Any]) -> None:
        problems: list[dict[str, Any]] = []

        def problem(pointer: str, message: str) -> None:
            problems.append({"pointer": pointer, "message": message})

        self.token_ttl_seconds = doc.get("token_ttl_seconds", DEFAULT_TTL)
        self.uniqueness_fields = list(doc.get("uniqueness_fields", DEFAULT_UNIQUENESS))

        for i, u in enumerate(doc.get("users", [])):
            user = {k: u[k] for k in ("username", "password", "organisation")}
            if not self._add_user(user):
                problem(f"/users/{i}/username", "this username is used twice in the organisation")

        for i, k in enumerate(doc.get("web_api_keys", [])):
            record = {"key": k["key"], "organisation": k.get("organisation")}
            if not self._add_key(record):
                problem(f"/web_api_keys/{i}/key", "this key is used twice")

        for i, t in enumerate(doc.get("tokens", [])):
            record = {k: t.get(k) for k in TOKEN_KEYS}
            bad = False
            for name in ("issued_at", "released_at"):
                if record[name] is not None and not _valid_instant(record[name]):
                    problem(f"/tokens/{i}/{name}", "not a valid date and time")
                    bad = True
            if self.tokens.lookup_ids("token", record["token"]):
                problem(f"/tokens/{i}/token", "this token is used twice")
                bad = True
            if not bad:
                self.tokens.insert(record)

        self._load_contacts(doc.get("contacts", []), problem)

        for i, p in enumerate(doc.get("provisioning_providers", [])):
            record = {k: p.get(k) for k in PROVIDER_FIELDS}
            clash = self._add_provider(record)
            if clash is not None:
                problem(f"/provisioning_providers/{i}/{clash}", f"this {clash} is used twice")

        now = iso(self.ctx.clock.now())
        blank, known = dict.fromkeys(REQUEST_KEYS), frozenset(REQUEST_KEYS)
        # the numbers of the requests stored (when the table held requests before: never
        # on a state load, which builds a new backend) and of those loaded here
        numbers: set[Any] = {r["number"] for r in self.requests} if len(self.requests) else set()
        numbers.discard(None)
        for i, r in enumerate(doc.get("provisioning_requests", [])):
            # the same dict, in fewer steps when every key is known (a load makes 100,000)
            record = {**blank, **r} if r.keys() <= known else {k: r.get(k) for k in REQUEST_KEYS}
            record["life_cycle_state"] = r.get("life_cycle_state", "PENDING")
            record["created_date"] = r.get("created_date") or now
            record["scheduled_date"] = r.get("scheduled_date") or record["created_date"]
            bad = False
            for name in ("created_date", "scheduled_date", "executed_date"):
                if record[name] is not None and not _valid_instant(record[name]):
                    problem(f"/provisioning_requests/{i}/{name}", "not a valid date and time")
                    bad = True
            if ("id", record["provider_id"]) not in self._providers:
                problem(
                    f"/provisioning_requests/{i}/provider_id",
                    f"no provisioning provider has id '{record['provider_id']}'",
                )
                bad = True
            number = record["number"]
            if number in numbers:
                problem(f"/provisioning_requests/{i}/number", "this number is used twice")
                bad = True
            if not bad:
                self.requests.insert(record)
                if number is not None:
                    numbers.add(number)
        self._requests_changed()

        if problems:
            raise StateInvalid(problems)

    def _load_contacts(self, contacts: list[dict[str, Any]], problem: Any) -> None:
        """Each contact is stored as it was sent, its unknown keys dropped and its missing
        ids and numbers given, not laid over the template of every field: the contacts
        table's ``fill`` (``full_contact``) adds the rest when one is read. A state load's
        contact carries a few of the 44 fields; stored whole it took twice the time to
        build and pack (docs/serving.md, "State loads"). The sent document is not
        changed: a contact that needs a change is copied first."""
        numbers = [CONTACT_NUMBER.fullmatch(c.get("number") or "") for c in contacts]
        self._counters.raise_to("number", max((int(m.group(1)) for m in numbers if m), default=0))
        known = frozenset(CONTACT_KEYS)
        items = [(kind.plural, kind.keys, frozenset(kind.keys)) for kind in SETS]
        # The ids and numbers of the contacts loaded here, as the "value" index holds them
        # (non-empty strings): the index is read only for contacts stored before (none on a
        # state load), so that it is filled in bulk after (store.interface.deferring)
        ids: set[str] = set()
        numbers_taken: set[str] = set()
        before = len(self.contacts) > 0

        def stored(field: str, value: Any) -> bool:
            return bool(self.contacts.lookup_ids("value", value_key(field, value)))

        for i, c in enumerate(contacts):
            contact = c if c.keys() <= known else {k: c[k] for k in CONTACT_KEYS if k in c}
            for plural, keys, fields in items:
                rows = c.get(plural)
                for n, item in enumerate(rows or ()):
                    if item.keys() <= fields and item.get("id"):
                        continue
                    if contact is c:
                        contact = {**c}
                    if contact[plural] is rows:
                        contact[plural] = list(rows)
                    row = {k: item[k] for k in keys if k in item}
                    if not row.get("id"):
                        row["id"] = self._new_item_id()
                    contact[plural][n] = row
            dob = (contact.get("demographics") or {}).get("date_of_birth")
            if dob is not None and not valid_date(dob):
                problem(f"/contacts/{i}/demographics/date_of_birth", "not a valid date")
                continue
            cid, number = contact.get("id"), contact.get("number")
            if not cid or not number:
                contact = {**contact} if contact is c else contact
            if not cid:
                cid = contact["id"] = self._new_id()
            elif cid in ids or (before and stored("id", cid)):
                problem(f"/contacts/{i}/id", "this id is used twice")
                continue
            if not number:
                number = contact["number"] = f"CI{self._counters.next('number'):06d}"
            elif number in numbers_taken or (before and stored("number", number)):
                problem(f"/contacts/{i}/number", "this number is used twice")
                continue
            self.contacts.insert(contact)
            if isinstance(cid, str):
                ids.add(cid)
            if isinstance(number, str):
                numbers_taken.add(number)

    def dump_state(self) -> dict[str, Any]:
        return {
            "users": [dict(u) for u in self.users],
            "web_api_keys": [dict(k) for k in self.web_api_keys],
            "tokens": [dict(t) for t in self.tokens],
            "token_ttl_seconds": self.token_ttl_seconds,
            "uniqueness_fields": list(self.uniqueness_fields),
            "contacts": [copy_contact(c) for c in self.contacts],
            "provisioning_providers": [dict(p) for p in self.providers],
            "provisioning_requests": [dict(r) for r in self.requests],
        }


def copy_contact(contact: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stored contact that shares no dict or list with it."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in contact.items()}
    out["demographics"] = {
        k: dict(v) if isinstance(v, dict) else v for k, v in contact["demographics"].items()
    }
    for kind in SETS:
        out[kind.plural] = [
            {k: dict(v) if isinstance(v, dict) else v for k, v in item.items()}
            for item in contact[kind.plural]
        ]
    return out


@functools.lru_cache(maxsize=1024)
def _instant(text: str) -> datetime:
    """``parse_iso``, remembered: a state load reads each request's dates twice (checked,
    then indexed), most created dates the same (the load's time when none is given)."""
    return parse_iso(text)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """An instant as microseconds since 1970 UTC: what the requests' ordered indexes hold
    (ordered as the instants are). An int, not a datetime: a store writes it as it is, and
    a large load's indexes are compacted with ``marshal``, which writes no datetime
    (``tiny.Table.compact``)."""
    return (at - EPOCH) // MICROSECOND


@functools.lru_cache(maxsize=1024)
def _order_instant(text: str) -> int:
    return micros(_instant(text))


def _valid_instant(text: str) -> bool:
    try:
        _instant(text)
    except ValueError:
        return False
    return True
