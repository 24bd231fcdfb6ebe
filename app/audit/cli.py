"""``xinyi audit …``: checking the hash-chained audit log from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel import Session

from app.audit import checkpoints
from app.audit import verify as audit_verify
from app.core.config import get_settings
from app.core.db import make_engine
from app.core.security import Crypto
from app.signing.keyring import Keyring

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
    kept: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="A copy kept of GET /v1/audit/checkpoints (a page's JSON, or a list of them): each of "
            "its checkpoints must still be in the database, unchanged.",
        ),
    ] = None,
) -> None:
    """Walk every chain and name the first entry of each that was altered or removed; check every signed
    checkpoint, and that each chain still holds the entries its checkpoints signed.

    Exits 0 when the log is intact, 1 when any chain or checkpoint is not.
    """
    progress_console = Console(stderr=True)
    settings = get_settings()
    kept_tokens = _kept_tokens(kept) if kept is not None else []
    engine = make_engine(settings.database_url)
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
                result, checked = checkpoints.verify_log(
                    session,
                    Keyring(Crypto(settings).cipher),
                    chain=chain,
                    kept=kept_tokens,
                    on_progress=lambda n: progress.advance(task, n),
                )
            session.rollback()
    finally:
        engine.dispose()

    if as_json:
        payload = {
            "ok": result.ok,
            "chains": result.chains,
            "entries": result.entries,
            "checkpoints": checked,
            "problems": [p.as_dict() for p in result.problems],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            typer.echo(
                f"{problem.kind.value}: entry {problem.entry_id or '(removed)'} "
                f"chain {problem.chain} seq {problem.seq}: {problem.detail}"
            )
        summary = f"{result.chains} chain(s), {result.entries} entries, {checked} checkpoint(s) checked"
        if result.ok:
            typer.echo(f"audit log intact: {summary}")
        else:
            typer.echo(f"audit log NOT intact: {len(result.problems)} problem(s); {summary}")
    raise typer.Exit(0 if result.ok else 1)


def _kept_tokens(path: Path) -> list[str]:
    """The tokens of a kept copy of GET /v1/audit/checkpoints: one page, or a list of pages or items."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--checkpoints") from None
    pages = loaded if isinstance(loaded, list) else [loaded]
    tokens: list[str] = []
    for page in pages:
        items = page.get("data", [page]) if isinstance(page, dict) else []
        tokens.extend(item["token"] for item in items if isinstance(item, dict) and "token" in item)
    return tokens


@app.command()
def checkpoint() -> None:
    """Sign a checkpoint of the chains that moved since the last one now (the worker does it hourly)."""
    from app.audit import tasks
    from app.core.clock import utcnow

    engine = make_engine(get_settings().database_url)
    try:
        made = tasks.checkpoint(engine, utcnow())
    finally:
        engine.dispose()
    typer.echo("no chain moved since the last checkpoint" if made is None else f"checkpoint {made} signed")
