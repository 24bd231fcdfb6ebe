"""``xinyi audit …``: checking the hash-chained audit log from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel import Session

from app.audit import verify as audit_verify
from app.core.config import get_settings
from app.core.db import make_engine

app = typer.Typer(no_args_is_help=True)


@app.callback()
def audit() -> None:
    """The hash-chained audit log."""


@app.command()
def verify(
    chain: Annotated[
        str | None, typer.Option(help="Check only this chain, e.g. subject:sub_… or system.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Walk every chain and name the first entry of each that was altered or removed.

    Exits 0 when the log is intact, 1 when any chain is not.
    """
    progress_console = Console(stderr=True)
    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            show_progress = progress_console.is_terminal and not as_json
            total = audit_verify.count_entries(session, chain) if show_progress else None
            with Progress(
                TextColumn("verifying audit log"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=progress_console,
                transient=True,
                disable=not show_progress,
            ) as progress:
                task = progress.add_task("verify", total=total)
                result = audit_verify.verify(
                    session, chain=chain, on_progress=lambda n: progress.advance(task, n)
                )
            session.rollback()
    finally:
        engine.dispose()

    if as_json:
        payload = {
            "ok": result.ok,
            "chains": result.chains,
            "entries": result.entries,
            "problems": [p.as_dict() for p in result.problems],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            typer.echo(
                f"{problem.kind.value}: entry {problem.entry_id or '(removed)'} "
                f"chain {problem.chain} seq {problem.seq}: {problem.detail}"
            )
        checked = f"{result.chains} chain(s), {result.entries} entries checked"
        if result.ok:
            typer.echo(f"audit log intact: {checked}")
        else:
            typer.echo(f"audit log NOT intact: {len(result.problems)} broken chain(s); {checked}")
    raise typer.Exit(0 if result.ok else 1)
