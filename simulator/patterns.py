"""The regular expressions clients send: ``$match`` in request patterns (journal find and
count, ``verify``) and in scenario files.

They are RE2's (Google's ``google-re2``), which matches in time linear in the text: no
pattern can stall crmsim. Python's ``re`` backtracks, and ``^/crm/(a+)+$`` against a
40-character path would take hours of one of the server's threads. RE2's syntax is
Python's less backreferences (``\\1``) and lookarounds (``(?=``, ``(?<!``), which it
refuses; ``\\d``, ``\\w`` and ``\\s`` are ASCII (docs/scenarios.md, "Matchers").
"""

from __future__ import annotations

import functools
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a client's bad pattern is its 400, not a line on stderr


class PatternError(ValueError):
    """Not a pattern RE2 compiles; ``str(exc)`` says why."""


@functools.lru_cache(maxsize=512)
def compiled(pattern: str) -> Any:
    """The compiled pattern, or PatternError."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not a regular expression"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None
    except UnicodeEncodeError:  # an unpaired surrogate (a YAML scenario's "\ud800")
        raise PatternError("the pattern is not valid Unicode (an unpaired surrogate)") from None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` is found in ``text`` (``re.search``'s meaning: anchor it
    yourself). PatternError when it does not compile."""
    found = compiled(pattern)
    try:
        return found.search(text) is not None
    except UnicodeEncodeError:  # the text has an unpaired surrogate: never matched by one
        return found.search(text.encode("utf-8", "replace").decode("utf-8")) is not None
