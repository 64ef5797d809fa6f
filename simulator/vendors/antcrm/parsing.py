"""AntCRM parsing: one strict reader per field format (AC-FMT-1 to AC-FMT-8).

Every reader treats ``null``, ``""`` (after trimming) and ``[]`` as "not provided" and
raises ``Invalid`` for a value of the wrong type; the listener then drops that item only.
Nothing here knows the store or Flask.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Entry = dict[str, Any]

ACTION_TYPES = (
    "add-contact",
    "add-lead",
    "update-contact",
    "update-lead",
    "add-note",
    "add-deal",
    "add-ticket",
    "send-sms",
)
CONTACT_TYPES = ("customer", "lead")
NOTE_MODELS = ("contact", "deal")


class Invalid(Exception):
    """An item that fails validation: the listener drops it and changes nothing."""


# -- normalisation used by every comparison (AC-NORM-1, AC-NORM-2) -----------------------
def clean(value: str | None) -> str | None:
    """Trimmed text; empty counts as not provided."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def norm_email(value: str | None) -> str | None:
    """Emails compare trimmed and case-insensitively."""
    found = clean(value)
    return found.lower() if found else None


def digits(value: str | None) -> str | None:
    """Phones compare by their digits only."""
    found = "".join(filter(str.isdigit, value or ""))
    return found or None


def norm_name(value: str | None) -> str | None:
    """Customer and deal names compare trimmed and case-insensitively."""
    found = clean(value)
    return found.casefold() if found else None


