"""One contract, two implementations: the embedded store must behave exactly like Redis."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from app.core.store import (
    Delete,
    Get,
    Incr,
    KeyValueStore,
    MemoryStore,
    Operation,
    RedisStore,
    Set,
    SetIfAbsent,
    on_loop,
)
from tests.conftest import EXTERNAL
from tests.helpers import on_a_loop

IMPLEMENTATIONS = ["memory", "redis"] if EXTERNAL else ["memory"]


@pytest.fixture(params=IMPLEMENTATIONS)
def kv(request: pytest.FixtureRequest) -> Iterator[KeyValueStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    prefix = f"xinyi-contract:{uuid.uuid4().hex}:"
    store = RedisStore.from_url(os.environ["XINYI_TEST_REDIS_URL"], prefix=prefix)
    yield store
    for key in store._client.scan_iter(match=prefix + "*"):
        store._client.delete(key)
    store.close()


def wait_until_gone(kv: KeyValueStore, key: str, deadline_s: float = 5.0) -> float:
    start = time.monotonic()
    while kv.get(key) is not None:
        assert time.monotonic() - start < deadline_s, f"{key} did not expire"
        time.sleep(0.02)
    return time.monotonic() - start


def test_set_if_absent_stores_only_once(kv: KeyValueStore) -> None:
    assert kv.set_if_absent("k", "first", 60) is True
    assert kv.set_if_absent("k", "second", 60) is False
    assert kv.get("k") == "first"


def test_set_if_absent_succeeds_again_after_expiry(kv: KeyValueStore) -> None:
    assert kv.set_if_absent("k", "first", 0.2) is True
    wait_until_gone(kv, "k")
    assert kv.set_if_absent("k", "second", 60) is True
    assert kv.get("k") == "second"


def test_set_overwrites_value_and_expiry(kv: KeyValueStore) -> None:
    kv.set("k", "a", 0.2)
    kv.set("k", "b", 60)
    ttl = kv.ttl("k")
    assert ttl is not None and 50 < ttl <= 60
    assert kv.get("k") == "b"


def test_get_missing_is_none_and_delete_reports_existence(kv: KeyValueStore) -> None:
    assert kv.get("nothing") is None
    assert kv.delete("nothing") is False
    kv.set("k", "v", 60)
    assert kv.delete("k") is True
    assert kv.get("k") is None
    assert kv.ttl("k") is None


def test_counter_counts_and_keeps_its_first_window(kv: KeyValueStore) -> None:
    assert [kv.incr("c", 60) for _ in range(3)] == [1, 2, 3]
    ttl = kv.ttl("c")
    assert ttl is not None and 50 < ttl <= 60
    assert kv.get("c") == "3"


def test_counter_restarts_after_its_window(kv: KeyValueStore) -> None:
    kv.incr("c", 0.2)
    kv.incr("c", 0.2)
    wait_until_gone(kv, "c")
    assert kv.incr("c", 60) == 1


def test_expiry_is_not_extended_by_increments(kv: KeyValueStore) -> None:
    kv.incr("c", 0.3)
    kv.incr("c", 60)  # a later hit with a longer ttl must not extend the window
    assert wait_until_gone(kv, "c") < 5


def test_set_if_absent_is_atomic_under_contention(kv: KeyValueStore) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(32)

    def claim(i: int) -> None:
        barrier.wait()
        if kv.set_if_absent("handle", str(i), 60):
            winners.append(i)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert kv.get("handle") == str(winners[0])


def test_counter_is_atomic_under_contention(kv: KeyValueStore) -> None:
    def hit() -> None:
        for _ in range(50):
            kv.incr("n", 60)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert kv.get("n") == "400"


@pytest.mark.parametrize("ttl", [0, -1])
def test_non_positive_ttl_is_refused(kv: KeyValueStore, ttl: float) -> None:
    with pytest.raises(ValueError):
        kv.set_if_absent("k", "v", ttl)
    assert kv.get("k") is None


def test_a_batch_gives_what_the_single_calls_give_in_order(kv: KeyValueStore) -> None:
    kv.set("old", "x", 60)
    results = kv.batch(
        [
            SetIfAbsent("claim", "first", 60),
            SetIfAbsent("claim", "second", 60),  # sees the first: in order
            Get("claim"),
            Get("missing"),
            Set("old", "y", 30),
            Incr("n", 60),
            Incr("n", 60),
            Delete("old"),
            Delete("old"),
        ]
    )
    assert results == [True, False, "first", None, None, 1, 2, True, False]
    assert kv.get("claim") == "first"
    assert kv.get("n") == "2"
    assert kv.get("old") is None


def test_a_batch_sets_expiries_as_the_single_calls_do(kv: KeyValueStore) -> None:
    kv.batch([Set("a", "1", 30), SetIfAbsent("b", "1", 40), Incr("n", 50)])
    kv.batch([Incr("n", 500)])  # a later increment keeps the first window
    ttls = [kv.ttl("a"), kv.ttl("b"), kv.ttl("n")]
    assert all(t is not None for t in ttls)
    assert 25 < ttls[0] <= 30 and 35 < ttls[1] <= 40 and 45 < ttls[2] <= 50  # type: ignore[operator]
    assert kv.batch([]) == []


def test_a_batch_with_a_non_positive_ttl_runs_nothing(kv: KeyValueStore) -> None:
    with pytest.raises(ValueError):
        kv.batch([Set("a", "1", 60), SetIfAbsent("b", "1", 0)])
    assert kv.get("a") is None and kv.get("b") is None


@pytest.mark.skipif(not EXTERNAL, reason="Redis only: a command the server refuses")
def test_a_redis_batch_with_a_refused_command_raises_after_reading_every_reply() -> None:
    prefix = f"xinyi-contract:{uuid.uuid4().hex}:"
    store = RedisStore.from_url(os.environ["XINYI_TEST_REDIS_URL"], prefix=prefix, max_connections=1)
    try:
        store.set("text", "not a number", 60)
        with pytest.raises(redis.ResponseError):
            store.batch([Set("a", "1", 60), Incr("text", 60), Get("a")])
        # the commands around the refused one ran, and the one connection is still in step
        assert store.batch([Get("a"), Incr("n", 60), Get("text")]) == ["1", 1, "not a number"]
    finally:
        for key in store._client.scan_iter(match=prefix + "*"):
            store._client.delete(key)
        store.close()


@pytest.mark.skipif(not EXTERNAL, reason="Redis only: the connection's own replies")
def test_a_redis_batch_cut_short_does_not_leave_its_replies_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = f"xinyi-contract:{uuid.uuid4().hex}:"
    store = RedisStore.from_url(os.environ["XINYI_TEST_REDIS_URL"], prefix=prefix, max_connections=1)
    try:
        store.set("a", "1", 60)
        read = redis.Connection.read_response
        calls = [0]

        def fail_after_one(self: redis.Connection, *args: object, **kwargs: object) -> object:
            calls[0] += 1
            if calls[0] == 2:
                raise RuntimeError("interrupted between two replies")
            return read(self, *args, **kwargs)

        monkeypatch.setattr(redis.Connection, "read_response", fail_after_one)
        with pytest.raises(RuntimeError):
            store.batch([Get("a"), Get("a"), Get("a")])
        monkeypatch.setattr(redis.Connection, "read_response", read)

        # the pool's one connection answers the next batch with its own replies, not the old ones
        assert store.batch([Set("b", "2", 60), Get("b")]) == [None, "2"]
    finally:
        for key in store._client.scan_iter(match=prefix + "*"):
            store._client.delete(key)
        store.close()


def test_memory_store_expires_exactly_at_its_deadline() -> None:
    shared_clock = [0.0]
    a = MemoryStore(prefix="a:", clock=lambda: shared_clock[0])
    a.set("k", "1", 10)
    shared_clock[0] = 10.0
    assert a.get("k") is None  # expiry is exact at the deadline


def test_ping(kv: KeyValueStore) -> None:
    assert kv.ping() is True


def on_the_loop(kv: KeyValueStore, *batches: list[Operation]) -> list[Any]:
    """Each batch through ``kv``'s face for the event loop, on a loop of its own; their results."""

    async def run() -> list[Any]:
        face = on_loop(kv)
        try:
            return [await face.batch(batch) for batch in batches]
        finally:
            await face.close()

    return on_a_loop(run)


def test_the_loops_face_gives_the_same_results_on_the_same_keys(kv: KeyValueStore) -> None:
    kv.set("old", "x", 60)
    (first,) = on_the_loop(
        kv,
        [
            SetIfAbsent("claim", "first", 60),
            SetIfAbsent("claim", "second", 60),
            Get("claim"),
            Get("missing"),
            Set("old", "y", 30),
            Incr("n", 50),
            Incr("n", 500),
            Delete("old"),
            Delete("old"),
        ],
    )
    assert first == [True, False, "first", None, None, 1, 2, True, False]
    # the plain face sees what the loop's face wrote, expiries included
    assert (kv.get("claim"), kv.get("n"), kv.get("old")) == ("first", "2", None)
    ttl = kv.ttl("n")
    assert ttl is not None and 45 < ttl <= 50


def test_the_loops_face_refuses_a_non_positive_ttl_before_running_anything(kv: KeyValueStore) -> None:
    with pytest.raises(ValueError):
        on_the_loop(kv, [Set("a", "1", 60), Incr("n", -1)])
    assert kv.get("a") is None and kv.get("n") is None
