"""The credit report snapshot: score, level and breakdown, the active records in summary, and the
subject's behaviour on the platform, as they stand when the enterprise applies.

A summary, not a copy of the file: counts per kind of record (with labels), never titles or documents,
so a bank learns what a lending decision needs and nothing about third parties named in a record.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.core.clock import business_date
from app.loans.models import CreditReport
from app.records.catalog import CATEGORIES, ListStatus, RecordStatus
from app.records.models import CreditRecord, ListEntry
from app.scoring import explain
from app.scoring import service as scoring_service
from app.subjects.models import Subject

_COUNTING = (RecordStatus.active.value, RecordStatus.disputed.value)


def _label(category: str) -> dict[str, str]:
    kind = CATEGORIES.get(category)
    return {"zh": kind.zh, "en": kind.en} if kind else {"zh": category, "en": category}


def _records(session: Session, subject_id: str, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = session.execute(
        sa_select(
            col(CreditRecord.category),
            col(CreditRecord.outcome),
            col(CreditRecord.grade),
            col(CreditRecord.severity),
            col(CreditRecord.status),
            func.count(),
            func.max(col(CreditRecord.decision_date)),
        )
        .where(
            col(CreditRecord.subject_id) == subject_id,
            col(CreditRecord.status).in_(_COUNTING),
            or_(col(CreditRecord.counts_until).is_(None), col(CreditRecord.counts_until) > today),
        )
        .group_by(
            col(CreditRecord.category),
            col(CreditRecord.outcome),
            col(CreditRecord.grade),
            col(CreditRecord.severity),
            col(CreditRecord.status),
        )
    ).all()
    public: list[dict[str, Any]] = []
    platform: list[dict[str, Any]] = []
    disputed = 0
    for category, outcome, grade, severity, status, count, latest in sorted(
        rows, key=lambda r: tuple(map(str, r))
    ):
        kind = CATEGORIES.get(category)
        item = {
            "category": category,
            "labels": _label(category),
            "outcome": outcome,
            "grade": grade,
            "severity": severity,
            "disputed": status == RecordStatus.disputed.value,
            "count": int(count),
            "latest_decision_date": latest.isoformat() if latest else None,
        }
        if status == RecordStatus.disputed.value:
            disputed += int(count)
        (platform if kind is not None and not kind.creates_subject else public).append(item)
    dishonest = sum(i["count"] for i in public if i["severity"] is not None)
    summary = {
        "total": sum(i["count"] for i in public),
        "dishonest": dishonest,
        "disputed": disputed,
        "by_kind": public,
    }
    loans: Counter[str] = Counter()
    rentals: Counter[str] = Counter()
    for item in platform:
        (loans if item["category"] == "platform_loan" else rentals)[item["outcome"] or ""] += item["count"]
    behaviour = {
        "by_kind": platform,
        "loans": {"repaid": loans["repaid"], "overdue": loans["overdue"]},
        "rentals": {"returned_on_time": rentals["returned_on_time"], "defaulted": rentals["defaulted"]},
    }
    return summary, behaviour


def _lists(session: Session, subject_id: str, today: date) -> dict[str, int]:
    rows = session.execute(
        sa_select(col(ListEntry.list_type), func.count())
        .where(
            col(ListEntry.subject_id) == subject_id,
            col(ListEntry.status) == ListStatus.active.value,
            or_(col(ListEntry.ends_on).is_(None), col(ListEntry.ends_on) > today),
        )
        .group_by(col(ListEntry.list_type))
    ).all()
    found = {str(list_type): int(count) for list_type, count in rows}
    return {"red": found.get("red", 0), "black": found.get("black", 0)}


def snapshot(session: Session, subject_id: str, application_id: str, now: datetime) -> CreditReport:
    today = business_date(now)
    subject = session.get(Subject, subject_id)
    assert subject is not None
    found = scoring_service.current_score(session, subject_id, today)
    rendered = explain.render(found, "zh", today)
    summary, behaviour = _records(session, subject_id, today)
    report = CreditReport(
        subject_id=subject_id,
        application_id=application_id,
        score=found.result.score,
        level=found.result.level,
        blocked=found.result.blocked,
        model_version=found.result.model_version,
        generated_at=now,
    )
    report.content = {
        "object": "credit_report",
        "id": report.id,
        "generated_at": now.isoformat(),
        "subject": {"kind": str(subject.kind), "name": subject.name, "uscc": subject.uscc},
        "score": {
            "score": rendered.score,
            "level": rendered.level,
            "level_labels": rendered.level_labels.model_dump(),
            "blocked": rendered.blocked,
            "model_version": rendered.model_version,
            "computed_at": rendered.computed_at.isoformat(),
            "breakdown": [d.model_dump(mode="json", exclude={"label"}) for d in rendered.breakdown],
            "top_reasons": [r.model_dump(mode="json", exclude={"label"}) for r in rendered.top_reasons],
        },
        "active_records": {**summary, "lists": _lists(session, subject_id, today)},
        "platform_behaviour": behaviour,
    }
    session.add(report)
    session.flush()
    return report
