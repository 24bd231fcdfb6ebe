"""The device's record of offline codes it accepted, reported to the platform when back online.

A small SQLite file (stdlib only). A use stays after it is reported, until its code has expired, so the
same single-use code is refused if shown twice on this device (:meth:`OfflineQueue.has_used`); the platform
flags a code used on two devices when both report it.

    queue = OfflineQueue("/var/lib/kiosk/offline-uses.sqlite3")
    result = verifier.verify(token, scenario)       # OfflineVerifier(..., used_handles=queue)
    if result.accepted:
        queue.record(token, result)
    ...
    flushed = queue.flush(client)                    # when the network is back
    for use, item in flushed.flagged + flushed.rejected: ...   # the platform's answer per use

The platform answers each reported use on its own (``recorded``, ``flagged``, ``duplicate`` or
``rejected`` with a code); the queue keeps that answer with the use (:meth:`OfflineQueue.get`). Every one
of those answers is final, so an answered use is not sent again; a use the answer does not cover stays
pending.
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
from xinyi_partner.results import OfflineReportItem, OfflineResult

Clock = Callable[[], float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_uses (
    handle      TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    scenario    TEXT NOT NULL,
    used_at     INTEGER NOT NULL,
    expires_at  INTEGER,
    reported_at INTEGER,
    report_status TEXT,
    report_code TEXT,
    verification_id TEXT
);
CREATE INDEX IF NOT EXISTS offline_uses_pending ON offline_uses (reported_at, used_at);
"""


_SELECT = (
    "SELECT token, handle, scenario, used_at, expires_at, reported_at, report_status, report_code, "
    "verification_id FROM offline_uses"
)


@dataclass(frozen=True)
class OfflineUse:
    token: str = field(repr=False)
    handle: str
    scenario: str
    used_at: int
    expires_at: int | None = None
    reported_at: int | None = None
    report_status: str | None = None  # the platform's answer: recorded | flagged | duplicate | rejected
    report_code: str | None = None  # why a rejected use was refused
    verification_id: str | None = None


@dataclass(frozen=True)
class FlushResult:
    """What one :meth:`OfflineQueue.flush` sent, and the platform's answer for each use."""

    reported: int
    batches: int
    items: list[tuple[OfflineUse, OfflineReportItem]] = field(default_factory=list, repr=False)

    def _with(self, status: str) -> list[tuple[OfflineUse, OfflineReportItem]]:
        return [(use, item) for use, item in self.items if item.status == status]

    @property
    def recorded(self) -> list[tuple[OfflineUse, OfflineReportItem]]:
        return self._with("recorded")

    @property
    def flagged(self) -> list[tuple[OfflineUse, OfflineReportItem]]:
        """Codes the platform saw used more than once (here or at another partner): worth a look."""
        return self._with("flagged")

    @property
    def duplicates(self) -> list[tuple[OfflineUse, OfflineReportItem]]:
        return self._with("duplicate")

    @property
    def rejected(self) -> list[tuple[OfflineUse, OfflineReportItem]]:
        """Uses the platform refused (``item.code`` says why); a benefit granted for them is at your risk."""
        return self._with("rejected")


class OfflineReporter(Protocol):
    """What :meth:`OfflineQueue.flush` needs: :class:`PartnerClient` is one."""

    def report_offline_uses(
        self, uses: list[OfflineUse], *, idempotency_key: str | None = None
    ) -> list[OfflineReportItem]: ...


class OfflineQueue:
    def __init__(self, path: str | Path, *, clock: Clock = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(offline_uses)")}
        for name in ("report_status", "report_code", "verification_id"):  # queues made by 0.1
            if name not in columns:
                self._db.execute(f"ALTER TABLE offline_uses ADD COLUMN {name} TEXT")

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

    def get(self, handle: str) -> OfflineUse | None:
        """The recorded use of ``handle``, with the platform's answer once reported."""
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE handle = ?", (handle,)).fetchone()
        return OfflineUse(*row) if row is not None else None

    def pending(self, limit: int | None = None) -> list[OfflineUse]:
        """Uses not reported yet, oldest first."""
        sql = _SELECT + " WHERE reported_at IS NULL ORDER BY used_at, handle"
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
        batches of at most ``batch_size`` (the platform takes 100). Each use the platform answered is
        marked reported with that answer; the result lists them by answer (``flagged``, ``rejected``…).
        A batch's ``Idempotency-Key`` is derived from its handles, so a flush retried after a crash is
        not a second report. A failure raises (after the batches already answered are marked) and leaves
        the rest queued."""
        if not 1 <= batch_size <= 100:
            raise ValueError("batch_size must be between 1 and 100")
        reported = batches = 0
        answered: list[tuple[OfflineUse, OfflineReportItem]] = []
        skipped: set[str] = set()  # uses the platform's answer did not cover: retried by the next flush
        while True:
            batch = [u for u in self.pending(batch_size + len(skipped)) if u.handle not in skipped][
                :batch_size
            ]
            if not batch:
                return FlushResult(reported=reported, batches=batches, items=answered)
            fingerprint = "\n".join(f"{u.handle}:{u.used_at}" for u in batch).encode()
            key = "offline-report-" + hashlib.sha256(fingerprint).hexdigest()[:40]
            items = client.report_offline_uses(batch, idempotency_key=key)
            now = int(self._clock())
            by_index = {item.index: item for item in items}
            settled = [
                (use, by_index[i]) for i, use in enumerate(batch) if i in by_index and by_index[i].settled
            ]
            done = {use.handle for use, _ in settled}
            skipped.update(use.handle for use in batch if use.handle not in done)
            with self._lock:
                self._db.executemany(
                    "UPDATE offline_uses SET reported_at = ?, report_status = ?, report_code = ?, "
                    "verification_id = ? WHERE handle = ?",
                    [
                        (now, item.status, item.code, item.verification_id, use.handle)
                        for use, item in settled
                    ],
                )
            answered.extend(
                (
                    OfflineUse(
                        use.token,
                        use.handle,
                        use.scenario,
                        use.used_at,
                        use.expires_at,
                        now,
                        item.status,
                        item.code,
                        item.verification_id,
                    ),
                    item,
                )
                for use, item in settled
            )
            reported += len(settled)
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
