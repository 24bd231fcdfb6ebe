from __future__ import annotations

import threading

from app.core.ids import new_id


def test_ids_are_prefixed_and_fixed_length() -> None:
    value = new_id("usr")
    assert value.startswith("usr_")
    assert len(value) == 30


def test_ids_made_in_one_process_strictly_increase_even_within_a_millisecond() -> None:
    ids = [new_id("x") for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_unique_across_threads() -> None:
    made: list[str] = []

    def make() -> None:
        made.extend(new_id("x") for _ in range(2_000))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8_000
