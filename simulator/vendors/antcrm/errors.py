"""AntCRM webhook listener errors: ``{"success": false, "message": "..."}`` (AC-ENV-2)."""

from __future__ import annotations

from typing import Any

from simulator.errors import VendorError, transport_errors


class AntcrmError(VendorError):
    """Base: renders the listener's error body (AC-ENV-1: minimal JSON, every status)."""

    message = "Bad request"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message

    def body(self) -> dict[str, Any]:
        return {"success": False, "message": self.message}


class ListenerNotFound(AntcrmError):
    status = 404
    message = "Listener not found"


class IpNotAllowed(AntcrmError):
    status = 403
    message = "IP not allowed"


class InvalidJson(AntcrmError):
    status = 400
    message = "Invalid JSON"


class SenderUserRequired(AntcrmError):
    status = 400
    message = "senderUser is required"


class SenderUserNotFound(AntcrmError):
    status = 400
    message = "senderUser not found"


class DataMustBeArray(AntcrmError):
    status = 400
    message = "data must be an array"


class RouteNotFound(AntcrmError):
    status = 404
    message = "Not found"


class MethodNotAllowed(AntcrmError):
    status = 405
    message = "Method not allowed"


class PayloadTooLarge(AntcrmError):
    status = 413
    message = "Request body too large"


class TooManyRequests(AntcrmError):
    status = 429
    message = "Too many requests"


class InternalServerError(AntcrmError):
    status = 500
    message = "Internal server error"


# The listener's body for a transport-level status (404, 405, 413, 429, 500, ...).
http_error = transport_errors(
    (RouteNotFound, MethodNotAllowed, PayloadTooLarge, TooManyRequests, InternalServerError),
    lambda status, phrase: AntcrmError(phrase).with_status(status),
)
