"""``xinyi``: the operator's command line. The commands: :mod:`app.commands`."""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    try:
        _run(sys.argv[1:])
    except Exception as exc:
        message = _operator_message(exc)
        if message is None:
            raise
        # One line an operator can act on, instead of a traceback through the database driver.
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(1) from None


def _operator_message(exc: Exception) -> str | None:
    """What an operator needs to know about a failure of their setup, or None for a bug (traceback)."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

    from app.core.config import InsecureSettingsError

    if isinstance(exc, NoSuchModuleError) or (isinstance(exc, ArgumentError) and "URL" in str(exc)):
        return (
            "XINYI_DATABASE_URL is not a URL this service can use: write "
            "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME (not postgres://) or sqlite:///PATH"
        )
    # Reaching the database, or a schema not there yet; any other database error is a bug: traceback.
    if isinstance(exc, OperationalError | ProgrammingError) and exc.orig is not None:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        if "no such table" in reason or type(exc.orig).__name__ == "UndefinedTable":
            return f"the database is not migrated ({reason}): run `xinyi migrate` first"
        if isinstance(exc, OperationalError):
            return f"cannot use the database (XINYI_DATABASE_URL): {reason}"
    if isinstance(exc, InsecureSettingsError):
        return str(exc)
    if isinstance(exc, ValidationError):
        problems = [f"XINYI_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        return "settings: " + "; ".join(problems)
    return None


def _run(args: list[str]) -> None:
    if args[:2] == ["scores", "rebuild"]:
        # A rebuild is timed including its start-up: import what it needs, not every command (a third of
        # a second saved).
        from app.scoring.rebuild_cli import main as rebuild

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
