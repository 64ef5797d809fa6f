"""AntCRM operations: ``POST /antcrm/webhook/listener/{listener_id}`` (docs/vendors/antcrm.md).

The view checks the listener and the sender's address, reads the envelope and hands every
item to the backend; the rules are in models.py, the field formats in parsing.py."""

from __future__ import annotations

from flask import Response, request

from simulator.errors import json_response
from simulator.http import BadBody
from simulator.vendors._base import JSON_BODY, Operations, report_outcomes, request_document
from simulator.vendors.antcrm import errors
from simulator.vendors.antcrm.models import AntcrmBackend

operations = Operations()


def reply() -> Response:
    return json_response({"success": True}, 200)


@operations(
    "POST",
    "/webhook/listener/<listener_id>",
    reads=JSON_BODY,
    answers={200: "listener.response", **dict.fromkeys((400, 403, 404, 405, 413), "error")},
)
def listener(api: AntcrmBackend, listener_id: str) -> Response:
    """The webhook listener: envelope checks in the documented order, then every item."""
    client_ip = request.remote_addr
    api.authorize(listener_id=listener_id, client_ip=client_ip)
    try:
        document = request_document()
    except BadBody as exc:
        raise errors.InvalidJson() from exc
    outcomes = api.listener(listener_id=listener_id, client_ip=client_ip, document=document)
    report_outcomes(outcomes)  # AC-OUTCOME-1: the journal shows what became of each item
    return reply()
