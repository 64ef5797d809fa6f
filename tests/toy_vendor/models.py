"""Toy backend: notes, kept in the namespace's store."""

from collections.abc import Mapping
from typing import Any

from simulator.vendors._base import Context, VendorBackend
from toy_vendor import errors


class ToyBackend(VendorBackend):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.notes = self.store.table("notes")

    def create_note(self, *, text: str) -> dict[str, Any]:
        note_id = self.notes.insert({"text": text, "at": self.ctx.clock.now().isoformat()})
        self.ctx.send("note", note_id=note_id)
        return {"id": note_id, "text": text}

    def get_note(self, *, note_id: int) -> dict[str, Any]:
        found = self.notes.get(note_id)
        if found is None:
            raise errors.NoSuchNote()
        return {"id": note_id, "text": found["text"]}

    def load_state(self, doc: Mapping[str, Any]) -> None:
        for note in doc.get("notes", []):
            self.notes.insert({"text": note["text"], "at": note.get("at", "")}, note["id"])

    def dump_state(self) -> dict[str, Any]:
        return {"notes": [{"id": n.doc_id, **n} for n in self.notes]}
