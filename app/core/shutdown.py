"""Knowing that the process was told to stop, before the server waits for open responses to finish.

uvicorn, on SIGTERM or SIGINT, stops accepting connections and then waits for every open response,
and only then runs the lifespan's shutdown: a response that never ends on its own (a live event stream)
would hold the process for as long as it lasts. So the app chains its own handler in front of the
server's, at start-up, and tells long responses to end (:func:`on_stop`); the server's handler then
runs as before. A process whose start-up does not run in the main thread (tests' in-process client)
has no signals to chain: its lifespan's shutdown does the same.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` first when the process gets SIGTERM or SIGINT, then the handler that was there.
    Returns a function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        callback()
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:  # no server handler: what the signal would have done
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for signum in SIGNALS:
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handle)

    def restore() -> None:
        for signum, before in previous.items():
            if signal.getsignal(signum) is handle and before is not None:
                signal.signal(signum, before)

    return restore
