"""BOTW CRM API errors: ``{"status": "error", "message": "..."}`` (BW-BODY-1)."""

from __future__ import annotations

from typing import Any

from simulator.errors import VendorError, transport_errors


class BotwError(VendorError):
    """Base: renders BOTW's error body."""

    message = "Bad request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message

    def body(self) -> dict[str, Any]:
        return {"status": "error", "message": self.message}


class Unauthorized(BotwError):
    status = 403
    message = "Invalid API key or unauthorized access."


class EmailOrPhoneRequired(BotwError):
    status = 400
    message = "Email or phone is required."


class InvalidEmail(BotwError):
    status = 400
    message = "Invalid email address."


class InvalidPhone(BotwError):
    status = 400
    message = "Invalid phone number."


class Blacklisted(BotwError):
    status = 400
    message = "The provided email or phone number has been blacklisted."


class DeleteParameterRequired(BotwError):
    status = 400
    message = "At least one of id, email or phone must be provided."


class SearchParameterRequired(BotwError):
    status = 400
    message = "At least one query parameter must be provided."


class ContactNotFound(BotwError):
    status = 404
    message = "Contact not found."


class NoContactsFound(BotwError):
    status = 404
    message = "No contacts found."


class BadRequestBody(BotwError):
    """The body or query cannot be read (crmsim's wording; BOTW documents none)."""

    status = 400
    message = "Malformed request."


class RouteNotFound(BotwError):
    status = 404
    message = "Not found."


class MethodNotAllowed(BotwError):
    status = 405
    message = "Method not allowed."


class PayloadTooLarge(BotwError):
    status = 413
    message = "Request body too large."


class TooManyRequests(BotwError):
    status = 429
    message = "Too many requests."


class InternalServerError(BotwError):
    status = 500
    message = "Internal server error."


http_error = transport_errors(
    (RouteNotFound, MethodNotAllowed, PayloadTooLarge, TooManyRequests, InternalServerError),
    lambda status, phrase: BotwError(phrase + ".").with_status(status),
)
