"""``xinyi stats``: the 信易贷 figures, as the statistics API gives them."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.core.config import get_settings
from app.core.db import session_scope
from app.loans import stats

console = Console()


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """信易贷 statistics: subjects rated, reports generated, referrals, approvals, total approved amount;
    by bank and by month."""
    with session_scope(get_settings().database_url) as session:
        figures = stats.compute(session)
    if as_json:
        typer.echo(json.dumps(asdict(figures), ensure_ascii=False, indent=2))
        return
    totals = Table(title="信易贷 totals")
    for column in (
        "subjects rated",
        "reports generated",
        "applications",
        "referrals",
        "approvals",
        "declines",
        "approved (元)",
    ):
        totals.add_column(column, justify="right")
    t = figures.totals
    totals.add_row(
        *map(
            str, (t.subjects_rated, t.reports_generated, t.applications, t.referrals, t.approvals, t.declines)
        ),
        _yuan(t.approved_amount_fen),
    )
    console.print(totals)
    banks = Table(title="by bank")
    for column in ("bank", "referrals", "approvals", "declines", "approved (元)"):
        banks.add_column(column)
    for b in figures.by_bank:
        banks.add_row(
            f"{b.bank_name} ({b.bank_id})",
            str(b.referrals),
            str(b.approvals),
            str(b.declines),
            _yuan(b.approved_amount_fen),
        )
    console.print(banks)
    months = Table(title="by month (China time)")
    for column in ("month", "subjects rated", "reports", "referrals", "approvals", "approved (元)"):
        months.add_column(column)
    for m in figures.by_month:
        months.add_row(
            m.month, str(m.subjects_rated), str(m.reports_generated), str(m.referrals), str(m.approvals),
            _yuan(m.approved_amount_fen),
        )  # fmt: skip
    console.print(months)
