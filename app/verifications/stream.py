"""The resident's live view of scans: server-sent events from ``GET /v1/me/verifications/stream``.

How a scan reaches an open stream within a second, with one process or many: after a verification has
committed, the request bumps a per-subject counter in the key-value store (``scans:<subject id>``; in
Redis an ``INCR``, in the embedded store a dictionary). Each open stream reads that counter every
``POLL_SECONDS`` — one ``GET``, awaited on the event loop, no database work — and only when it moved
reads the new rows from the database. Every ``SAFETY_SECONDS`` it reads the database anyway, in case a
bump was lost. We chose this over Redis pub/sub because it needs nothing beyond the store contract every
deployment already has (so it works the same on the embedded store), keeps no connection per stream in
Redis, and survives a Redis restart: the worst case is one ``SAFETY_SECONDS`` of delay.

Rows are read with a short session of their own (the request's session is gone once streaming starts),
by creation time with a few seconds of overlap, so a scan that committed late, out of id order, is still
sent once.

Bounds: a process holds at most ``sse_max_streams_per_process`` streams and each user at most
``sse_max_streams_per_user`` of them (429 past either); a stream sends a heartbeat every 15 s, ends
after ``sse_idle_seconds`` without a scan and after 30 minutes in any case (the client reconnects with
``Last-Event-ID``), and ends within a poll (a quarter second) once the process is told to stop
(:class:`Streams`.drain, from SIGTERM), so a restart never waits on open streams.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.errors import RateLimited
from app.core.store import Get, Incr, KeyValueStoreOnLoop
from app.verifications import service
from app.verifications.models import Verification

POLL_SECONDS = 0.25
SAFETY_SECONDS = 5.0
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 30 * 60  # then the client reconnects with Last-Event-ID
OVERLAP = timedelta(seconds=5)
COUNTER_TTL_SECONDS = 24 * 3600


def counter_key(subject_id: str) -> str:
    return f"scans:{subject_id}"


async def notify(store: KeyValueStoreOnLoop, *subject_ids: str) -> None:
    """Called after the verifications committed (a background task of the response): one round trip for a
    whole offline report, each subject's counter bumped once (its stream reads every new row anyway)."""
    if subject_ids:
        await store.batch([Incr(counter_key(s), COUNTER_TTL_SECONDS) for s in dict.fromkeys(subject_ids)])


Render = Callable[[Session, list[Verification]], list[dict[str, Any]]]


class Streams:
    """This process's open streams: the caps, and the stop signal every stream watches."""

    def __init__(self, per_user: int, per_process: int, idle_seconds: float) -> None:
        self.per_user = per_user
        self.per_process = per_process
        self.idle_seconds = idle_seconds
        self.draining = threading.Event()
        self._lock = threading.Lock()
        self._by_user: dict[str, int] = {}

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._by_user.values())

    def acquire(self, user_id: str) -> Slot:
        """Take a slot for ``user_id`` or raise 429."""
        with self._lock:
            if self.draining.is_set() or sum(self._by_user.values()) >= self.per_process:
                raise RateLimited(
                    "This server holds as many live streams as it can; retry shortly.",
                    retry_after=5,
                    code="too_many_streams",
                )
            if self._by_user.get(user_id, 0) >= self.per_user:
                raise RateLimited(
                    f"At most {self.per_user} live streams per account; close one first.",
                    retry_after=30,
                    code="too_many_streams_for_user",
                )
            self._by_user[user_id] = self._by_user.get(user_id, 0) + 1
        return Slot(self, user_id)

    def _release(self, user_id: str) -> None:
        with self._lock:
            left = self._by_user.get(user_id, 0) - 1
            if left > 0:
                self._by_user[user_id] = left
            else:
                self._by_user.pop(user_id, None)

    def drain(self) -> None:
        """Stop: every open stream ends at its next poll, and no new one starts."""
        self.draining.set()


def _read(
    engine: Engine, subject_id: str, after: datetime, sent: set[str], render: Render | None
) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(id, created_at, event data) of the subject's scans since ``after`` not sent yet."""
    with Session(engine, expire_on_commit=False) as session:
        fresh = [row for row in service.since(session, subject_id, after) if row.id not in sent]
        if render is None:
            return [(row.id, row.created_at, {}) for row in fresh]
        return [
            (row.id, row.created_at, data) for row, data in zip(fresh, render(session, fresh), strict=True)
        ]


def _created_at_of(engine: Engine, subject_id: str, verification_id: str) -> datetime | None:
    with Session(engine) as session:
        found = session.get(Verification, verification_id)
        return found.created_at if found is not None and found.subject_id == subject_id else None


def _event(verification_id: str, data: dict[str, Any]) -> str:
    return f"id: {verification_id}\nevent: verification\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


class Slot:
    """One open stream's place; given back once, when the stream ends or, for a response that never
    started streaming (its client left first), when it is collected."""

    def __init__(self, streams: Streams, user_id: str) -> None:
        self._streams: Streams | None = streams
        self._user_id = user_id

    def release(self) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            streams._release(self._user_id)

    def __del__(self) -> None:
        self.release()


async def held(slot: Slot, events: AsyncIterator[str]) -> AsyncIterator[str]:
    """``events`` in ``slot``, given back however the stream ends (finished, idle, drained, or
    cancelled when the client went away)."""
    try:
        async for event in events:
            yield event
    finally:
        slot.release()


async def events(
    engine: Engine,
    store: KeyValueStoreOnLoop,
    subject_id: str,
    last_event_id: str | None,
    render: Render,
    is_disconnected: Callable[[], Awaitable[bool]],
    streams: Streams | None = None,
) -> AsyncIterator[str]:
    """Scans after ``last_event_id`` (or from the moment of connecting) as ``event: verification``."""
    started = time.monotonic()
    idle_seconds = streams.idle_seconds if streams is not None else MAX_STREAM_SECONDS
    watermark = utcnow()
    resumed = None
    if last_event_id:
        resumed = await to_thread.run_sync(_created_at_of, engine, subject_id, last_event_id)
    if resumed is not None:
        watermark = resumed
        sent: dict[str, datetime] = {last_event_id: resumed} if last_event_id else {}
    else:  # from now on: what is already there is not news
        already = await to_thread.run_sync(_read, engine, subject_id, watermark - OVERLAP, set(), None)
        sent = {vid: at for vid, at, _ in already}
    (counter,) = await store.batch([Get(counter_key(subject_id))])
    yield "retry: 1000\n: connected\n\n"
    checked = last_beat = last_event = time.monotonic()
    catch_up = resumed is not None
    while time.monotonic() - started < MAX_STREAM_SECONDS:
        if streams is not None and streams.draining.is_set():
            yield ": server restarting; reconnect\n\n"
            return
        if time.monotonic() - last_event > idle_seconds:
            yield ": idle; reconnect\n\n"
            return
        if await is_disconnected():
            return
        (current,) = await store.batch([Get(counter_key(subject_id))])
        if catch_up or current != counter or time.monotonic() - checked > SAFETY_SECONDS:
            catch_up, counter, checked = False, current, time.monotonic()
            rows = await to_thread.run_sync(_read, engine, subject_id, watermark - OVERLAP, set(sent), render)
            for verification_id, created_at, data in rows:
                sent[verification_id] = created_at
                watermark = max(watermark, created_at)
                last_event = time.monotonic()
                yield _event(verification_id, data)
            horizon = watermark - 2 * OVERLAP
            sent = {vid: at for vid, at in sent.items() if at >= horizon}
        if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        await anyio.sleep(POLL_SECONDS)
