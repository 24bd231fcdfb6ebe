"""``xinyi records …``: import files, expire.

Each command opens its own engine on ``XINYI_DATABASE_URL`` and commits chunk by chunk. Exit codes:
0 done; 1 done, but some rows were refused (they are listed; the others landed); 2 refused before anything
was written (bad file, encoding, header or option).
"""

from __future__ import annotations

import csv
import re
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.core.config import get_settings
from app.core.db import make_engine
from app.core.security import Crypto
from app.records import file_format, tasks
from app.records.files import FileRefused, open_record_file
from app.records.ingest import ChunkOutcome
from app.records.validation import RowError

app = typer.Typer(no_args_is_help=True, help="Public credit records and red/black lists.")

_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
_SHOWN_ERRORS = 20
err = Console(stderr=True)  # the progress bar


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("import", epilog=file_format.HELP)
def import_records(
    file: Annotated[Path, typer.Argument(help="A CSV file with a header line, or JSON Lines (.jsonl).")],
    source: Annotated[
        str, typer.Option(help="The department the file comes from, e.g. urumqi-amr (市场监管局).")
    ],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl; by default from the file name.")
    ] = None,
    encoding: Annotated[str, typer.Option(help="The file's text encoding, e.g. gbk.")] = "utf-8",
    chunk_size: Annotated[int, typer.Option(min=100, max=100_000, help="Rows per transaction.")] = 20_000,
    errors_file: Annotated[
        Path | None,
        typer.Option("--errors", help="Write every refused row here (CSV: row,field,code,message)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Load a department's file of records and list entries: streamed, in chunks, idempotent on
    (source, source_record_id). Rows are checked one by one; refused rows are reported, the rest land."""
    if not _SOURCE.match(source):
        raise _refuse("--source: lower-case letters, digits and . _ : - only, at most 64 characters.")
    try:
        record_file = open_record_file(file, file_format, encoding)
    except FileRefused as exc:
        raise _refuse(str(exc)) from None
    settings = get_settings()
    engine = make_engine(settings.database_url)
    shown: list[RowError] = []
    with ExitStack() as stack:
        writer: Any = None
        if errors_file is not None:
            handle = stack.enter_context(errors_file.open("w", encoding="utf-8", newline=""))
            writer = csv.writer(handle)
            writer.writerow(["row", "field", "code", "message", "source_record_id"])
        bar = stack.enter_context(
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                disable=not progress,
            )
        )
        # Counted in rows that landed (or were refused) in committed chunks, not in bytes read: the reader
        # runs ahead of the database.
        task = bar.add_task(file.name, total=record_file.line_count() if progress else None)

        def on_error(error: RowError) -> None:
            if len(shown) < _SHOWN_ERRORS:
                shown.append(error)
            if writer is not None:
                writer.writerow(
                    [error.row, error.field or "", error.code, error.message, error.source_record_id or ""]
                )

        def on_chunk(count: int, _outcome: ChunkOutcome) -> None:
            bar.advance(task, count)

        try:
            summary = tasks.import_file(
                engine,
                Crypto(settings),
                record_file,
                source=source,
                chunk_size=chunk_size,
                on_error=on_error,
                on_chunk=on_chunk,
            )
        finally:
            engine.dispose()
        bar.update(task, total=summary.received, completed=summary.received)
    for error in shown:
        where = f" {error.field}" if error.field else ""
        typer.echo(f"row {error.row}{where}: {error.code} — {error.message}", err=True)
    if summary.rejected > len(shown):
        more = f"; all of them in {errors_file}" if errors_file else "; use --errors FILE to get all of them"
        typer.echo(f"… and more refused rows{more}", err=True)
    typer.echo(
        f"batch {summary.batch_id}: received {summary.received}, created {summary.created}, "
        f"updated {summary.updated}, unchanged {summary.unchanged}, rejected {summary.rejected}"
    )
    if summary.rejected:
        raise typer.Exit(1)


@app.command("expire")
def expire_records(
    today: Annotated[
        str | None, typer.Option(help="Pretend it is this day (YYYY-MM-DD, China time); default: today.")
    ] = None,
) -> None:
    """Mark records past their publicity or retention end, and list entries past their end, as expired,
    and rescore their subjects. Running it again changes nothing."""
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise _refuse("--today: a date written YYYY-MM-DD.") from None
    engine = make_engine(get_settings().database_url)
    try:
        summary = tasks.expire(engine, day)
    finally:
        engine.dispose()
    typer.echo(
        f"expired {summary.records} records and {summary.list_entries} list entries; "
        f"{summary.rescored} scores changed"
    )
