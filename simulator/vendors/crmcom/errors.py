"""CRM.COM Web API v2 errors: the envelope with an exception code and ``data: null`` (CC-ERR-1).

Application errors are answered with HTTP 200 (CC-ERR-1); only transport-level problems (unknown
method path 404, wrong HTTP method 405, body too large 413, injected faults) carry another
status, and they use the same envelope.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import VendorError, transport_errors

PREFIX = "COM.CRM.EXCEPTION."


class CrmcomError(VendorError):
    """Base: renders ``{"status": {"code", "message", "description"}, "data": null}``."""

    status = 200
    code = PREFIX + "GENERAL.UNEXPECTEDERROREXCEPTION"
    message = "An unexpected error occurred."

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.message)
        self.description = description

    def body(self) -> dict[str, Any]:
        return {
            "status": {"code": self.code, "message": self.message, "description": self.description},
            "data": None,
        }


class InvalidCredentials(CrmcomError):
    code = PREFIX + "AUTHENTICATION.INVALIDCREDENTIALSEXCEPTION"
    message = "The provided credentials are invalid."


class InvalidToken(CrmcomError):
    code = PREFIX + "AUTHENTICATION.INVALIDTOKENEXCEPTION"
    message = "The authentication token is invalid, released or expired."


class InvalidRequestBody(CrmcomError):
    code = PREFIX + "GENERAL.INVALIDREQUESTBODYEXCEPTION"
    message = "The request body must be a JSON object."


class MandatoryParameterMissing(CrmcomError):
    code = PREFIX + "GENERAL.MANDATORYPARAMETERMISSINGEXCEPTION"
    message = "A mandatory parameter is missing."

    def __init__(self, parameter: str) -> None:
        super().__init__(f"The parameter '{parameter}' is mandatory.")
        self.parameter = parameter


class InvalidParameterValue(CrmcomError):
    code = PREFIX + "GENERAL.INVALIDPARAMETERVALUEEXCEPTION"
    message = "A parameter has an invalid value."

    def __init__(self, parameter: str | None, reason: str) -> None:
        super().__init__(f"The parameter '{parameter}' {reason}." if parameter else reason)
        self.parameter = parameter


class OnlyOneIdentifierAllowed(CrmcomError):
    code = PREFIX + "GENERAL.ONLYONEIDENTIFIERALLOWEDEXCEPTION"
    message = "Only one identifier field is allowed."

    def __init__(self, parameter: str) -> None:
        super().__init__(f"The parameter '{parameter}' must specify exactly one field.")
        self.parameter = parameter


class MaximumNumberOfResultsExceeded(CrmcomError):
    code = PREFIX + "GENERAL.MAXIMUMNUMBEROFRESULTSEXCEEDEDEXCEPTION"
    message = "The maximum number of results is exceeded."

    def __init__(self, maximum: int) -> None:
        super().__init__(f"The parameter 'number_of_results' can be at most {maximum}.")


class EntityNotFound(CrmcomError):
    code = PREFIX + "GENERAL.ENTITYNOTFOUNDEXCEPTION"
    message = "The entity was not found."

    def __init__(self, entity: str, field: str, value: str) -> None:
        super().__init__(f"No {entity} has {field} '{value}'.")


class ContactInformationNotUnique(CrmcomError):
    code = PREFIX + "CONTACTINFORMATION.CONTACTINFORMATIONNOTUNIQUEEXCEPTION"
    message = "The contact information is not unique."

    def __init__(self, field: str) -> None:
        super().__init__(f"Another contact information has the same {field}.")


class MethodNotFound(CrmcomError):
    """An unknown path under ``/crmapi/rest/v2/``: the only error answered with HTTP 404."""

    status = 404
    code = PREFIX + "GENERAL.METHODNOTFOUNDEXCEPTION"
    message = "The Web API method was not found."


class MethodNotAllowed(MethodNotFound):
    """A known path called with the wrong HTTP method (crmsim's choice: 405, same code)."""

    status = 405
    message = "The Web API method does not support this HTTP method."


class PayloadTooLarge(InvalidRequestBody):
    """A body over the simulator's size limit: the request body cannot be read."""

    status = 413
    message = "The request body is too large."


def _other(status: int, phrase: str) -> CrmcomError:
    """A code built from the reason phrase, in the verified format
    (``COM.CRM.EXCEPTION.GENERAL.TOOMANYREQUESTSEXCEPTION``)."""
    phrase = "Unexpected Error" if phrase == "Error" else phrase
    error = CrmcomError().with_status(status)
    error.code = PREFIX + "GENERAL." + "".join(c for c in phrase.upper() if c.isalpha())
    error.code += "EXCEPTION"
    error.message = phrase + "."
    return error


# CRM.COM's envelope for a transport-level status (404, 405, 413, 429, 500, ...).
http_error = transport_errors((MethodNotFound, MethodNotAllowed, PayloadTooLarge), _other)
