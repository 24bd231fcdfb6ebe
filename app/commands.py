"""The ``xinyi`` command line (run by :func:`app.cli.main`). Domain commands live beside their domain
(``app/*/cli.py``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.accounts.models import Role
from app.audit.cli import app as audit_app
from app.core import clock
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.security import Crypto
from app.loans.cli import stats_command
from app.partners.cli import app as partners_app
from app.payments.cli import app as payments_app
from app.records.cli import app as records_app
from app.scoring.cli import app as scores_app
from app.signing.cli import app as keys_app

app = typer.Typer(no_args_is_help=True, help="信易+ operator commands.")
app.add_typer(partners_app, name="partners", help="Partner organisations and their API keys.")
app.add_typer(audit_app, name="audit", help="The hash-chained audit log.")
app.add_typer(keys_app, name="keys")
app.add_typer(records_app, name="records", help="Public credit records and red/black lists.")
app.add_typer(scores_app, name="scores", help="Credit scores.")
app.command("stats")(stats_command)
app.add_typer(payments_app, name="payments")
admin_app = typer.Typer(no_args_is_help=True, help="Platform staff accounts.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data for a local run.")
app.add_typer(admin_app, name="admin")
app.add_typer(demo_app, name="demo")
console = Console()


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"xinyi {version('xinyi')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """信易+ operator commands."""
    # Every command runs on the service's clock: XINYI_CLOCK_OFFSET / XINYI_CLOCK_AT outside production.
    settings = get_settings()
    clock.configure(settings.env, offset=settings.clock_offset, at=settings.clock_at)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    from app.core.migrate import upgrade

    upgrade(url=get_settings().database_url)
    console.print("database migrated")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (needs Redis for shared state).")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option(
            help="Also run the scheduled jobs (`xinyi worker`) in a thread of this process: the one-process "
            "setup of `make run`. In production run `xinyi worker` as its own process instead."
        ),
    ] = False,
    worker_tick: Annotated[float, typer.Option(help="With --with-worker: seconds between looks.")] = 5.0,
) -> None:
    """Serve the API with uvicorn."""
    import threading

    import uvicorn

    from app.worker import main as worker_main

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        raise typer.BadParameter("several workers share state only through Redis: set XINYI_REDIS_URL")
    if with_worker and workers > 1:
        raise typer.BadParameter("--with-worker runs in one process: use --workers 1, or run `xinyi worker`")
    if workers > 1:
        from app.core.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir()  # /metrics of any worker then counts what every worker did
    stop = threading.Event()
    if with_worker:
        threading.Thread(
            target=worker_main,
            kwargs={"tick_seconds": worker_tick, "stop": stop},
            name="xinyi-worker",
            daemon=True,
        ).start()
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=False,  # the app's own ProxyHeadersMiddleware, on XINYI_TRUSTED_PROXIES
            # Live streams end at once on SIGTERM (app.core.shutdown); anything else still open after
            # this is cut, so a restart never hangs.
            timeout_graceful_shutdown=5,
            log_config=None,
            access_log=False,  # the app logs each request itself, with its route and request id
        )
    finally:
        stop.set()


@app.command()
def worker(
    tick: Annotated[float, typer.Option(help="Seconds between looks for due jobs.")] = 1.0,
    once: Annotated[bool, typer.Option(help="Run every job one time, then exit.")] = False,
    as_of: Annotated[
        str,
        typer.Option(
            help="Run as if it were this instant (ISO 8601 with offset, e.g. 2026-12-20T10:00+08:00): plays a "
            "dispute window or a deadline through without waiting. Refused in production."
        ),
    ] = "",
) -> None:
    """Run the scheduled jobs (webhook delivery, record expiry, …) until interrupted. Safe to run several."""
    from app.worker import main as worker_main

    if as_of:
        try:
            clock.configure(get_settings().env, at=as_of)
        except clock.ClockOverrideRefused as exc:
            raise typer.BadParameter(str(exc), param_hint="--as-of") from None
    ran = worker_main(tick_seconds=tick, once=once)
    if once:
        typer.echo(f"ran at {clock.utcnow().isoformat(timespec='seconds')}: {', '.join(ran)}")


@admin_app.command("create")
def admin_create(
    phone: Annotated[str, typer.Option(help="The staff member's mobile number; they sign in with it.")],
    role: Annotated[Role, typer.Option(help="The role to give.")],
) -> None:
    """Give an account (created if needed) the operator or auditor role."""
    from app.accounts import service as accounts_service
    from app.audit import service as audit_service
    from app.core.errors import AppError
    from app.core.principal import Principal

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            user = accounts_service.get_or_create_user_by_phone(session, Crypto(settings), phone)
            user.roles = sorted({*user.roles, role.value})
            session.add(user)
            administration = audit_service.Grounds("platform administration", "platform operating rules")
            details = {"user_id": user.id, "role": role.value}
            administration.record(session, Principal(type="system", id="cli"), "staff.role_granted", details)
            console.print(f"{user.phone_masked} ({user.id}) now has role {role.value}")
    except AppError as exc:
        console.print(f"[red]{exc.code}[/red]: {exc.detail}")
        raise typer.Exit(2) from None


def _port_taken(host: str, port: int) -> bool:
    """Whether a server already listens there (the bind uvicorn will attempt, tried first)."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


