"""make bench-verify-steps wraps the hot paths' own functions by name: each name still leads to a function
(a rename would otherwise break the diagnostic only when someone runs it), and a wrapped function answers
as before and is counted only during its own path's requests. Nothing here is timed."""

from __future__ import annotations

import importlib

from benchmarks.verify_steps import PATHS, Steps
from tests.helpers import on_a_loop


def test_every_step_names_a_function_of_the_app() -> None:
    for steps in PATHS.values():
        for module, attribute, _ in steps:
            found = importlib.import_module(module)
            for part in attribute.split("."):
                found = getattr(found, part)
            assert callable(found), f"{module}.{attribute}"


def test_a_wrapped_function_answers_as_before_and_is_counted_only_during_its_paths_requests() -> None:
    steps = Steps()

    async def later(value: int) -> int:
        return value * 2

    plain, awaited = (
        steps.wrap("pass", "plain", lambda value: value + 1),
        steps.wrap("pass", "awaited", later),
    )
    assert (plain(1), on_a_loop(lambda: awaited(3))) == (2, 6)
    assert dict(steps.cpu) == {}

    steps.path = "verification"
    assert (plain(1), on_a_loop(lambda: awaited(3))) == (2, 6)
    assert dict(steps.cpu) == {}

    steps.path = "pass"
    assert (plain(1), on_a_loop(lambda: awaited(3))) == (2, 6)
    assert sorted(steps.cpu) == [("pass", "awaited"), ("pass", "plain")]
