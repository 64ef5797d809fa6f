"""CRM.COM request parsing: turns the request document into the backend's typed arguments;
knows no store and no Flask (docs/vendors/README.md, "The shape of a vendor package").

The boundary follows the check order (CC-ORDER-1): body → token → mandatory parameters →
parameter values → entity lookups → uniqueness → action. A view in ``routes.py`` reads the
request document (a body that does not parse answers first), has the backend check the
token (``CrmcomBackend.authorize``), then calls the function here named after its
operation, which checks the mandatory parameters, then the parameter values, and returns a
frozen dataclass; the backend method of the same name takes that dataclass and does the
lookups, the uniqueness checks and the action. Operations whose only parameter is the
token (``release_token``) have no function here.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from simulator.vendors.crmcom import errors

MAX_RESULTS = 50

# -- contact information fields -----------------------------------------------------------
IDENTIFIER_FIELDS = (
    "id",
    "number",
    "id_number",
    "passport_number",
    "social_security_number",
    "vat_registration_number",
    "registration_number",
)
# contact_information/list filters: the identifier fields and the name (CC-L1)
LIST_FILTERS = (*IDENTIFIER_FIELDS, "name")
DEMOGRAPHIC_IDS = ("id_number", "passport_number", "social_security_number")
TYPES = ("PERSON", "COMPANY")
GENDERS = ("MALE", "FEMALE")
# the vendor's public show example returns up to these (CC-C2)
UDF_STRINGS = tuple(f"udf_string_{i}" for i in range(1, 17))
UDF_FLOATS = tuple(f"udf_float_{i}" for i in range(1, 8))
TOP_STRINGS = (
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "company_name",
    "vat_registration_number",
    "registration_number",
    "notes",
    "preferred_language",
)
# request ``<x>_identifier`` -> representation ``<x>`` (stored as the identifier object given)
TOP_IDENTIFIERS = {
    "category_identifier": "category",
    "owned_by_group_identifier": "owned_by_group",
    "privacy_level_identifier": "privacy_level",
}
DEMO_IDENTIFIERS = {
    "country_of_residence_identifier": "country_of_residence",
    "id_issued_by_country_identifier": "id_issued_by_country",
    "passport_issued_by_country_identifier": "passport_issued_by_country",
    "industry_identifier": "industry",
    "industry_sector_identifier": "industry_sector",
}


@dataclasses.dataclass(frozen=True)
class SetKind:
    """One of the contact's sets: its request names, response name and item fields.

    A dataclass, with no code of its own run at import (``SETS``), so that mutation
    testing can reach every line of it."""

    singular: str
    plural: str
    strings: tuple[str, ...]
    str_or_int: tuple[str, ...] = ()
    identifiers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    mandatory: tuple[str, ...] = ()
    order: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The item's keys in the vendor's order: ``id``, then ``order``."""
        return ("id", *self.order)


SETS = (
    SetKind(
        "address_set",
        "addresses_set",
        strings=(
            "type",
            "postal_code",
            "street_name",
            "area",
            "town_city",
            "district",
            "municipality",
            "po_box",
            "po_box_postal_code",
        ),
        str_or_int=("street_number", "floor", "apartment_number"),
        identifiers={"country_identifier": "country"},
        order=(
            "type",
            "postal_code",
            "street_name",
            "street_number",
            "floor",
            "apartment_number",
            "area",
            "town_city",
            "district",
            "municipality",
            "country",
            "po_box",
            "po_box_postal_code",
        ),
    ),
    SetKind(
        "phone_set",
        "phones_set",
        strings=("type", "number"),
        mandatory=("number",),
        order=("type", "number"),
    ),
    SetKind(
        "email_set",
        "emails_set",
        strings=("type", "email_address"),
        mandatory=("email_address",),
        order=("type", "email_address"),
    ),
)
SET_ALIASES = {k.singular: k.plural for k in SETS}


