"""``xinyi``: the operator's command line. The commands: :mod:`app.commands`."""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    args = sys.argv[1:]
    if args[:2] == ["scores", "rebuild"]:
        # A rebuild is timed including its start-up: import what it needs, not every command (a third of
        # a second saved).
        from app.records.rebuild_cli import main as rebuild

        rebuild(args[2:])
        return
    from app.commands import app

    app()


def __getattr__(name: str) -> Any:
    """``app.cli.app``: the whole command line, imported when asked for."""
    if name == "app":
        from app.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
