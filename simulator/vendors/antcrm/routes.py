"""AntCRM routes: ``POST /antcrm/webhook/listener/{listener_id}`` (vendors.md §2.3)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from simulator.errors import json_response
from simulator.http import BadBody, read_json
from simulator.vendors._base import backend, report_outcomes
from simulator.vendors.antcrm import errors
from simulator.vendors.antcrm.models import AntcrmBackend

blueprint = Blueprint("antcrm", __name__, url_prefix="/antcrm")


@blueprint.post("/webhook/listener/<listener_id>")
def listener(listener_id: str) -> Response:
    """The webhook listener: envelope checks in the documented order, then every item."""
    api = backend(AntcrmBackend)
    client_ip = request.remote_addr
    api.admit(listener_id=listener_id, client_ip=client_ip)
    try:
        document = read_json()
    except BadBody as exc:
        raise errors.InvalidJson() from exc
    outcomes = api.listener(listener_id=listener_id, client_ip=client_ip, document=document)
    report_outcomes(outcomes)  # AC-OUTCOME-1: the journal shows what became of each item
    return json_response({"success": True}, 200)
