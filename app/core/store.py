"""Key-value store: Redis in production, an in-process dictionary when no Redis URL is set.

Both implement the same small contract, proven by one contract test suite (``tests/core/test_store.py``):
atomic set-if-absent with expiry, overwrite with expiry, counters with expiry, get, delete, and a batch of
these in one round trip. Single-use token handles, rate limits and idempotency keys are built only on
these operations.

Code on the event loop (the hot path's handlers, idempotency records, scan notices) uses the store's
:func:`on_loop` face instead: the same batch, awaited. With Redis that is redis-py's asyncio client, so a
slow or hanging Redis holds up only the requests waiting for it, never the loop and every other request
with it; the in-process store's calls never wait, so they run inline.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio


# The operations a batch can hold: each means what the method of the same name means.
@dataclass(frozen=True)
class SetIfAbsent:
    key: str
    value: str
    ttl_seconds: float


@dataclass(frozen=True)
class Set:
    key: str
    value: str
    ttl_seconds: float


@dataclass(frozen=True)
class Get:
    key: str


@dataclass(frozen=True)
class Delete:
    key: str


@dataclass(frozen=True)
class Incr:
    key: str
    ttl_seconds: float


Operation = SetIfAbsent | Set | Get | Delete | Incr


class KeyValueStore(Protocol):
    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Store ``value`` unless ``key`` exists; True when stored. Atomic."""
        ...

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        """Store ``value`` whether or not ``key`` exists, with a new expiry."""
        ...

    def get(self, key: str) -> str | None: ...

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        ...

    def incr(self, key: str, ttl_seconds: float) -> int:
        """Add one and return the new value. The expiry is set when the counter is created and is not
        extended by later increments, so a window of ``ttl_seconds`` starts at the first hit."""
        ...

    def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires, None when it does not exist."""
        ...

    def batch(self, operations: Sequence[Operation]) -> list[Any]:
        """Run the operations in order and return their results, each exactly what the single call
        returns (``SetIfAbsent`` a bool, ``Set`` None, ``Get`` str or None, ``Delete`` a bool, ``Incr``
        an int). Redis gets them in one round trip. Each operation is atomic on its own; the batch is
        not a transaction (another client may act between two of them), and when one fails the others
        may still have run."""
        ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def _check_ttl(ttl_seconds: float) -> None:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")


class MemoryStore:
    """The embedded store: one process, thread-safe, same semantics as :class:`RedisStore`."""

    def __init__(self, prefix: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self._prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._data: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> tuple[str, float] | None:
        entry = self._data.get(self._prefix + key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._data[self._prefix + key]
            return None
        return entry

    def _sweep(self) -> None:
        # Bounded memory without a background thread: drop expired keys now and then.
        if len(self._data) > 10_000:
            now = self._clock()
            for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[key]

    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        _check_ttl(ttl_seconds)
        with self._lock:
            if self._live(key) is not None:
                return False
            self._sweep()
            self._data[self._prefix + key] = (value, self._clock() + ttl_seconds)
            return True

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        with self._lock:
            self._sweep()
            self._data[self._prefix + key] = (value, self._clock() + ttl_seconds)

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._live(key)
            return entry[0] if entry else None

    def delete(self, key: str) -> bool:
        with self._lock:
            existed = self._live(key) is not None
            self._data.pop(self._prefix + key, None)
            return existed

    def incr(self, key: str, ttl_seconds: float) -> int:
        _check_ttl(ttl_seconds)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                self._sweep()
                self._data[self._prefix + key] = ("1", self._clock() + ttl_seconds)
                return 1
            value = int(entry[0]) + 1
            self._data[self._prefix + key] = (str(value), entry[1])
            return value

    def ttl(self, key: str) -> float | None:
        with self._lock:
            entry = self._live(key)
            return None if entry is None else max(0.0, entry[1] - self._clock())

    def batch(self, operations: Sequence[Operation]) -> list[Any]:
        for operation in operations:  # every ttl is checked before anything runs, as in RedisStore
            if isinstance(operation, SetIfAbsent | Set | Incr):
                _check_ttl(operation.ttl_seconds)
        return [_run(self, operation) for operation in operations]

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._data.clear()


def _run(store: MemoryStore, operation: Operation) -> Any:
    match operation:
        case SetIfAbsent(key, value, ttl):
            return store.set_if_absent(key, value, ttl)
        case Set(key, value, ttl):
            return store.set(key, value, ttl)
        case Get(key):
            return store.get(key)
        case Delete(key):
            return store.delete(key)
        case Incr(key, ttl):
            return store.incr(key, ttl)
    raise TypeError(f"not a store operation: {operation!r}")  # pragma: no cover


# INCR then set the expiry only on creation, in one round trip and atomically.
_INCR_WITH_TTL = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
"""


def _ms(ttl_seconds: float) -> int:
    _check_ttl(ttl_seconds)
    return max(1, math.ceil(ttl_seconds * 1000))


# Both clients' pools block: under a burst, callers wait (up to 5 s) for a free connection instead of
# failing with MaxConnectionsError once the pool is exhausted. A Redis that does not answer within 5 s is
# an outage (503), never a wait without end.
_POOL_OPTIONS: dict[str, Any] = {
    "timeout": 5,
    "decode_responses": True,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
    "health_check_interval": 30,
}