# -- field readers ------------------------------------------------------------------------
def absent(value: Any) -> bool:
    """``null``, a blank string and an empty array all mean "not provided"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list) and not value


def text(data: Mapping[str, Any], key: str) -> str | None:
    """A String field, trimmed."""
    value = data.get(key)
    if absent(value):
        return None
    if not isinstance(value, str):
        raise Invalid(f"{key} must be a string")
    return value.strip()


def customer_code(data: Mapping[str, Any]) -> str | None:
    """A ``customerId``, compared exactly (AC-NORM-1): kept as sent, blanks and all
    (`` PID-1 `` names no customer); a blank one is not provided."""
    value = data.get("customerId")
    if absent(value):
        return None
    if not isinstance(value, str):
        raise Invalid("customerId must be a string")
    return value


def _integral(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def choice(data: Mapping[str, Any], key: str, allowed: tuple[int, ...]) -> int | None:
    """A Number field restricted to a few values (``type``, ``gender``, ``permit.status``)."""
    value = data.get(key)
    if absent(value):
        return None
    number = _integral(value)
    if number is None or number not in allowed:
        raise Invalid(f"{key} must be one of {allowed}")
    return number


def customer_type(data: Mapping[str, Any]) -> int | None:
    """``type``: 1 (or a numeric string worth 1) is an Account, any other number or string a
    Contact (AC-TYPE-1); add-lead's table types it String, so strings are never refused."""
    value = data.get("type")
    if absent(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid("type must be a number or a string")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return 0
    return 1 if value == 1 else 0


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def is_email(value: str) -> bool:
    """An email address: ``local@domain.tld`` without blanks (AC-EMAIL-1)."""
    return EMAIL.fullmatch(value) is not None


def finite(value: Any, key: str) -> Any:
    """A JSON number that JSON can give back (no overflow to infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"{key} is out of range")
    return value


def word(data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    """A String field restricted to a few values (``contactType``, ``model``)."""
    value = text(data, key)
    if value is not None and value not in allowed:
        raise Invalid(f"{key} must be one of {allowed}")
    return value


def identifier(data: Mapping[str, Any], key: str) -> str | None:
    """A deal id: a String, or a non-negative integer (the doc's own ``"dealId": 192``)."""
    value = data.get(key)
    if absent(value):
        return None
    if isinstance(value, str):
        return value.strip()
    number = _integral(value)
    if number is None or number < 0:  # 3.0 is the integer 3, as its schema says
        raise Invalid(f"{key} must be a string")
    return str(number)


def obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """An Object field."""
    value = data.get(key)
    if absent(value):
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{key} must be an object")
    return value


def array(data: Mapping[str, Any], key: str) -> list[Any]:
    """An Array field (empty when not provided)."""
    value = data.get(key)
    if absent(value):
        return []
    if not isinstance(value, list):
        raise Invalid(f"{key} must be an array")
    return value


def points(data: Mapping[str, Any], key: str) -> list[Entry]:
    """``emails`` / ``phones``: ``[{type, value}]`` or bare strings; empty values skipped."""
    found: list[Entry] = []
    for item in array(data, key):
        if absent(item):
            continue
        if isinstance(item, str):
            found.append({"type": None, "value": item.strip()})
            continue
        if not isinstance(item, dict):
            raise Invalid(f"{key} entries must be objects or strings")
        value = text(item, "value")
        if value is not None:
            found.append({"type": text(item, "type"), "value": value})
    return found


def email_points(data: Mapping[str, Any], key: str, dropped: list[str]) -> list[Entry]:
    """``emails`` to keep: values that are not email addresses are left out (AC-EMAIL-1) and
    named in ``dropped``."""
    found: list[Entry] = []
    for entry in points(data, key):
        if is_email(entry["value"]):
            found.append(entry)
        else:
            dropped.append(f"{key} {entry['value']!r} is not an email address")
    return found


def single_points(data: Mapping[str, Any], one: str, many: str) -> list[str]:
    """A key given as ``email`` (string) and/or ``emails`` (array): the values, in order."""
    first = text(data, one)
    return ([first] if first else []) + [e["value"] for e in points(data, many)]


def websites(data: Mapping[str, Any]) -> list[Entry]:
    """``websites``: a String, or ``[{value}]`` / bare strings (AC-FMT-4: accept both)."""
    value = data.get("websites")
    if isinstance(value, str):
        return [] if absent(value) else [{"value": value.strip()}]
    return [{"value": e["value"]} for e in points(data, "websites")]


ADDRESS_FIELDS = ("type", "street", "city", "state", "zip")


def addresses(data: Mapping[str, Any]) -> list[Entry]:
    """``addresses``: objects; ``country`` a plain string or ``{code, name}``."""
    found: list[Entry] = []
    for item in array(data, "addresses"):
        if absent(item):
            continue
        if not isinstance(item, dict):
            raise Invalid("addresses entries must be objects")
        address: Entry = {}
        for key in ADDRESS_FIELDS:
            value = text(item, key)
            if value is not None:
                address[key] = value
        country = item.get("country")
        if isinstance(country, dict):
            parts = {k: v for k in ("code", "name") if (v := text(country, k)) is not None}
            if parts:
                address["country"] = parts
        else:
            name = text(item, "country")
            if name is not None:
                address["country"] = name
        if address:
            found.append(address)
    return found


def im(data: Mapping[str, Any]) -> list[Entry]:
    """``im``: ``[{protocol, value}]``; unknown protocols stored as given."""
    found: list[Entry] = []
    for item in array(data, "im"):
        if absent(item):
            continue
        if not isinstance(item, dict):
            raise Invalid("im entries must be objects")
        value = text(item, "value")
        if value is not None:
            found.append({"protocol": text(item, "protocol"), "value": value})
    return found


def tags(data: Mapping[str, Any]) -> list[str] | None:
    """``tag``: ``"tag_1, tag_2"`` split on commas, trimmed, empties dropped."""
    value = text(data, "tag")
    if value is None:
        return None
    found = list(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    return found or None


def cus_fields(data: Mapping[str, Any]) -> list[Entry]:
    """``cusFields``: ``[{name, value}]``, values (scalars) stored verbatim."""
    found: list[Entry] = []
    for item in array(data, "cusFields"):
        if absent(item):
            continue
        if not isinstance(item, dict):
            raise Invalid("cusFields entries must be objects")
        name = text(item, "name")
        value = item.get("value")
        if isinstance(value, dict | list) and not absent(value):
            raise Invalid("cusFields values must be scalars")
        if name is None or absent(value):
            continue
        found.append({"name": name, "value": finite(value, "cusFields")})
    return found


def strings(data: Mapping[str, Any], key: str) -> list[str]:
    """An array of strings, trimmed, empties dropped."""
    found: list[str] = []
    for item in array(data, key):
        if absent(item):
            continue
        if not isinstance(item, str):
            raise Invalid(f"{key} entries must be strings")
        found.append(item.strip())
    return found


def permit(data: Mapping[str, Any]) -> Entry | None:
    """``permit``: ``{status 1-4, group, users[]}``, the known keys stored as given."""
    value = obj(data, "permit")
    if value is None:
        return None
    found: Entry = {}
    status = choice(value, "status", (1, 2, 3, 4))
    if status is not None:
        found["status"] = status
    group = text(value, "group")
    if group is not None:
        found["group"] = group
    users = strings(value, "users")
    if users:
        found["users"] = users
    return found or None


def owner(data: Mapping[str, Any]) -> Entry | None:
    """``owner_opportunity``: ``{users: [email], groups: [name]}``."""
    value = obj(data, "owner_opportunity")
    if value is None:
        return None
    found = {k: v for k in ("users", "groups") if (v := strings(value, k))}
    return found or None


def scalar(data: Mapping[str, Any], key: str) -> str | int | float | None:
    """A deal ``value``: number or string, stored as given."""
    value = data.get(key)
    if absent(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{key} must be a number or a string")
    return finite(value, key)  # type: ignore[no-any-return]


def number(data: Mapping[str, Any], key: str) -> int | float | None:
    """A Number field stored as given (``closeDate``, epoch milliseconds)."""
    value = data.get(key)
    if absent(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{key} must be a number")
    return finite(value, key)  # type: ignore[no-any-return]


# -- the customer payload shared by add/update-contact, add/update-lead, dealWith ----------
# The keys each action documents besides the common ones (AC-SCHEMA-2): a key an action does
# not document is ignored, whatever its value, exactly as its schema says.
COMMON_KEYS = frozenset(
    (
        "name", "lastname", "type", "title", "passport", "gender", "bgInfo", "dateOfBirth",
        "emails", "phones", "addresses", "websites", "im", "tag", "cusFields", "permit",
        "contactId",
    )
)  # fmt: skip
PROFILE_KEYS = {
    "add-contact": COMMON_KEYS | {"companyContact", "contactType"},
    "add-lead": COMMON_KEYS | {"companyLead"},
    "update-contact": COMMON_KEYS | {"customerId", "companyContact"},
    "update-lead": COMMON_KEYS | {"customerId", "companyLead"},
    "dealWith": COMMON_KEYS | {"customerId", "contactType", "companyContact", "companyLead"},
}


@dataclass
class Company:
    """``companyContact``: the Account a Contact belongs to."""

    customer_id: str | None = None
    name: str | None = None
    emails: list[Entry] = field(default_factory=list)
    phones: list[Entry] = field(default_factory=list)
    websites: list[Entry] = field(default_factory=list)
    addresses: list[Entry] = field(default_factory=list)
    im: list[Entry] = field(default_factory=list)


@dataclass
class Profile:
    """A customer payload, read and checked; None / [] = not provided."""

    name: str | None = None
    lastname: str | None = None
    title: str | None = None
    passport: str | None = None
    gender: int | None = None
    bg_info: str | None = None
    date_of_birth: str | None = None
    type: int | None = None
    contact_type: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    company_lead: str | None = None
    emails: list[Entry] = field(default_factory=list)
    phones: list[Entry] = field(default_factory=list)
    addresses: list[Entry] = field(default_factory=list)
    websites: list[Entry] = field(default_factory=list)
    im: list[Entry] = field(default_factory=list)
    tags: list[str] | None = None
    cus_fields: list[Entry] = field(default_factory=list)
    permit: Entry | None = None
    company: Company | None = None

    def scalars(self) -> dict[str, Any]:
        """The scalar fields an update overwrites when provided (record field names)."""
        return {
            "name": self.name,
            "lastname": self.lastname,
            "title": self.title,
            "passport": self.passport,
            "gender": self.gender,
            "bgInfo": self.bg_info,
            "dateOfBirth": self.date_of_birth,
            "permit": self.permit,
            "contactId": self.contact_id,
        }


def company(data: Mapping[str, Any], dropped: list[str]) -> Company | None:
    value = obj(data, "companyContact")
    if value is None:
        return None
    return Company(
        customer_id=customer_code(value),
        name=text(value, "name"),
        emails=email_points(value, "emails", dropped),
        phones=points(value, "phones"),
        websites=websites(value),
        addresses=addresses(value),
        im=im(value),
    )


def profile(data: Mapping[str, Any], action: str, dropped: list[str]) -> Profile:
    """Read the customer fields ``action`` documents; raises ``Invalid`` on a wrong type.

    ``contactType`` picks a pool only in a deal's ``dealWith``/``contacts``; add-contact
    documents it but ignores its value (AC-ADD-3), so any String is accepted there.
    """
    keys = PROFILE_KEYS[action]
    pooled = action == "dealWith"
    contact_type = None
    if pooled:
        contact_type = word(data, "contactType", CONTACT_TYPES)
    elif "contactType" in keys:
        text(data, "contactType")
    return Profile(
        name=text(data, "name"),
        lastname=text(data, "lastname"),
        title=text(data, "title"),
        passport=text(data, "passport"),
        gender=choice(data, "gender", (0, 1, 2)),
        bg_info=text(data, "bgInfo"),
        date_of_birth=text(data, "dateOfBirth"),
        type=customer_type(data),
        contact_type=contact_type,
        customer_id=customer_code(data) if "customerId" in keys else None,
        contact_id=text(data, "contactId"),
        company_lead=text(data, "companyLead") if "companyLead" in keys else None,
        emails=email_points(data, "emails", dropped),
        phones=points(data, "phones"),
        addresses=addresses(data),
        websites=websites(data),
        im=im(data),
        tags=tags(data),
        cus_fields=cus_fields(data),
        permit=permit(data),
        company=company(data, dropped) if "companyContact" in keys else None,
    )


def profiles(data: Mapping[str, Any], key: str, dropped: list[str]) -> list[Profile]:
    """An array of customer payloads (``contacts`` of a deal)."""
    found: list[Profile] = []
    for item in array(data, key):
        if absent(item):
            continue
        if not isinstance(item, dict):
            raise Invalid(f"{key} entries must be objects")
        found.append(profile(item, "dealWith", dropped))
    return found
