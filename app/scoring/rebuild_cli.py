"""``xinyi scores rebuild``, in a module of its own: :func:`app.cli.main` runs it without importing the
other commands (a rebuild is timed including its start-up). :mod:`app.scoring.cli` mounts the same
function on ``xinyi scores``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from app.core.config import get_settings
from app.core.db import make_engine
from app.scoring import rebuild

OnBatch = Callable[[int, int], None]


@contextmanager
def _progress_bar(shown: bool, summary: rebuild.RebuildSummary) -> Iterator[OnBatch | None]:
    """The progress bar on stderr, or nothing (``--no-progress``: rich is then not even imported, which
    a scripted run's start-up notices)."""
    if not shown:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]rebuild {task.fields[version]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} subjects/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("rebuild", total=summary.total, version=summary.model_version, rate="–")

        def on_batch(count: int, _changed: int) -> None:
            bar.advance(task, count)
            elapsed = bar.tasks[0].elapsed or 0.0
            done = bar.tasks[0].completed
            bar.update(task, rate=f"{done / elapsed:,.0f}" if elapsed else "–")

        yield on_batch


def rebuild_scores(
    batch_size: Annotated[int, typer.Option(min=100, max=50_000, help="Subjects per transaction.")] = 5_000,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of resuming an unfinished rebuild.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(min=1, max=32, help="Scoring processes on PostgreSQL (SQLite: always one)."),
    ] = 2,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Rescore every subject with the active model, in batches, resumably: an interrupted rebuild
    continues after its last committed batch. Scores that do not change are not written."""
    engine = make_engine(get_settings().database_url)
    try:
        summary = rebuild.start_rebuild(engine, restart=restart)
        if summary.resumed_after:
            typer.echo(f"resuming rebuild {summary.run_id} after {summary.resumed_after}", err=True)
        with _progress_bar(progress, summary) as on_batch:
            rebuild.run_rebuild(engine, summary, batch_size=batch_size, workers=workers, on_batch=on_batch)
    finally:
        engine.dispose()
    typer.echo(
        f"rebuild {summary.run_id} ({summary.model_version}): {summary.processed} subjects scored, "
        f"{summary.changed} changed"
    )


def main(args: list[str]) -> None:
    """``xinyi scores rebuild ARGS``: the command as the full command line runs it."""
    root = typer.Typer(no_args_is_help=True)
    scores = typer.Typer(no_args_is_help=True)
    scores.command("rebuild")(rebuild_scores)
    root.add_typer(scores, name="scores")
    try:
        root(args=["scores", "rebuild", *args], prog_name="xinyi")
    finally:
        # The process ends here: spare it Python's last garbage collection over every object it holds
        # (0.1–0.2 s, a tenth of a 100,000-subject rebuild). Reference counting still frees them.
        gc.freeze()
