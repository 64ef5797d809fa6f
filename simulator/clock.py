"""One seedable source of ids and one clock per namespace: nothing else in ``simulator/``
calls ``uuid4()``, ``random`` or ``datetime.now()`` for vendor data."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

# where a running clock stops: 9999-12-31T23:59:59.999999Z
LAST = datetime.max.replace(tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """``2024-06-01T12:00:00Z`` (microseconds kept when there are any)."""
    text = dt.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def parse_iso(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a naive one is taken as UTC. Raises ValueError."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:00:00-05:00 is past the year 9999 in UTC
        raise ValueError(f"{text} is outside the years 0001 to 9999 in UTC") from exc


class Clock:
    """Real time, or frozen at an instant; either can be advanced."""

    def __init__(self) -> None:
        self._frozen_at: datetime | None = None
        self._offset = timedelta()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        try:
            return utc_now() + self._offset
        except OverflowError:  # an offset that real time has since carried past 9999
            return LAST

    def freeze(self, at: datetime | None) -> None:
        """Freeze at ``at``; ``None`` returns to real time (and drops any offset)."""
        self._frozen_at = at
        self._offset = timedelta()

    def advance(self, seconds: float) -> None:
        """Move a frozen clock forward; on a running clock, add an offset to real time.
        Raises OverflowError, the clock unchanged, when it would pass the year 9999 (a
        running clock that real time carries there later stays at its last instant)."""
        step = timedelta(seconds=seconds)
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            offset = self._offset + step
            _ = utc_now() + offset  # raises OverflowError past the year 9999
            self._offset = offset


class Ids:
    """The namespace's random source for every generated id, code, token and fake value.

    Seeded, it is deterministic: the same seed and the same requests give the same ids.
    ``restart()`` rewinds it to the start of its seed's stream.
    """

    __slots__ = ("seed", "_random", "_stream")

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        # A Mersenne Twister holds 2.5 KiB: built on first use, so an unused namespace
        # costs none of it (docs/control-plane.md, "Bounded resources").
        self._random: random.Random | None = None
        self._stream: int | None = None

    @property
    def random(self) -> random.Random:
        found = self._random
        if found is None:
            stream = self._stream
            seed = self.seed if stream is None else f"{self.seed}:{stream}"
            found = self._random = random.Random(seed)
        return found

    def at(self, stream: int) -> None:
        """Draw from stream ``stream`` of the seed from now on: a world shared by several
        processes numbers its requests, and request n draws from stream n, so its ids are
        the same whichever process serves it (simulator/shared.py)."""
        self._stream = stream
        self._random = None

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.restart()

    def restart(self) -> None:
        """Rewind to the start of the seed's stream (rebuilt from the seed on next use)."""
        self._random = None

    def digits(self, n: int) -> str:
        return self.token(n, string.digits)

    def hex(self, n: int, upper: bool = True) -> str:
        return self.token(n, "0123456789ABCDEF" if upper else "0123456789abcdef")

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        # ``random.choice`` draws ``alphabet[_randbelow(len(alphabet))]``: the same draws,
        # the same ids for a seed, without a call of ``choice`` per character (ids are made
        # on the hot path: a BOTW create's ``unique_id``)
        below = self.random._randbelow  # type: ignore[attr-defined]
        size = len(alphabet)
        return "".join([alphabet[below(size)] for _ in range(n)])
