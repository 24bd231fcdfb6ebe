"""A live server in a thread and Chromium's arguments: for the browser tests, ``make screens`` and
``make bench-web``."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 640}
TABLET = {"width": 800, "height": 1280}
STARTUP_SECONDS = 20


def chromium_path() -> str | None:
    """Debian's chromium (Playwright's own browser download cannot work here)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class LiveServer:
    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{port}"


@contextmanager
def serve(app: object) -> Iterator[LiveServer]:
    """``app`` on 127.0.0.1, a free port, in a thread; stopped (and waited for) on the way out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: the app configures logging itself; uvicorn must not reconfigure the test process
    config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(server, port)
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()
