"""Encodings for engines that keep their data in another process (``simulator.store.redis``).

Keys (``encode_key``): index keys, groups, order keys and counter names as bytes whose
lexicographic (``memcmp``) order is Python's order, so a sorted set read by lex range lists
``(order key, id)`` entries as the memory engine does. Each value is a type tag then a
self-delimiting body, so no encoding is a prefix of another and ``encode_key(a) + x <
encode_key(b) + y`` whenever ``a < b``:

- ``0x00`` ends a tuple (below every tag: a tuple sorts before its extensions);
- ``0x01`` None;
- ``0x03`` a number: a length byte (``0x80 + n`` for n big-endian bytes of a non-negative
  floor, ``0x7f - n`` for the ones' complement of a negative one; from 127 bytes on,
  ``0xff`` or ``0x00`` and two bytes of length, complemented when negative),
  then ``0x00`` for an integer or ``0x01`` and the double's 8 bytes made sortable (sign
  bit set when positive, every bit flipped when negative). Booleans and integral floats
  are their integers, as Python compares and hashes them;
- ``0x04`` str (UTF-8) and ``0x05`` bytes: ``0x00`` escaped as ``0x00 0xff``, ended by
  ``0x00``;
- ``0x06`` a naive datetime: its microseconds since 0001-01-01 as a number;
- ``0x07`` an aware datetime: its microseconds since the epoch (UTC) as a number, then its
  offset in microseconds as a number (two instants that are equal in different offsets are
  different keys here, and order by offset; ``parse_iso`` hands out UTC only);
- ``0x08`` a tuple: its items, then ``0x00``.

Values of different types never compare in Python; here they order by tag.

Documents (``dumps``/``loads``): JSON text, with datetimes and bytes as one-key objects
``{"\\u0000": [tag, text]}`` (a dict with a ``"\\u0000"`` key of its own is written as
``{"\\u0000": ["d", [[key, value], ...]]}``). Tuples come back as lists, as in any JSON.
C's ``json`` does the work; a document nested deeper than the recursion limit takes an
iterative encoder and parser written here.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

END, NONE, NUMBER, STR, BYTES, NAIVE, AWARE, TUPLE = 0, 1, 3, 4, 5, 6, 7, 8
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1, 1, 1)
MICRO = timedelta(microseconds=1)


# -- keys ------------------------------------------------------------------------------------
def _number(value: int | float, out: bytearray) -> None:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} cannot be a key")
        whole = int(value // 1)
        frac = value - whole
    else:
        whole, frac = int(value), 0.0
    negative = whole < 0
    size = ((-whole if negative else whole).bit_length() + 7) // 8
    if size > 0xFFFF:
        raise ValueError("a number key may have at most 65,535 bytes")
    body = (1 << (8 * size)) - 1 + whole if negative else whole
    if size < 127:
        out.append(0x7F - size if negative else 0x80 + size)
    else:  # a long one: 0x00 or 0xff, then two bytes of length (complemented if negative)
        out.append(0x00 if negative else 0xFF)
        out += (0xFFFF - size if negative else size).to_bytes(2, "big")
    out += body.to_bytes(size, "big")
    if frac:
        out.append(1)
        (bits,) = struct.unpack(">Q", struct.pack(">d", value))
        out += struct.pack(">Q", bits ^ (0xFFFFFFFFFFFFFFFF if bits >> 63 else 1 << 63))
    else:
        out.append(0)


def _text(data: bytes, out: bytearray) -> None:
    out += data.replace(b"\x00", b"\x00\xff")
    out.append(0)


def _encode(value: Any, out: bytearray) -> None:
    kind = type(value)
    if kind is str:
        out.append(STR)
        _text(value.encode("utf-8", "surrogatepass"), out)
    elif kind is int or kind is bool or kind is float:
        out.append(NUMBER)
        _number(value, out)
    elif value is None:
        out.append(NONE)
    elif kind is tuple:
        out.append(TUPLE)
        for item in value:
            _encode(item, out)
        out.append(END)
    elif isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            out.append(NAIVE)
            _number((value - NAIVE_EPOCH) // MICRO, out)
        else:
            out.append(AWARE)
            _number((value - EPOCH) // MICRO, out)
            _number(offset // MICRO, out)
    elif isinstance(value, bytes):
        out.append(BYTES)
        _text(value, out)
    else:
        raise TypeError(f"a key cannot be a {kind.__name__}")


def _fast(value: Any) -> bytes | None:
    """The bytes of a str, a non-negative int below 2**1000, or a tuple of those, written
    at once (the same bytes as ``_encode``, several times faster: a bulk load encodes
    several keys per record); None for anything else."""
    kind = type(value)
    if kind is str:
        return b"\x04%s\x00" % value.encode("utf-8", "surrogatepass").replace(b"\x00", _ZERO)
    if kind is int and 0 <= value < _FAST_INTS:
        size = (value.bit_length() + 7) // 8
        return b"\x03%c%s\x00" % (0x80 + size, value.to_bytes(size, "big"))
    if kind is tuple:
        parts = [b"\x08"]
        for item in value:
            kind = type(item)
            if kind is str:
                text = item.encode("utf-8", "surrogatepass").replace(b"\x00", _ZERO)
                parts.append(b"\x04%s\x00" % text)
            elif kind is int and 0 <= item < _FAST_INTS:
                size = (item.bit_length() + 7) // 8
                parts.append(b"\x03%c%s\x00" % (0x80 + size, item.to_bytes(size, "big")))
            else:
                return None
        parts.append(b"\x00")
        return b"".join(parts)
    return None


def encode_key(value: Hashable) -> bytes:
    """The bytes of one key (see the module's docstring)."""
    fast = _fast(value)
    if fast is not None:
        return fast
    out = bytearray()
    _encode(value, out)
    return bytes(out)


_FAST_INTS = 1 << 1000  # fewer than 127 bytes: a one-byte length
_ZERO = b"\x00\xff"


def encode_entry(order: Any, doc_id: int) -> bytes:
    """A sorted set member for the entry ``(order, doc_id)``."""
    fast, tail = _fast(order), _fast(doc_id)
    if fast is not None and tail is not None:
        return fast + tail
    out = bytearray()
    _encode(order, out)
    out.append(NUMBER)
    _number(doc_id, out)
    return bytes(out)


def _read_number(data: bytes, at: int) -> tuple[int | float, int]:
    head = data[at]
    negative = head < 0x80
    at += 1
    if head in (0x00, 0xFF):
        size = int.from_bytes(data[at : at + 2], "big")
        size = 0xFFFF - size if negative else size
        at += 2
    else:
        size = 0x7F - head if negative else head - 0x80
    whole = int.from_bytes(data[at : at + size], "big")
    if negative:
        whole -= (1 << (8 * size)) - 1
    at += size
    if data[at] == 1:
        (bits,) = struct.unpack_from(">Q", data, at + 1)
        bits ^= 1 << 63 if bits >> 63 else 0xFFFFFFFFFFFFFFFF
        (value,) = struct.unpack(">d", struct.pack(">Q", bits))
        return float(value), at + 9
    return whole, at + 1


def _read_text(data: bytes, at: int) -> tuple[bytes, int]:
    parts = []
    while True:
        end = data.index(b"\x00", at)
        parts.append(data[at:end])
        if end + 1 < len(data) and data[end + 1] == 0xFF:
            parts.append(b"\x00")
            at = end + 2
        else:
            return b"".join(parts), end + 1


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    """The value encoded at ``at`` and the position after it (iterative over tuples)."""
    stack: list[list[Any]] = []
    while True:
        tag = data[at]
        at += 1
        value: Any
        if tag == TUPLE:
            stack.append([])
            continue
        if tag == END:
            value = tuple(stack.pop())
        elif tag == STR:
            raw, at = _read_text(data, at)
            value = raw.decode("utf-8", "surrogatepass")
        elif tag == NUMBER:
            value, at = _read_number(data, at)
        elif tag == NONE:
            value = None
        elif tag == NAIVE:
            micros, at = _read_number(data, at)
            value = NAIVE_EPOCH + int(micros) * MICRO
        elif tag == AWARE:
            micros, at = _read_number(data, at)
            offset, at = _read_number(data, at)
            zone = UTC if not offset else _zone(int(offset))
            value = (EPOCH + int(micros) * MICRO).astimezone(zone)
        elif tag == BYTES:
            value, at = _read_text(data, at)
        else:
            raise ValueError(f"unknown key tag {tag}")
        if not stack:
            return value, at
        stack[-1].append(value)


def _zone(offset_micros: int) -> Any:
    from datetime import timezone

    return timezone(offset_micros * MICRO)


def decode_key(data: bytes) -> Any:
    value, _ = _decode(data, 0)
    return value


def decode_entry(data: bytes) -> tuple[Any, int]:
    """``(order key, id)`` from a member made by ``encode_entry``."""
    order, at = _decode(data, 0)
    doc_id, _ = _decode(data, at)
    return order, doc_id


# -- documents -------------------------------------------------------------------------------
TAG = "\x00"
_ESCAPED_TAG = "\\u0000"


def _tagged(value: Any) -> dict[str, Any]:
    if isinstance(value, datetime):
        return {TAG: ["t", value.isoformat()]}
    if isinstance(value, bytes):
        return {TAG: ["b", base64.b64encode(value).decode("ascii")]}
    raise TypeError(f"a stored document cannot hold a {type(value).__name__}")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and TAG in obj:
        kind, body = obj[TAG]
        if kind == "t":
            return datetime.fromisoformat(body)
        if kind == "b":
            return base64.b64decode(body)
        if kind == "d":
            return dict((k, v) for k, v in body)
    return obj


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tagged)


