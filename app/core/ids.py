"""Opaque, type-prefixed, time-ordered ids (``usr_01JF…``).

26 characters of Crockford base32: 48 bits of milliseconds then 80 random bits, so sorting by id sorts by
creation time. Within one process ids are strictly increasing (ULID's monotonic rule: an id made in the
same millisecond as the previous one is that one plus one), so cursor pagination by id is exact for
rows written by one process and ordered to the millisecond across processes.
"""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = 0


def _next_value() -> int:
    global _last
    with _lock:
        value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
        if value <= _last:
            value = _last + 1
        _last = value
        return value


def new_id(prefix: str) -> str:
    value = _next_value()
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
