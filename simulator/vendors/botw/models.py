"""BOTW CRM API backend: contacts per listing, keys per listing, blacklists (docs/vendors/botw.md).

Every lookup goes through an index of the contacts table (email, phone, names, unique id,
each scoped by listing); the contact id is the document id of the contacts table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from simulator.errors import StateInvalid
from simulator.store import Record
from simulator.vendors._base import Context, VendorBackend
from simulator.vendors.botw import errors, parsing
from simulator.vendors.botw.parsing import Search, clean, digits

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")


def norm_email(email: str | None) -> str | None:
    email = clean(email)
    return email.lower() if email else None


def _lower(value: Any) -> str | None:
    return value.strip().lower() or None if isinstance(value, str) else None


def _key(field: str, norm: Callable[[Any], Any]) -> Callable[[Mapping[str, Any]], Iterable[Any]]:
    def keys(c: Mapping[str, Any]) -> Iterable[Any]:
        value = norm(c.get(field))
        return [(c["listing_id"], value)] if value else []

    return keys


def _full_name(c: Mapping[str, Any]) -> Iterable[Any]:
    first, last = _lower(c.get("first_name")), _lower(c.get("last_name"))
    names = [first, last, f"{first} {last}" if first and last else None]
    return [(c["listing_id"], n) for n in names if n]


def _calendar_date(text: str) -> bool:
    """Whether ``text`` (the schema's ``YYYY-MM-DD HH:MM:SS``) is a real instant: no
    2024-13-45 99:99:99, 2024-02-30 or year 0000 (BW-STATE-1)."""
    try:  # the schema fixed the shape: fromisoformat checks the calendar, in 0.07 µs
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


class BotwBackend(VendorBackend):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.api_keys: dict[str, list[str]] = {}
        self.blacklist: dict[str, dict[str, list[str]]] = {}
        self._blocked: dict[str, tuple[set[str], set[str]]] = {}
        self.contacts = self.store.table(
            "contacts",
            indexes={
                "email": _key("email", norm_email),
                "phone": _key("phone", digits),
                "first_name": _key("first_name", _lower),
                "last_name": _key("last_name", _lower),
                "name": _full_name,
                "unique_id": lambda c: [c.get("unique_id")],
            },
        )

    # -- the checks, in the documented order (the parameters' are in parsing.py) ---------
    def authorize(self, api_key: str | None, listing_id: str) -> None:
        """403 unless the key is known and authorised for the listing (BW-AUTH-1)."""
        if api_key is None or listing_id not in self.api_keys.get(api_key, ()):
            raise errors.Unauthorized()

    def _check_blacklist(self, listing_id: str, email: str | None, phone: str | None) -> None:
        emails, phones = self._blocked.get(listing_id, (set(), set()))
        if norm_email(email) in emails or digits(phone) in phones:
            raise errors.Blacklisted()

    # -- lookups --------------------------------------------------------------------------
    def _by_id(self, listing_id: str, contact_id: str | None) -> list[Record]:
        """The contact whose id is exactly ``contact_id`` as BOTW writes ids (BW-GET-2):
        ASCII digits without a leading zero (ids start at 1). Other text (``01``, ``١``,
        ``²``, digits past what Python reads as a number) is no contact's id."""
        if (
            contact_id is None
            or not (contact_id.isascii() and contact_id.isdigit())
            or contact_id[0] == "0"
        ):
            return []
        try:
            number = int(contact_id)
        except ValueError:  # longer than Python's limit (4,300 digits): no id is that long
            return []
        doc = self.contacts.get(number)
        return [doc] if doc is not None and doc["listing_id"] == listing_id else []

    def _find(self, listing_id: str, email: str | None, phone: str | None) -> Record | None:
        """The oldest contact with this email, else with this phone (PUT without id, BW-PUT-3)."""
        if email is not None:
            found = self.contacts.lookup("email", (listing_id, norm_email(email)))
            if found:
                return found[0]
        if phone is not None:
            found = self.contacts.lookup("phone", (listing_id, digits(phone)))
            if found:
                return found[0]
        return None

    # -- operations -----------------------------------------------------------------------
    def create_contact(
        self, listing_id: str, contact: parsing.Contact, ip_address: str | None
    ) -> int:
        """POST: a new contact, duplicates allowed (BW-CREATE-4). Returns its contact id."""
        c = contact
        self._check_blacklist(listing_id, c.email, c.phone)
        return self._insert(listing_id, c.first_name, c.last_name, c.email, c.phone, ip_address)

    def update_contact(
        self, listing_id: str, update: parsing.Update, ip_address: str | None
    ) -> bool:
        """PUT: update, or create if missing (BW-PUT-2, BW-PUT-3). Returns True when it created."""
        contact_id, c = update.contact_id, update.contact
        first_name, last_name, email, phone = c.first_name, c.last_name, c.email, c.phone
        self._check_blacklist(listing_id, email, phone)
        if contact_id is not None:
            found = self._by_id(listing_id, contact_id)
            target = found[0] if found else None
            if target is None and email is None and phone is None:
                raise errors.ContactNotFound()
        else:
            target = self._find(listing_id, email, phone)
        if target is None:
            self._insert(listing_id, first_name, last_name, email, phone, ip_address)
            return True
        given = {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": digits(phone),
        }
        changes = {k: v for k, v in given.items() if v is not None}
        if changes:
            self.contacts.update(target.doc_id, changes)
        return False

    def delete_contact(self, listing_id: str, search: Search) -> int:
        """DELETE: every contact of the listing matching all given parameters (BW-DEL-2)."""
        found = self._match(listing_id, search)
        if not found:
            raise errors.ContactNotFound()
        self.contacts.remove([d.doc_id for d in found])
        return len(found)

    def search_contacts(self, listing_id: str, search: Search) -> list[dict[str, Any]]:
        """GET: contacts matching every given parameter, by contact id."""
        found = self._match(listing_id, search)
        if not found:
            raise errors.NoContactsFound()
        return [self._result(d) for d in found]

    # -- helpers --------------------------------------------------------------------------
    def _insert(
        self,
        listing_id: str,
        first_name: str | None,
        last_name: str | None,
        email: str | None,
        phone: str | None,
        ip_address: str | None,
    ) -> int:
        contact_id = self.contacts.allocate_id()
        self.contacts.insert(
            {
                "contact_id": contact_id,
                "listing_id": listing_id,
                "unique_id": self._new_unique_id(),
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "phone": digits(phone),
                "created_date": self.ctx.clock.now().strftime(DATE_FORMAT),
                "ip_address": ip_address,
                "source": "api",
                "status": "active",
            },
            contact_id,
        )
        return contact_id

    def _new_unique_id(self) -> str:
        while True:
            candidate = "l-" + self.ctx.ids.digits(8)
            if not self.contacts.lookup_ids("unique_id", candidate):
                return candidate

    def _match(self, listing_id: str, s: Search) -> list[Record]:
        """Candidates from the most selective index, then every predicate (AND)."""
        first, last, name = _lower(s.first_name), _lower(s.last_name), _lower(s.name)
        email, phone = norm_email(s.email), digits(s.phone) if s.phone is not None else None
        if s.id is not None:
            candidates = self._by_id(listing_id, s.id)
        elif email is not None:
            candidates = self.contacts.lookup("email", (listing_id, email))
        elif s.phone is not None:
            candidates = self.contacts.lookup("phone", (listing_id, phone))
        elif first is not None:
            candidates = self.contacts.lookup("first_name", (listing_id, first))
        elif last is not None:
            candidates = self.contacts.lookup("last_name", (listing_id, last))
        else:
            candidates = self.contacts.lookup("name", (listing_id, name))

        def keep(c: Mapping[str, Any]) -> bool:
            c_first, c_last = _lower(c.get("first_name")), _lower(c.get("last_name"))
            full = f"{c_first} {c_last}" if c_first and c_last else None
            return (
                (email is None or norm_email(c.get("email")) == email)
                and (s.phone is None or digits(c.get("phone")) == phone)
                and (first is None or c_first == first)
                and (last is None or c_last == last)
                and (name is None or name in (c_first, c_last, full))
            )

        return [c for c in candidates if keep(c)]

    @staticmethod
    def _result(c: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "contact_id": c["contact_id"],
            "contact_unique_id": c.get("unique_id"),
            "contact_first_name": c.get("first_name"),
            "contact_last_name": c.get("last_name"),
            "contact_email": c.get("email"),
            "contact_phone": c.get("phone"),
            "contact_created_date": c.get("created_date"),
            "contact_ip_address": c.get("ip_address"),
            "contact_source": c.get("source"),
            "contact_status": c.get("status"),
        }

    # -- configuration: keys and blacklists, held outside the store -----------------------
    def _configure(self, api_keys: Mapping[str, Any], blacklist: Mapping[str, Any]) -> None:
        self.api_keys = {k: list(v) for k, v in api_keys.items()}
        self.blacklist = {
            listing: {"emails": list(b.get("emails", [])), "phones": list(b.get("phones", []))}
            for listing, b in blacklist.items()
        }
        self._blocked = {
            listing: (
                {e for e in map(norm_email, b["emails"]) if e},
                {p for p in map(digits, b["phones"]) if p},
            )
            for listing, b in self.blacklist.items()
        }

    def dump_config(self) -> dict[str, Any]:
        return {
            **super().dump_config(),
            "api_keys": {k: list(v) for k, v in self.api_keys.items()},
            "blacklist": {
                k: {"emails": list(v["emails"]), "phones": list(v["phones"])}
                for k, v in self.blacklist.items()
            },
        }

    def load_config(self, doc: Mapping[str, Any]) -> None:
        super().load_config(doc)
        self._configure(doc["api_keys"], doc["blacklist"])

    # -- state document -------------------------------------------------------------------
    def load_state(self, doc: Mapping[str, Any]) -> None:
        self._configure(doc.get("api_keys", {}), doc.get("blacklist", {}))
        problems: list[dict[str, Any]] = []
        for i, c in enumerate(doc.get("contacts", [])):
            contact_id = c["contact_id"]
            if self.contacts.contains(contact_id):
                problems.append(
                    {
                        "pointer": f"/contacts/{i}/contact_id",
                        "message": f"contact_id {contact_id} is used twice",
                    }
                )
                continue
            unique_id = c.get("unique_id") or self._new_unique_id()
            if self.contacts.lookup_ids("unique_id", unique_id):
                problems.append(
                    {
                        "pointer": f"/contacts/{i}/unique_id",
                        "message": f"unique_id {unique_id} is used twice",
                    }
                )
                continue
            created = c.get("created_date")
            if created is not None and not _calendar_date(created):
                problems.append(
                    {
                        "pointer": f"/contacts/{i}/created_date",
                        "message": f"{created!r} is not a date and time of the calendar "
                        "(YYYY-MM-DD HH:MM:SS, years 0001 to 9999)",
                    }
                )
                continue
            record = {f: c.get(f) for f in CONTACT_FIELDS}
            self.contacts.insert(
                {
                    "contact_id": contact_id,
                    "listing_id": c["listing_id"],
                    "unique_id": unique_id,
                    **record,
                    "created_date": c.get("created_date")
                    or self.ctx.clock.now().strftime(DATE_FORMAT),
                    "ip_address": c.get("ip_address"),
                    "source": c.get("source", "api"),
                    "status": c.get("status", "active"),
                },
                contact_id,
            )
        if problems:
            raise StateInvalid(problems)

    def dump_state(self) -> dict[str, Any]:
        return {
            "api_keys": {k: list(v) for k, v in self.api_keys.items()},
            "blacklist": {
                k: {"emails": list(v["emails"]), "phones": list(v["phones"])}
                for k, v in self.blacklist.items()
            },
            "contacts": [dict(c) for c in self.contacts],
        }
