"""API keys a process has checked, kept for the verification's hot path (PostgreSQL).

Checking a key is one database read; a verification made a round trip for it alone. Here a key checked
once is kept (by the SHA-256 of the whole key, never the key) with the partner it stands for and the
auth epoch read with it (:class:`app.partners.models.PartnerAuthEpoch`). A verification that uses a kept
key reads the epoch in the statement it makes anyway (the subject's standing); when it has moved — a key
was revoked or a partner suspended or reactivated since, in any process — the key is checked again in
the same transaction before anything is decided (the pass's claim is taken back if the key is refused).
An entry is also forgotten after :data:`KEEP_FOR`, so a key's ``last_used_at`` keeps its one-minute
resolution.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from app.core.principal import Principal
from app.core.security import sha256_hex
from app.partners.service import LAST_USED_RESOLUTION

KEEP_FOR = LAST_USED_RESOLUTION.total_seconds()
MAX_KEYS = 10_000  # the least recently used is forgotten first


@dataclass(frozen=True)
class CheckedKey:
    principal: Principal
    epoch: int  # the auth epoch as of the read that checked the key
    checked_at: float  # time.monotonic()


class KeyCache:
    def __init__(self, keep_for: float = KEEP_FOR, max_keys: int = MAX_KEYS) -> None:
        self._keep_for = keep_for
        self._max_keys = max_keys
        self._entries: OrderedDict[str, CheckedKey] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CheckedKey | None:
        digest = sha256_hex(key)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if time.monotonic() - entry.checked_at >= self._keep_for:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry

    def put(self, key: str, principal: Principal, epoch: int) -> None:
        digest = sha256_hex(key)
        with self._lock:
            self._entries[digest] = CheckedKey(principal, epoch, time.monotonic())
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_keys:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(sha256_hex(key), None)
