"""Toy operations: ``POST /toy/notes`` and ``GET /toy/notes/{note_id}``."""

from flask import Response

from simulator.errors import json_response
from simulator.http import BadBody
from simulator.vendors._base import JSON_BODY, NOTHING, Operations, request_document
from toy_vendor import errors, parsing
from toy_vendor.models import ToyBackend

operations = Operations()


def reply(body: object, status: int) -> Response:
    return json_response(body, status)


@operations("POST", "/notes", reads=JSON_BODY, answers={201: "create_note.response", 400: "error"})
def create_note(api: ToyBackend) -> Response:
    try:
        document = request_document()
    except BadBody as exc:
        raise errors.NotJson() from exc
    return reply(api.create_note(text=parsing.note_text(document)), 201)


@operations(
    "GET",
    "/notes/<int:note_id>",
    reads=NOTHING,
    answers={200: "create_note.response", 404: "error"},
)
def get_note(api: ToyBackend, note_id: int) -> Response:
    return reply(api.get_note(note_id=note_id), 200)
