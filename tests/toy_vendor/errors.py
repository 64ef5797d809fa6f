"""Toy errors: ``{"error": "..."}``."""

from typing import Any

from simulator.errors import VendorError, transport_errors


class ToyError(VendorError):
    message = "Bad request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


class TextRequired(ToyError):
    status = 400
    message = "text is required."


class NotJson(ToyError):
    status = 400
    message = "The body is not JSON."


class NoSuchNote(ToyError):
    status = 404
    message = "No such note."


class RouteNotFound(ToyError):
    status = 404
    message = "Not found."


http_error = transport_errors(
    (RouteNotFound,), lambda status, phrase: ToyError(phrase).with_status(status)
)
