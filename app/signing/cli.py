"""``xinyi keys …``: the Ed25519 keys that sign QR passes and the offline deny list."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError
from app.core.principal import Principal
from app.core.reseal import SealedColumn, UnknownSealingKey, kids_in_use, reseal_batch
from app.core.security import Crypto
from app.signing import service

CLI_ACTOR = Principal(type="system", id="cli")
_SEALING_KEYS = audit_service.Grounds("encryption key management", "platform security operations")

app = typer.Typer(
    no_args_is_help=True,
    help="Signing keys for QR passes (JWKS at /.well-known/jwks.json); retiring an ID-encryption key.",
)


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


@app.command()
def reencrypt(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows re-sealed per transaction.")] = 500,
) -> None:
    """Re-seal every encrypted value (ID numbers, signing keys' private halves, webhook secrets) under
    XINYI_ID_ENCRYPTION_ACTIVE_KID, one committed batch at a time. Safe to interrupt and run again; a second
    run re-seals nothing. Afterwards the keys no row uses any more can leave XINYI_ID_ENCRYPTION_KEYS."""
    from app.subjects import service as subjects_service
    from app.webhooks import service as webhooks_service

    settings = get_settings()
    cipher = Crypto(settings).cipher
    columns: list[SealedColumn] = [
        *subjects_service.SEALED_COLUMNS,
        *service.SEALED_COLUMNS,
        *webhooks_service.SEALED_COLUMNS,
    ]
    counts: dict[str, int] = {}
    try:
        for column in columns:
            counts[column.name] = 0
            after: str | None = ""
            while after is not None:
                with session_scope(settings.database_url) as session:
                    done, after = reseal_batch(session, cipher, column, after, batch_size)
                counts[column.name] += done
            typer.echo(f"{column.name}: {counts[column.name]} re-sealed under {cipher.active_kid}")
    except UnknownSealingKey as exc:
        typer.echo(f"error: {exc.code}: {exc.detail}", err=True)
        raise typer.Exit(code=1) from None
    with session_scope(settings.database_url) as session:
        in_use = set().union(*(kids_in_use(session, column) for column in columns))
        details = {"active_kid": cipher.active_kid, "resealed": counts}
        _SEALING_KEYS.record(session, CLI_ACTOR, "keys.reencrypted", details)
    retirable = sorted(cipher.kids - in_use)
    typer.echo(f"key ids still in use: {', '.join(sorted(in_use)) or 'none'}")
    if retirable:
        typer.echo(f"no value is sealed under {', '.join(retirable)}: it may leave XINYI_ID_ENCRYPTION_KEYS")
