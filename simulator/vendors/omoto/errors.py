"""Omoto errors: ``{"response": "<code>"}`` (OM-KEY-1, OM-CRM-3, OM-RESP-2).

Omoto documents two error bodies, ``401 {"response": "keymismatch"}`` and
``400 {"response": "parseerror"}``. Transport-level errors (unknown endpoint, wrong method,
fault injection) keep the same one-field shape with a lower-case code made from the HTTP
reason phrase (``notfound``, ``methodnotallowed``, ...): crmsim's choice, documented in
``docs/vendors/omoto.md``.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.errors import VendorError, header_text, transport_errors


class OmotoError(VendorError):
    """Base: renders Omoto's error body. ``reason`` is crmsim's note of why (OM-H1): never in
    the body, which is Omoto's one code, but beside it in the ``X-Sim-Reason`` header."""

    code = "parseerror"

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or self.code)
        self.reason = reason
        if reason:
            self.headers["X-Sim-Reason"] = header_text(reason)

    def body(self) -> dict[str, Any]:
        return {"response": self.code}


class KeyMismatch(OmotoError):
    """The key is missing, empty or unknown, or does not belong to the pushed campaign."""

    status = 401
    code = "keymismatch"


class ParseError(OmotoError):
    """The body cannot be read or breaks one of the OM-CRM-3 or OM-RESP-2 rules."""

    status = 400
    code = "parseerror"


class RouteNotFound(OmotoError):
    """No such page: a path under /omoto that is no configured endpoint."""

    status = 404
    code = "notfound"


class MethodNotAllowed(OmotoError):
    status = 405
    code = "methodnotallowed"


class PayloadTooLarge(OmotoError):
    status = 413
    code = "requestentitytoolarge"


class TooManyRequests(OmotoError):
    status = 429
    code = "toomanyrequests"


class InternalServerError(OmotoError):
    status = 500
    code = "internalservererror"


def _other(status: int, phrase: str) -> OmotoError:
    error = OmotoError().with_status(status)
    error.code = re.sub(r"[^a-z]", "", phrase.lower()) or "error"
    return error


# Omoto's body for a transport-level status (400 and 401 are its own two errors).
http_error = transport_errors(
    (
        ParseError,
        KeyMismatch,
        RouteNotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        TooManyRequests,
        InternalServerError,
    ),
    _other,
)
