"""Toy request documents into typed arguments."""

from typing import Any

from toy_vendor import errors


def note_text(document: Any) -> str:
    text = document.get("text") if isinstance(document, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise errors.TextRequired()
    return text.strip()
