"""``xinyi payments …``: settle what a crash or a lost webhook left behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import make_engine

app = typer.Typer(no_args_is_help=True, help="Payments: deposit holds, collections, refunds.")


@app.command("reconcile")
def reconcile(
    hours: Annotated[
        int, typer.Option(min=1, max=24 * 30, help="How far back to look at the provider.")
    ] = 48,
) -> None:
    """Compare the provider's payment intents with the platform's rows and settle every difference:
    release holds no rental points to (once their verification expired), bring rows up to date.
    Safe to run at any time, as often as wanted."""
    from app.payments import service, tasks

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        report = tasks.reconcile(engine, settings, utcnow(), timedelta(hours=hours))
    finally:
        engine.dispose()
    typer.echo(f"provider: {service.provider_name(settings)}; intents examined: {report.examined}")
    typer.echo(f"orphan holds released: {len(report.orphan_holds_released)} {report.orphan_holds_released}")
    typer.echo(
        f"orphan charges refunded: {len(report.orphan_charges_refunded)} {report.orphan_charges_refunded}"
    )
    typer.echo(f"rows brought up to date: {len(report.rows_synced)} {report.rows_synced}")
    typer.echo(f"holds released again: {len(report.holds_released_again)} {report.holds_released_again}")
    typer.echo(f"orphans left for now (verification still open): {len(report.waiting)}")
