"""The device's record of offline codes it accepted, reported to the platform when back online.

A small SQLite file (stdlib only). A use stays after it is reported, until its code has expired, so the
same single-use code is refused if shown twice on this device (:meth:`OfflineQueue.has_used`); the platform
flags a code used on two devices when both report it.

    queue = OfflineQueue("/var/lib/kiosk/offline-uses.sqlite3")
    result = verifier.verify(token, scenario)       # OfflineVerifier(..., used_handles=queue)
    if result.accepted:
        queue.record(token, result)
    ...
    queue.flush(client)                              # when the network is back
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from xinyi_partner.errors import HandleAlreadyUsed
from xinyi_partner.results import OfflineResult

Clock = Callable[[], float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_uses (
    handle      TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    scenario    TEXT NOT NULL,
    used_at     INTEGER NOT NULL,
    expires_at  INTEGER,
    reported_at INTEGER
);
CREATE INDEX IF NOT EXISTS offline_uses_pending ON offline_uses (reported_at, used_at);
"""


@dataclass(frozen=True)
class OfflineUse:
    token: str = field(repr=False)
    handle: str
    scenario: str
    used_at: int
    expires_at: int | None = None
    reported_at: int | None = None


@dataclass(frozen=True)
class FlushResult:
    reported: int
    batches: int
    responses: list[Any] = field(default_factory=list, repr=False)


class OfflineReporter(Protocol):
    """What :meth:`OfflineQueue.flush` needs: :class:`PartnerClient` is one."""

    def report_offline_uses(self, uses: list[OfflineUse], *, idempotency_key: str | None = None) -> Any: ...


class OfflineQueue:
    def __init__(self, path: str | Path, *, clock: Clock = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def __enter__(self) -> OfflineQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record(
        self,
        token: str,
        result: OfflineResult | None = None,
        *,
        handle: str | None = None,
        scenario: str | None = None,
        used_at: float | None = None,
        expires_at: int | None = None,
    ) -> OfflineUse:
        """Remember that the code ``token`` was used now. Pass the accepted :class:`OfflineResult` (or
        ``handle`` and ``scenario``). Raises :class:`HandleAlreadyUsed` if it was recorded before."""
        if result is not None:
            if not result.accepted or result.handle is None:
                raise ValueError("only an accepted offline result can be recorded")
            handle, scenario = result.handle, result.scenario
            expires_at = result.expires_at if expires_at is None else expires_at
        if not handle or not scenario:
            raise ValueError("record needs the accepted result, or handle and scenario")
        use = OfflineUse(
            token=token.strip(),
            handle=handle,
            scenario=scenario,
            used_at=int(self._clock() if used_at is None else used_at),
            expires_at=expires_at,
        )
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO offline_uses (handle, token, scenario, used_at, expires_at) VALUES (?,?,?,?,?)",
                    (use.handle, use.token, use.scenario, use.used_at, use.expires_at),
                )
            except sqlite3.IntegrityError as exc:
                raise HandleAlreadyUsed("This single-use code was already used on this device.") from exc
        return use

    def has_used(self, handle: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM offline_uses WHERE handle = ?", (handle,)).fetchone()
        return row is not None

    def pending(self, limit: int | None = None) -> list[OfflineUse]:
        """Uses not reported yet, oldest first."""
        sql = (
            "SELECT token, handle, scenario, used_at, expires_at, reported_at FROM offline_uses "
            "WHERE reported_at IS NULL ORDER BY used_at, handle"
        )
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [OfflineUse(*row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM offline_uses WHERE reported_at IS NULL"
            ).fetchone()
        return int(count)

    def flush(self, client: OfflineReporter, *, batch_size: int = 100) -> FlushResult:
        """Send every pending use (``client.report_offline_uses``, e.g. a :class:`PartnerClient`) in
        batches; each batch is marked reported once the platform accepted it. A batch's
        ``Idempotency-Key`` is derived from its handles, so a flush retried after a crash is not a second
        report. A failure raises (after the batches already sent are marked) and leaves the rest queued."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        reported = batches = 0
        responses: list[Any] = []
        while True:
            batch = self.pending(batch_size)
            if not batch:
                return FlushResult(reported=reported, batches=batches, responses=responses)
            fingerprint = "\n".join(f"{u.handle}:{u.used_at}" for u in batch).encode()
            key = "offline-report-" + hashlib.sha256(fingerprint).hexdigest()[:40]
            responses.append(client.report_offline_uses(batch, idempotency_key=key))
            now = int(self._clock())
            with self._lock:
                self._db.executemany(
                    "UPDATE offline_uses SET reported_at = ? WHERE handle = ?",
                    [(now, u.handle) for u in batch],
                )
            reported += len(batch)
            batches += 1

    def prune(self, *, grace: int = 3600) -> int:
        """Forget reported uses whose code expired more than ``grace`` seconds ago. Returns how many."""
        cutoff = int(self._clock()) - grace
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM offline_uses WHERE reported_at IS NOT NULL AND expires_at IS NOT NULL "
                "AND expires_at < ?",
                (cutoff,),
            )
        return cursor.rowcount