def dumps(value: Any) -> str:
    """JSON text of a stored value (see the module's docstring)."""
    try:
        text = _ENCODER.encode(value)
    except RecursionError:
        return _dumps_deep(value)
    if _ESCAPED_TAG not in text:
        return text  # no tag object, no string holding a NUL: nothing to check
    tags = 0

    def default(item: Any) -> Any:
        nonlocal tags
        tags += 1
        return _tagged(item)

    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)
    except RecursionError:
        return _dumps_deep(value)
    # every tag object writes one \u0000; more of them: a string of the value holds one
    if text.count(_ESCAPED_TAG) != tags:
        return _dumps_deep(value)
    return text


def loads(text: str | bytes) -> Any:
    """The value ``dumps`` wrote."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        if _ESCAPED_TAG in text:
            return json.loads(text, object_hook=_untag)
        return json.loads(text)
    except RecursionError:
        return _loads_deep(text)


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _dumps_deep(value: Any) -> str:
    """``dumps`` without recursion, escaping dicts that have a ``"\\u0000"`` key."""
    out: list[str] = []
    todo: list[Any] = [value]  # values, and str pieces to write as they are
    while todo:
        item = todo.pop()
        if type(item) is _Raw:
            out.append(item.text)
            continue
        if isinstance(item, dict):
            if TAG in item:
                pairs = [[k, v] for k, v in item.items()]
                todo.extend([_Raw("]}"), pairs, _Raw('{"\\u0000":["d",')])
                continue
            pieces: list[Any] = [_Raw("{")]
            for n, (key, sub) in enumerate(item.items()):
                if not isinstance(key, str):
                    key = _scalar(key).strip('"')
                pieces.append(_Raw(("," if n else "") + _scalar(key) + ":"))
                pieces.append(sub)
            pieces.append(_Raw("}"))
            todo.extend(reversed(pieces))
        elif isinstance(item, list | tuple):
            pieces = [_Raw("[")]
            for n, sub in enumerate(item):
                if n:
                    pieces.append(_Raw(","))
                pieces.append(sub)
            pieces.append(_Raw("]"))
            todo.extend(reversed(pieces))
        elif isinstance(item, datetime | bytes):
            out.append(json.dumps(_tagged(item), separators=(",", ":")))
        else:
            out.append(_scalar(item))
    return "".join(out)


class _Raw:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_TOKEN = re.compile(r'\s*(?:([\[\]{}:,])|(")|(-?\d[\d.eE+-]*|true|false|null|NaN|-?Infinity))')


_scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009


class _Object:
    """An object being parsed: its members, and its pending key."""

    __slots__ = ("members", "key")

    def __init__(self) -> None:
        self.members: dict[str, Any] = {}
        self.key: str | None = None


def _loads_deep(text: str) -> Any:
    """A JSON parser without recursion, for documents nested past the recursion limit."""
    decoder = json.JSONDecoder()
    stack: list[list[Any] | _Object] = []
    at = 0
    while True:
        match = _TOKEN.match(text, at)
        if match is None:
            raise ValueError(f"bad stored JSON at {at}")
        punct, quote, literal = match.groups()
        at = match.end()
        value: Any
        if punct == "[":
            stack.append([])
            continue
        if punct == "{":
            stack.append(_Object())
            continue
        if punct in (",", ":"):
            continue
        if punct in ("]", "}"):
            top = stack.pop()
            value = _untag(top.members) if isinstance(top, _Object) else top
        elif quote:
            value, at = _scanstring(text, at)
        else:
            value = decoder.decode(literal)
        if not stack:
            return value
        frame = stack[-1]
        if isinstance(frame, list):
            frame.append(value)
        elif frame.key is None:
            frame.key = value
        else:
            frame.members[frame.key] = value
            frame.key = None
