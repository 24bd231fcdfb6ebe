"""The hot path's worker threads: a partner's verification and a resident's pass run on a few threads
of their own, not on anyio's default 40.

Each of these requests does all its blocking work in one hop to a worker thread (database and store
round trips, the commit) and waits for nothing else there, so a small pool never deadlocks. Under load
every round trip releases and retakes the GIL; with anyio's 40 threads taking turns, a third of a loaded
process's CPU went to the kernel switching threads (``perf``, README "Round 4"; on the next box 2, 4
and 8 threads measured alike, so the default is 8). Everything else (sync endpoints and dependencies,
response validation, the request's commit) keeps anyio's default limiter: those requests can hold a
lock while they wait for a thread for their next step, and a small pool there could run out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from starlette.requests import Request

T = TypeVar("T")

STATE = "hot_path_limiter"  # app.state's attribute: a CapacityLimiter of settings.hot_path_threads


async def run(request: Request, func: Callable[..., T], *args: object) -> T:
    """``func(*args)`` on one of the hot path's threads (the app's own limiter; anyio's default where an
    app was built without one)."""
    chosen: CapacityLimiter | None = getattr(request.app.state, STATE, None)
    return await to_thread.run_sync(partial(func, *args), limiter=chosen)
