"""Opaque, type-prefixed, time-ordered ids (``usr_01JF…``).

26 characters of Crockford base32: 48 bits of milliseconds then 80 random bits, so sorting by id sorts by
creation time. Cursor pagination relies on that.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
