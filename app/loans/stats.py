"""信易贷 statistics in the shape of the Wuhu case: subjects rated, reports generated, referrals, loans
granted, total amount; in total, by bank and by month (China Standard Time). Aggregates only: no figure
names or singles out an enterprise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.core.months import FIRST_COLUMN, china_month
from app.loans.models import CreditReport, LoanApplication, LoanReferral, ReferralStatus
from app.partners.models import Partner
from app.scoring.models import CreditScore, ScoreHistory


@dataclass
class Totals:
    subjects_rated: int = 0
    reports_generated: int = 0
    applications: int = 0
    referrals: int = 0
    approvals: int = 0
    declines: int = 0
    approved_amount_fen: int = 0


@dataclass
class BankFigures:
    bank_id: str
    bank_name: str
    referrals: int = 0
    approvals: int = 0
    declines: int = 0
    approved_amount_fen: int = 0


@dataclass
class MonthFigures:
    month: str  # YYYY-MM, China Standard Time
    subjects_rated: int = 0
    reports_generated: int = 0
    referrals: int = 0
    approvals: int = 0
    approved_amount_fen: int = 0


@dataclass
class Statistics:
    totals: Totals
    by_bank: list[BankFigures] = field(default_factory=list)
    by_month: list[MonthFigures] = field(default_factory=list)


def _count(session: Session, statement: Any) -> int:
    return int(session.execute(statement).scalar_one() or 0)


def _per_month(session: Session, at: Any) -> list[tuple[str, int]]:
    """How many rows there are in each month (China Standard Time) of the time column ``at``."""
    month = china_month(session, at)
    rows = session.execute(select(month, func.count()).group_by(FIRST_COLUMN)).all()
    return [(key, int(count)) for key, count in rows]


def compute(session: Session) -> Statistics:
    approved = col(LoanReferral.status) == ReferralStatus.approved.value
    declined = col(LoanReferral.status) == ReferralStatus.declined.value
    amount = func.coalesce(func.sum(col(LoanReferral.approved_amount_fen)), 0)
    totals = Totals(
        subjects_rated=_count(session, select(func.count()).select_from(CreditScore)),
        reports_generated=_count(session, select(func.count()).select_from(CreditReport)),
        applications=_count(session, select(func.count()).select_from(LoanApplication)),
        referrals=_count(session, select(func.count()).select_from(LoanReferral)),
        approvals=_count(session, select(func.count()).select_from(LoanReferral).where(approved)),
        declines=_count(session, select(func.count()).select_from(LoanReferral).where(declined)),
        approved_amount_fen=_count(session, select(amount).where(approved)),
    )

    by_bank: dict[str, BankFigures] = {}
    rows = session.execute(
        select(
            col(LoanReferral.partner_id), col(Partner.name), col(LoanReferral.status), func.count(), amount
        )
        .join(Partner, col(Partner.id) == col(LoanReferral.partner_id))
        .group_by(col(LoanReferral.partner_id), col(Partner.name), col(LoanReferral.status))
    ).all()
    for bank_id, name, status, count, total in rows:
        figures = by_bank.setdefault(bank_id, BankFigures(bank_id, name))
        figures.referrals += int(count)
        if status == ReferralStatus.approved.value:
            figures.approvals += int(count)
            figures.approved_amount_fen += int(total or 0)
        elif status == ReferralStatus.declined.value:
            figures.declines += int(count)

    months: dict[str, MonthFigures] = {}

    def month(key: str) -> MonthFigures:
        return months.setdefault(key, MonthFigures(key))

    first_scored = (
        select(func.min(col(ScoreHistory.computed_at)).label("at"))
        .group_by(col(ScoreHistory.subject_id))
        .subquery()
    )
    for key, count in _per_month(session, first_scored.c.at):
        month(key).subjects_rated = count
    for key, count in _per_month(session, col(CreditReport.generated_at)):
        month(key).reports_generated = count
    for key, count in _per_month(session, col(LoanReferral.created_at)):
        month(key).referrals = count
    decided_month = china_month(session, col(LoanReferral.decided_at))
    for key, count, total in session.execute(
        select(decided_month, func.count(), amount).where(approved).group_by(FIRST_COLUMN)
    ).all():
        month(key).approvals = int(count)
        month(key).approved_amount_fen = int(total or 0)

    return Statistics(
        totals=totals,
        by_bank=sorted(by_bank.values(), key=lambda b: (-b.referrals, b.bank_id)),
        by_month=[months[key] for key in sorted(months)],
    )
