"""``xinyi partners …``: onboard partners and manage their API keys from the command line.

Each command opens its own session on ``XINYI_DATABASE_URL`` and commits when it succeeded. The audit log
names the actor ``system:cli``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from sqlmodel import Session

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import AppError
from app.core.pagination import PageParams
from app.core.principal import Principal
from app.partners import service
from app.partners.models import ApiKey, Partner, PartnerKind

CLI_ACTOR = Principal(type="system", id="cli")

app = typer.Typer(no_args_is_help=True, help="Partner organisations and their API keys.")


@contextmanager
def _session() -> Iterator[Session]:
    """A unit of work whose refusal (nothing written) is told as ``error: <code> (<param>): <detail>``."""
    try:
        with session_scope(get_settings().database_url) as session:
            yield session
    except AppError as exc:
        param = f" ({exc.param})" if exc.param else ""
        detail = exc.detail.removeprefix(f"{exc.param}: ")
        typer.echo(f"error: {exc.code}{param}: {detail}", err=True)
        raise typer.Exit(code=1) from None


def _partner_line(partner: Partner) -> str:
    return f"{partner.id}  {service.kind_of(partner).value:<18}  {partner.status:<9}  {partner.name}"


def _key_line(api_key: ApiKey) -> str:
    state = f"revoked {api_key.revoked_at:%Y-%m-%d %H:%M}" if api_key.revoked_at else "active"
    used = f"{api_key.last_used_at:%Y-%m-%d %H:%M}" if api_key.last_used_at else "never"
    return (
        f"{api_key.id}  {api_key.prefix}  {state:<24}  last used {used:<16}  "
        f"{','.join(api_key.scopes)}  {api_key.name}"
    )


Row = TypeVar("Row", Partner, ApiKey)


def _all_pages(fetch: Callable[[PageParams], tuple[list[Row], bool]]) -> Iterator[Row]:
    cursor: str | None = None
    while True:
        rows, has_more = fetch(PageParams(limit=100, starting_after=cursor))
        yield from rows
        if not has_more or not rows:
            return
        cursor = rows[-1].id


@app.command()
def create(
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    kind: Annotated[PartnerKind, typer.Option(help="What the partner does on the platform.")],
) -> None:
    """Onboard a partner. Prints its id."""
    with _session() as session:
        partner = service.create_partner(session, CLI_ACTOR, name, kind)
    typer.echo(_partner_line(partner))


@app.command("list")
def list_partners() -> None:
    """Every partner, newest first."""
    with _session() as session:
        for partner in _all_pages(lambda page: service.list_partners(session, page)):
            typer.echo(_partner_line(partner))


@app.command()
def suspend(partner_id: str) -> None:
    """Refuse every key of the partner until it is reactivated."""
    with _session() as session:
        partner = service.suspend_partner(session, CLI_ACTOR, partner_id)
    typer.echo(_partner_line(partner))


@app.command()
def reactivate(partner_id: str) -> None:
    """Let the partner's keys work again."""
    with _session() as session:
        partner = service.reactivate_partner(session, CLI_ACTOR, partner_id)
    typer.echo(_partner_line(partner))


@app.command("key-create")
def key_create(
    partner_id: str,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "default",
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Repeat for several; leave out for the defaults of the partner's kind."),
    ] = None,
) -> None:
    """Issue an API key and print its secret, this once."""
    with _session() as session:
        issued = service.create_api_key(session, CLI_ACTOR, partner_id, name, scope or None)
    api_key = issued.api_key
    typer.echo(f"id:      {api_key.id}")
    typer.echo(f"prefix:  {api_key.prefix}")
    typer.echo(f"scopes:  {' '.join(api_key.scopes)}")
    typer.echo(f"secret:  {issued.secret}")
    typer.echo("The secret is shown this once only; store it now.", err=True)


@app.command("keys")
def keys(partner_id: str) -> None:
    """The partner's API keys, newest first (never their secrets)."""
    with _session() as session:
        for api_key in _all_pages(lambda page: service.list_api_keys(session, partner_id, page)):
            typer.echo(_key_line(api_key))


@app.command("key-revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key; it stops authenticating at once."""
    with _session() as session:
        api_key = service.revoke_api_key(session, CLI_ACTOR, key_id)
    typer.echo(_key_line(api_key))
