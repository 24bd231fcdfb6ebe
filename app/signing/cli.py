"""``xinyi keys …``: the Ed25519 keys that sign QR passes and the offline deny list."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError
from app.core.principal import Principal
from app.core.security import Crypto
from app.signing import service

CLI_ACTOR = Principal(type="system", id="cli")

app = typer.Typer(no_args_is_help=True, help="Signing keys for QR passes (JWKS at /.well-known/jwks.json).")


@app.command()
def rotate(
    delay: Annotated[
        int, typer.Option(help="Seconds between publishing the new key and signing with it.")
    ] = int(service.DEFAULT_DELAY.total_seconds()),
    retain_hours: Annotated[
        int, typer.Option(help="Hours a retired key stays published (more than 24 h, the longest token).")
    ] = int(service.DEFAULT_RETENTION.total_seconds() // 3600),
) -> None:
    """Publish a new key now; it signs after the delay. Older keys stop signing then and stay published.
    On an empty database this makes the first key, signing at once."""
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            key = service.rotate(
                session,
                Crypto(settings).cipher,
                CLI_ACTOR,
                delay=timedelta(seconds=delay),
                retention=timedelta(hours=retain_hours),
            )
            typer.echo(f"kid:          {key.kid}")
            typer.echo(f"generation:   {key.generation}")
            typer.echo(f"published:    {key.created_at:%Y-%m-%d %H:%M:%S} UTC")
            typer.echo(f"signs from:   {key.activates_at:%Y-%m-%d %H:%M:%S} UTC")
    except AppError as exc:
        typer.echo(f"error: {exc.code} ({exc.param}): {exc.detail}", err=True)
        raise typer.Exit(code=1) from None


@app.command("list")
def list_keys() -> None:
    """Every key, oldest first, with its state: pending, active, retired (still published) or unpublished."""
    settings = get_settings()
    now = utcnow()
    with session_scope(settings.database_url) as session:
        for key in service.list_keys(session):
            retired = f"{key.retired_at:%Y-%m-%d %H:%M}" if key.retired_at else "-"
            unpublish = f"{key.unpublish_at:%Y-%m-%d %H:%M}" if key.unpublish_at else "-"
            typer.echo(
                f"{key.generation:>3}  {key.kid}  {service.state_of(key, now):<11}  "
                f"signs from {key.activates_at:%Y-%m-%d %H:%M}  retired {retired:<16}  unpublished {unpublish}"
            )