# -- provisioning ---------------------------------------------------------------------------
PROVIDER_FIELDS = ("id", "name", "alternative_code")
INTEGER = re.compile(r"-?[0-9]+")


# -- parameter values ---------------------------------------------------------------------
# The keys of ``data`` a request asks for (``fields_set``); None: all of them.
FieldsSet = frozenset[str] | None
# A contact's changes, in storage shape (ContactRequest.changes).
Changes = dict[str, Any]


def missing(value: Any) -> bool:
    """Missing or empty, as MANDATORYPARAMETERMISSING means it: absent, null or blank."""
    return value is None or (isinstance(value, str) and not value.strip())


def _string(value: Any, param: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise errors.InvalidParameterValue(param, "must be a string")


def _str_or_int(value: Any, param: str) -> str | int | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise errors.InvalidParameterValue(param, "must be a string or an integer")


def _float(value: Any, param: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InvalidParameterValue(param, "must be a number")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer past a double's range (10**309)
        finite = False
    if not finite:
        raise errors.InvalidParameterValue(param, "must be a finite number")
    return value


def _enum(value: Any, param: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in allowed or not isinstance(value, str):
        raise errors.InvalidParameterValue(param, "must be one of " + ", ".join(allowed))
    return value


def _nonnull(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def _identifier_object(
    value: Any, param: str, fields: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """An identifier object (``{"name": "Main Group"}``): exactly one field, a plain value.

    Fields given as null are ignored (clients that serialise every property send them).
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.InvalidParameterValue(param, "must be an object naming one field")
    given = _nonnull(value)
    if len(given) > 1:
        raise errors.OnlyOneIdentifierAllowed(param)
    if not given:  # reached only when the mandatory pass did not look here
        raise errors.MandatoryParameterMissing(param)
    ((field, item),) = given.items()
    if fields is not None and field not in fields:
        raise errors.InvalidParameterValue(
            param, f"names an unknown field '{field}' (allowed: {', '.join(fields)})"
        )
    if isinstance(item, bool) or not isinstance(item, str | int):
        raise errors.InvalidParameterValue(param, f"has a value for '{field}' that is not a string")
    if isinstance(item, str) and not item.strip():
        raise errors.InvalidParameterValue(param, f"has an empty value for '{field}'")
    return {field: item}


def query_identifier(raw: str, param: str, fields: tuple[str, ...]) -> tuple[str, str]:
    """``field=value`` from a GET identifier parameter (CC-ID-1).

    Pairs are separated by commas: a part without ``=`` is INVALIDPARAMETERVALUE, two pairs
    are ONLYONEIDENTIFIERALLOWED; the field must be one of ``fields``, the value non-empty.
    """
    parts = raw.split(",")
    if any("=" not in part for part in parts):
        raise errors.InvalidParameterValue(param, "must be written as field=value")
    if len(parts) > 1:
        raise errors.OnlyOneIdentifierAllowed(param)
    field, _, value = raw.partition("=")
    if field not in fields:
        raise errors.InvalidParameterValue(
            param, f"names an unknown field '{field}' (allowed: {', '.join(fields)})"
        )
    if not value:
        raise errors.InvalidParameterValue(param, f"has an empty value for '{field}'")
    return field, value


def _date_of_birth(value: Any, param: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.InvalidParameterValue(param, "must be an object with day, month and year")
    parts: dict[str, int] = {}
    for part in ("day", "month", "year"):
        item = value.get(part)
        if item is None:
            raise errors.MandatoryParameterMissing(f"{param}.{part}")
        if isinstance(item, bool) or not isinstance(item, int):
            raise errors.InvalidParameterValue(f"{param}.{part}", "must be an integer")
        parts[part] = item
    if not valid_date(parts):
        raise errors.InvalidParameterValue(param, "is not a valid date")
    return parts


def valid_date(parts: Mapping[str, int]) -> bool:
    """Day, month and year are integers (not ``153.0``, which JSON Schema calls an integer)
    making a real date."""
    if not all(type(parts.get(k)) is int for k in ("day", "month", "year")):
        return False
    try:
        date(parts["year"], parts["month"], parts["day"])
    except (ValueError, OverflowError):
        return False
    return True


def fields_set(value: Any) -> FieldsSet:
    """The keys of ``data`` asked for, or None for all (not given, or naming nothing);
    unknown names are kept and match nothing (CC-FIELDS-1)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.InvalidParameterValue("fields_set", "must be a comma-separated string")
    wanted = frozenset(SET_ALIASES.get(n.strip(), n.strip()) for n in value.split(",") if n.strip())
    return wanted or None


def paging_value(raw: str, param: str, minimum: int) -> int:
    """A non-negative decimal integer; huge values saturate instead of failing to parse."""
    if not INTEGER.fullmatch(raw):
        raise errors.InvalidParameterValue(param, "must be an integer")
    digits = raw.lstrip("-").lstrip("0") or "0"
    value = 10**18 if len(digits) > 18 else int(digits)
    if raw.startswith("-"):
        value = -value
    if value < minimum:
        raise errors.InvalidParameterValue(param, f"must be at least {minimum}")
    return value


# -- the contact request (create / update body) -------------------------------------------
class ContactRequest:
    """A create or update body, read in two passes: mandatory parameters, then values.

    ``changes()`` gives the fields given, in storage shape: top-level keys, a partial
    ``demographics`` (or ``None`` to clear it), and per set ``(clear, new items)``.
    """

    def __init__(self, body: Mapping[str, Any], creating: bool) -> None:
        self.body = body
        self.creating = creating

    def _demographics(self) -> Any:
        return self.body.get("demographics")

    def set_sources(self, kind: SetKind) -> list[tuple[str, Any]]:
        """Where a set may be given: top level or in demographics, singular or plural."""
        found: list[tuple[str, Any]] = []
        demo = self._demographics()
        for scope, container in (("", self.body), ("demographics.", demo)):
            if not isinstance(container, dict):
                continue
            for name in (kind.singular, kind.plural):
                if name in container:
                    found.append((scope + name, container[name]))
        return found

    # -- pass 1 --------------------------------------------------------------------------
    def check_mandatory(self) -> None:
        body = self.body
        kind = body.get("type")
        if self.creating or "type" in body:
            if missing(kind):
                raise errors.MandatoryParameterMissing("type")
        if self.creating and kind in TYPES:
            needed = ("first_name", "last_name") if kind == "PERSON" else ("company_name",)
            for name in needed:
                if missing(body.get(name)):
                    raise errors.MandatoryParameterMissing(name)
        for name in TOP_IDENTIFIERS:
            self._mandatory_identifier(body.get(name), name)
        demo = self._demographics()
        if isinstance(demo, dict):
            for name in DEMO_IDENTIFIERS:
                self._mandatory_identifier(demo.get(name), "demographics." + name)
            dob = demo.get("date_of_birth")
            if isinstance(dob, dict):
                for part in ("day", "month", "year"):
                    if missing(dob.get(part)):
                        raise errors.MandatoryParameterMissing(f"demographics.date_of_birth.{part}")
        for kind_ in SETS:
            for param, items in self.set_sources(kind_):
                if not isinstance(items, list):
                    continue
                for i, item in enumerate(items):
                    if not isinstance(item, dict):
                        continue
                    for name in kind_.mandatory:
                        if missing(item.get(name)):
                            raise errors.MandatoryParameterMissing(f"{param}[{i}].{name}")
                    for name in kind_.identifiers:
                        self._mandatory_identifier(item.get(name), f"{param}[{i}].{name}")

    @staticmethod
    def _mandatory_identifier(value: Any, param: str) -> None:
        if isinstance(value, dict) and not _nonnull(value):
            raise errors.MandatoryParameterMissing(param)

    # -- pass 2 --------------------------------------------------------------------------
    def changes(self) -> dict[str, Any]:
        body = self.body
        out: dict[str, Any] = {}
        if "type" in body:
            out["type"] = _enum(body["type"], "type", TYPES)
        for name in TOP_STRINGS + UDF_STRINGS:
            if name in body:
                out[name] = _string(body[name], name)
        for name in UDF_FLOATS:
            if name in body:
                out[name] = _float(body[name], name)
        for name, key in TOP_IDENTIFIERS.items():
            if name in body:
                out[key] = _identifier_object(body[name], name)
        if "demographics" in body:
            out["demographics"] = self._demographic_changes(body["demographics"])
        sets: dict[str, tuple[bool, list[dict[str, Any]]]] = {}
        for kind in SETS:
            clear, items = False, list[dict[str, Any]]()
            for param, value in self.set_sources(kind):
                if value is None:
                    clear, items = True, []
                    continue
                if not isinstance(value, list):
                    raise errors.InvalidParameterValue(param, "must be an array of objects")
                items.extend(self._set_item(kind, f"{param}[{i}]", v) for i, v in enumerate(value))
            if clear or items:
                sets[kind.plural] = (clear, items)
        out["sets"] = sets
        return out

    def _demographic_changes(self, demo: Any) -> dict[str, Any] | None:
        if demo is None:
            return None
        if not isinstance(demo, dict):
            raise errors.InvalidParameterValue("demographics", "must be an object")
        out: dict[str, Any] = {}
        if "gender" in demo:
            out["gender"] = _enum(demo["gender"], "demographics.gender", GENDERS)
        for name in DEMOGRAPHIC_IDS:
            if name in demo:
                out[name] = _string(demo[name], "demographics." + name)
        if "date_of_birth" in demo:
            out["date_of_birth"] = _date_of_birth(
                demo["date_of_birth"], "demographics.date_of_birth"
            )
        for name, key in DEMO_IDENTIFIERS.items():
            if name in demo:
                out[key] = _identifier_object(demo[name], "demographics." + name)
        return out

    @staticmethod
    def _set_item(kind: SetKind, param: str, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise errors.InvalidParameterValue(param, "must be an object")
        out: dict[str, Any] = {}
        for name in kind.strings:
            out[name] = _string(item.get(name), f"{param}.{name}")
        for name in kind.str_or_int:
            out[name] = _str_or_int(item.get(name), f"{param}.{name}")
        for name, key in kind.identifiers.items():
            out[key] = _identifier_object(item.get(name), f"{param}.{name}")
        return {k: out.get(k) for k in kind.keys[1:]}


# -- one function per operation: the backend method's typed arguments ----------------------
@dataclasses.dataclass(frozen=True)
class Login:
    """authentication/token: a user of an organisation (all non-empty strings)."""

    username: str
    password: str
    organisation: str
    unit: str | None


@dataclasses.dataclass(frozen=True)
class KeyLogin:
    """authentication/web_api_key/token: the Basic user name, if any, and the unit."""

    web_api_key: str | None
    unit: str | None


@dataclasses.dataclass(frozen=True)
class Page:
    """``number_of_results`` (1 to MAX_RESULTS) and ``offset`` (0 or more)."""

    size: int
    skip: int


@dataclasses.dataclass(frozen=True)
class Show:
    identifier: tuple[str, str]  # (field, value)
    fields: FieldsSet


@dataclasses.dataclass(frozen=True)
class Listing:
    page: Page
    filters: Mapping[str, str]  # the filters given with a non-blank value
    fields: FieldsSet


@dataclasses.dataclass(frozen=True)
class Create:
    changes: Changes
    fields: FieldsSet


@dataclasses.dataclass(frozen=True)
class Update:
    identifier: tuple[str, str]  # (field, value)
    changes: Changes
    fields: FieldsSet


@dataclasses.dataclass(frozen=True)
class Pending:
    provider: tuple[str, str]  # (field, value)
    page: Page
    fields: FieldsSet


def _mandatory(params: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if missing(params.get(name)):
            raise errors.MandatoryParameterMissing(name)


def _page(params: Mapping[str, str]) -> Page:
    """Paging parameters, already known to be given: size first, then its maximum, then
    the offset (CC-PAGE-1)."""
    size = paging_value(params["number_of_results"], "number_of_results", 1)
    if size > MAX_RESULTS:
        raise errors.MaximumNumberOfResultsExceeded(MAX_RESULTS)
    return Page(size, paging_value(params["offset"], "offset", 0))


def authenticate(doc: Mapping[str, Any]) -> Login:
    """POST authentication/token: mandatory parameters, then each a string."""
    _mandatory(doc, "username", "password", "organisation")
    username, password, organisation, unit = (
        _string(doc.get(name), name) for name in ("username", "password", "organisation", "unit")
    )
    assert username is not None and password is not None and organisation is not None
    return Login(username, password, organisation, unit)


def basic_user(authorization: str) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header (the Web API key), or None."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, _, _password = decoded.partition(":")
    return user or None


def authenticate_web_api_key(doc: Mapping[str, Any], authorization: str) -> KeyLogin:
    """POST authentication/web_api_key/token: the key from the ``Authorization`` header
    (checked by the backend, a lookup), the unit from the body."""
    web_api_key = basic_user(authorization)
    return KeyLogin(web_api_key, _string(doc.get("unit"), "unit"))


def show_contact_information(query: Mapping[str, str]) -> Show:
    """GET contact_information/show: the identifier ``field=value``, then ``fields_set``."""
    param = "contact_information_identifier"
    _mandatory(query, param)
    identifier = query_identifier(query[param], param, IDENTIFIER_FIELDS)
    return Show(identifier, fields_set(query.get("fields_set")))


def list_contact_information(query: Mapping[str, str]) -> Listing:
    """GET contact_information/list: paging, ``fields_set``, then the filters (CC-L1); a
    blank filter is no filter."""
    _mandatory(query, "number_of_results", "offset")
    page = _page(query)
    fields = fields_set(query.get("fields_set"))
    filters = {f: query[f] for f in LIST_FILTERS if query.get(f)}
    return Listing(page, filters, fields)


def create_contact_information(doc: Mapping[str, Any]) -> Create:
    """POST contact_information/create: the contact's mandatory parameters, its values,
    then ``fields_set``."""
    request = ContactRequest(doc, creating=True)
    request.check_mandatory()
    changes = request.changes()
    return Create(changes, fields_set(doc.get("fields_set")))


def update_contact_information(doc: Mapping[str, Any]) -> Update:
    """POST contact_information/update: the identifier's and the contact's mandatory
    parameters, then the identifier's value, the contact's values and ``fields_set``."""
    param = "contact_information_identifier"
    identifier = doc.get(param)
    if identifier is None or (isinstance(identifier, dict) and not _nonnull(identifier)):
        raise errors.MandatoryParameterMissing(param)
    request = ContactRequest(doc, creating=False)
    request.check_mandatory()
    found = _identifier_object(identifier, param, IDENTIFIER_FIELDS)
    assert found is not None
    ((field, value),) = found.items()
    if not isinstance(value, str):
        raise errors.InvalidParameterValue(param, f"has a value for '{field}' that is not a string")
    changes = request.changes()
    return Update((field, value), changes, fields_set(doc.get("fields_set")))


def get_pending_provisioning_requests(query: Mapping[str, str]) -> Pending:
    """GET provisioning/generic_provisioning_requests/get_pending (CC-PEND-1): mandatory
    parameters, the provider identifier, paging, then ``fields_set``."""
    param = "provisioning_provider_identifier"
    _mandatory(query, param, "number_of_results", "offset")
    provider = query_identifier(query[param], param, PROVIDER_FIELDS)
    page = _page(query)
    return Pending(provider, page, fields_set(query.get("fields_set")))