def _queue(
    pipe: redis.client.Pipeline | redis.asyncio.client.Pipeline, prefix: str, operations: Sequence[Operation]
) -> None:
    """Put ``operations`` on a pipeline of either client (queuing sends nothing)."""
    for operation in operations:  # every ttl is checked before anything is queued
        if isinstance(operation, SetIfAbsent | Set | Incr):
            _check_ttl(operation.ttl_seconds)
    for operation in operations:
        key = prefix + operation.key
        match operation:
            case SetIfAbsent(_, value, ttl):
                pipe.set(key, value, nx=True, px=_ms(ttl))
            case Set(_, value, ttl):
                pipe.set(key, value, px=_ms(ttl))
            case Get():
                pipe.get(key)
            case Delete():
                pipe.delete(key)
            case Incr(_, ttl):
                # EVAL, not a registered script: a pipeline with scripts first asks SCRIPT EXISTS.
                pipe.eval(_INCR_WITH_TTL, 1, key, _ms(ttl))
            case _:  # pragma: no cover
                raise TypeError(f"not a store operation: {operation!r}")


def _results(operations: Sequence[Operation], values: Sequence[Any]) -> list[Any]:
    """Redis's replies to the queued operations, as the contract's types."""
    out: list[Any] = []
    for operation, value in zip(operations, values, strict=True):
        match operation:
            case SetIfAbsent() | Delete():
                out.append(bool(value))
            case Set():
                out.append(None)
            case Get():
                out.append(None if value is None else str(value))
            case Incr():
                out.append(int(value))
    return out


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str = "xinyi:", url: str | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._url = url  # for the event loop's own client (on_loop)
        self._incr = client.register_script(_INCR_WITH_TTL)

    @classmethod
    def from_url(cls, url: str, prefix: str = "xinyi:", max_connections: int = 200) -> RedisStore:
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, **_POOL_OPTIONS)
        return cls(redis.Redis(connection_pool=pool), prefix, url)

    def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        return bool(self._client.set(self._prefix + key, value, nx=True, px=_ms(ttl_seconds)))

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._client.set(self._prefix + key, value, px=_ms(ttl_seconds))

    def get(self, key: str) -> str | None:
        value = self._client.get(self._prefix + key)
        return None if value is None else str(value)

    def delete(self, key: str) -> bool:
        return bool(self._client.delete(self._prefix + key))

    def incr(self, key: str, ttl_seconds: float) -> int:
        return int(self._incr(keys=[self._prefix + key], args=[_ms(ttl_seconds)]))

    def batch(self, operations: Sequence[Operation]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)  # one round trip, not a MULTI
        _queue(pipe, self._prefix, operations)
        return _results(operations, pipe.execute())

    def ttl(self, key: str) -> float | None:
        ms = int(self._client.pttl(self._prefix + key))  # -2 missing, -1 no expiry
        if ms == -2:
            return None
        return math.inf if ms == -1 else ms / 1000

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self._client.close()

    def eviction_policy(self) -> str:
        """The server's ``maxmemory-policy``, from INFO (allowed where CONFIG is not, as on managed Redis)."""
        return str(self._client.info("memory")["maxmemory_policy"])


class KeyValueStoreOnLoop(Protocol):
    """The store as code on the event loop sees it: :meth:`KeyValueStore.batch`, awaited (a single
    operation is a batch of one)."""

    async def batch(self, operations: Sequence[Operation]) -> list[Any]: ...

    async def close(self) -> None: ...


class InlineStoreOnLoop:
    """A store whose calls never wait (the in-process one), called from the loop as it is."""

    def __init__(self, store: KeyValueStore) -> None:
        self._store = store

    async def batch(self, operations: Sequence[Operation]) -> list[Any]:
        return self._store.batch(operations)

    async def close(self) -> None:
        """The wrapped store is its owner's to close."""


class RedisStoreOnLoop:
    """Redis through redis-py's asyncio client: the same keys, batch and pool settings as :class:`RedisStore`,
    its connections belonging to the loop that made it (closed with :meth:`close` on that loop)."""

    def __init__(self, url: str, prefix: str, max_connections: int = 200) -> None:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, **_POOL_OPTIONS
        )
        self._client = redis.asyncio.Redis(connection_pool=pool)
        self._prefix = prefix

    async def batch(self, operations: Sequence[Operation]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        _queue(pipe, self._prefix, operations)
        return _results(operations, await pipe.execute())

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)


def on_loop(store: KeyValueStore) -> KeyValueStoreOnLoop:
    """``store``'s face for the event loop, made on the loop that will use it (the app's lifespan)."""
    if isinstance(store, RedisStore):
        if store._url is None:
            raise ValueError("a RedisStore made from a URL (RedisStore.from_url) is needed on the loop")
        return RedisStoreOnLoop(store._url, store._prefix)
    return InlineStoreOnLoop(store)


class EvictingStoreError(RuntimeError):
    """Raised at start-up when Redis may evict keys: a pass's claim, a rate limit or an idempotency
    record that vanishes under memory pressure breaks single use (the database still holds it for online
    passes) and lets limits reset."""


def refuse_evicting_store(store: KeyValueStore) -> None:
    """Production start-up check: Redis must run with ``maxmemory-policy noeviction`` (no ``allkeys-*``,
    no ``volatile-*``: every key this service writes has an expiry, so volatile-* evicts them too)."""
    if not isinstance(store, RedisStore):
        return
    policy = store.eviction_policy()
    if policy != "noeviction":
        raise EvictingStoreError(
            f"refusing to start: Redis maxmemory-policy is {policy!r}; set it to 'noeviction'"
        )


def make_store(redis_url: str, prefix: str = "xinyi:") -> KeyValueStore:
    return RedisStore.from_url(redis_url, prefix) if redis_url else MemoryStore(prefix)
