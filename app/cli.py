"""``xinyi``: the operator's command line."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="信易+ operator commands.")


def main() -> None:
    app()
