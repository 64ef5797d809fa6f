"""BOTW parsing: turns an operation's parameters into the backend's typed arguments; knows
no store and no Flask (docs/vendors/README.md, "The shape of a vendor package").

The key comes first (the view has the backend check it); then, for every method, the
parameters are trimmed (an empty value is not given), the ones the method needs are
checked, then the email and phone formats. What is left for the backend, in this order,
is the blacklist and the lookups (docs/vendors/botw.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from simulator.vendors.botw import errors

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean(value: str | None) -> str | None:
    """Trimmed value; empty counts as not provided."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def digits(phone: str | None) -> str | None:
    found = "".join(filter(str.isdigit, phone or ""))  # C's loop: 4 calls per create
    return found or None


def check_formats(email: str | None, phone: str | None) -> None:
    """An email must look like one; a phone must have 7 to 15 digits."""
    if email is not None and not EMAIL.match(email):
        raise errors.InvalidEmail()
    if phone is not None and not 7 <= len(digits(phone) or "") <= 15:
        raise errors.InvalidPhone()


@dataclass(frozen=True)
class Contact:
    """A contact's fields as given (cleaned; None = not provided); formats checked."""

    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Update:
    """PUT: the contact id, if given, and the fields."""

    contact_id: str | None
    contact: Contact


@dataclass(frozen=True)
class Search:
    """GET search (and DELETE match) parameters, cleaned; None = not provided."""

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


def _contact(params: Mapping[str, str]) -> Contact:
    return Contact(
        first_name=clean(params.get("first_name")),
        last_name=clean(params.get("last_name")),
        email=clean(params.get("email")),
        phone=clean(params.get("phone")),
    )


def create_contact(params: Mapping[str, str]) -> Contact:
    """POST: an email or a phone is required, then both formats."""
    contact = _contact(params)
    if contact.email is None and contact.phone is None:
        raise errors.EmailOrPhoneRequired()
    check_formats(contact.email, contact.phone)
    return contact


def update_contact(params: Mapping[str, str]) -> Update:
    """PUT: an id, an email or a phone is required, then both formats."""
    update = Update(clean(params.get("id")), _contact(params))
    contact = update.contact
    if update.contact_id is None and contact.email is None and contact.phone is None:
        raise errors.EmailOrPhoneRequired()
    check_formats(contact.email, contact.phone)
    return update


def delete_contact(params: Mapping[str, str]) -> Search:
    """DELETE: an id, an email or a phone is required, then both formats."""
    search = Search(
        id=clean(params.get("id")),
        email=clean(params.get("email")),
        phone=clean(params.get("phone")),
    )
    if search.id is None and search.email is None and search.phone is None:
        raise errors.DeleteParameterRequired()
    check_formats(search.email, search.phone)
    return search


def search_contacts(params: Mapping[str, str]) -> Search:
    """GET: at least one search parameter, then both formats."""
    search = Search(**{f: clean(params.get(f)) for f in Search.__dataclass_fields__})
    if all(getattr(search, f) is None for f in Search.__dataclass_fields__):
        raise errors.SearchParameterRequired()
    check_formats(search.email, search.phone)
    return search
