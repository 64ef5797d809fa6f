"""Omoto parsing: turns the decoded request documents into the backend's typed arguments;
knows no store and no Flask (docs/vendors/README.md, "The shape of a vendor package").

The key is checked first (the view has the backend check it), then the document is read
(``routes.py``: a body or form that does not decode is a parseerror), then checked here;
what is left for the backend is the campaign of the key and the action (OM-ORDER-1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.vendors.omoto import errors

PROCESS_ID = "76"
NUMERIC = re.compile(r"[0-9]+")
NPS_MIN, NPS_MAX = 0, 10
RESPONSE_FIELDS = (
    "channel",
    "campaigntype",
    "catnpsmap",
    "npsrating",
    "comment",
    "customerinfo",
    "namevaluemap",
)


def _nonempty_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_int(value: Any) -> bool:
    """A JSON integer (``true`` is not one, and neither is ``76.0``)."""
    return isinstance(value, int) and not isinstance(value, bool)


def campaign_id_of(value: Any) -> str:
    """``campaignid`` as a string: a non-empty string or an integer (OM-RESP-4), else parseerror."""
    if _is_int(value):
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise errors.ParseError("campaignid is missing, empty, or neither a string nor an integer")


def nps_of(value: Any) -> int:
    """``npsrating``: an integer or a string of ASCII digits, 0-10 (OM-RESP-4), else parseerror."""
    rating: int | None = None
    if _is_int(value):
        rating = value
    elif isinstance(value, str) and NUMERIC.fullmatch(value):
        digits = value.lstrip("0") or "0"
        rating = int(digits) if len(digits) <= 2 else None
    if rating is None or not NPS_MIN <= rating <= NPS_MAX:
        raise errors.ParseError("npsrating is not an integer from 0 to 10")
    return rating


def check_catnpsmap(value: Any) -> None:
    """``catnpsmap``: an object whose every value is an array (OM-RESP-5), else parseerror."""
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise errors.ParseError("catnpsmap is not an object of arrays")


def check_header(value: Any) -> None:
    """``jsonheader``: an object with ``processid`` "76" or 76 (OM-RESP-4), else parseerror."""
    processid = value.get("processid") if isinstance(value, dict) else None
    if not (processid == PROCESS_ID or (_is_int(processid) and processid == int(PROCESS_ID))):
        raise errors.ParseError('jsonheader is not an object with processid "76"')


@dataclass(frozen=True)
class Invitee:
    """A customer of the CRM API to invite: one with an email or a mobile number."""

    personalinfo: Mapping[str, Any]
    qualifyinginfo: Any
    email: str | None
    mobileno: str | None
    transactionid: str | None


@dataclass(frozen=True)
class CampaignResponse:
    """A Response API body: the campaign it names and the fields stored (``npsrating``
    parsed, the others as sent, None when absent)."""

    campaign_id: str
    fields: Mapping[str, Any]


def receive_customer_info(customers: Any) -> list[Invitee]:
    """CRM API: the decoded body must be an array of objects; the customers to invite are
    those whose ``personalinfo`` is an object with a non-empty email or mobile number."""
    if not isinstance(customers, list):
        raise errors.ParseError("the body is not a JSON array")
    if not all(isinstance(c, dict) for c in customers):
        raise errors.ParseError("an element of the array is not an object")
    invitees: list[Invitee] = []
    for customer in customers:
        info = customer.get("personalinfo")
        if not isinstance(info, dict):
            continue
        email, mobileno = _nonempty_str(info.get("email")), _nonempty_str(info.get("mobileno"))
        if email is None and mobileno is None:
            continue
        transactionid = info.get("transactionid")
        invitees.append(
            Invitee(
                personalinfo=info,
                qualifyinginfo=customer.get("qualifyinginfo"),
                email=email,
                mobileno=mobileno,
                transactionid=transactionid if isinstance(transactionid, str) else None,
            )
        )
    return invitees


def push_response(jsonheader: Any, jsonbody: Any) -> CampaignResponse:
    """Response API: the decoded form fields; every parseerror check comes before the
    campaign check (the backend's)."""
    check_header(jsonheader)
    if not isinstance(jsonbody, dict):
        raise errors.ParseError("jsonbody is not one JSON object")
    campaign_id = campaign_id_of(jsonbody.get("campaignid"))
    rating = nps_of(jsonbody["npsrating"]) if "npsrating" in jsonbody else None
    if "catnpsmap" in jsonbody:
        check_catnpsmap(jsonbody["catnpsmap"])
    fields = {f: jsonbody.get(f) for f in RESPONSE_FIELDS}
    fields["npsrating"] = rating
    return CampaignResponse(campaign_id, fields)