@demo_app.command("load")
def demo_load(
    host: Annotated[
        str, typer.Option(help="The interface the demo will be served on (`make run`'s HOST).")
    ] = ("127.0.0.1"),
    port: Annotated[
        int, typer.Option(help="The port it will be served on: must be free (`make run`'s PORT).")
    ] = 8000,
) -> None:
    """Load the demo city (idempotent) and print how to sign in as each user. Refuses, changing nothing,
    when the port is taken: a demo already serving there keeps its partner keys."""
    try:
        from demo.city import load
    except ModuleNotFoundError:  # the production image carries the app, not the demo city
        typer.echo(
            "error: the demo city is not in this installation (it comes with a checkout of the source, "
            "not with the production image). Nothing was loaded.",
            err=True,
        )
        raise typer.Exit(1) from None

    if _port_taken(host, port):
        typer.echo(
            f"error: port {port} on {host} is in use (a demo already running?). Nothing was loaded and its "
            f"partner keys still work. Stop it, or serve on another port: make run PORT={port + 1}",
            err=True,
        )
        raise typer.Exit(1)
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        summary = load(session, Crypto(settings))
    base = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"  # noqa: S104 (compared, not bound)
    table = Table(
        title="Demo accounts: sign in with phone + SMS code (the code is printed in the server log)"
    )
    for column in ("phone", "who", "note"):
        table.add_column(column)
    for resident, _ in summary.residents:
        table.add_row(resident.phone, f"resident {resident.name}", resident.note)
    for phone, role in summary.staff:
        table.add_row(phone, role, "platform staff")
    console.print(table)
    typer.echo("\nDemo partner API keys (shown once; the next `demo load` revokes them and prints new ones):")
    for name, kind, partner_id, secret in summary.partner_keys:
        typer.echo(f"  {kind:<19} {name} ({partner_id})\n    Authorization: Bearer {secret}")
    for rental in summary.rentals:
        typer.echo(f"\nRental {rental.rental_id} ({rental.who}): {rental.status}, {rental.story}")
    typer.echo(f"\nEnterprise: {summary.enterprise[0]} ({summary.enterprise[1]}), admin 13800000003")
    typer.echo(
        f"\nSign in: curl -X POST {base}/v1/auth/otp -H 'Content-Type: application/json' "
        '-d \'{"phone": "13800000001"}\'  (then see README.md)'
    )
    typer.echo(f"\nServing on {base} (API docs: {base}/docs)")


@demo_app.command("rights")
def demo_rights() -> None:
    """After `demo load`: an objection upheld (the score rises) and a credit repair approved."""
    from demo.rights import rights_story

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        story = rights_story(session, Crypto(settings), settings)
    for line in story.lines:
        typer.echo(line)
