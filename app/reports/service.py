"""A subject's own credit report: everything the platform holds about it, in one document.

Identity (masked), score and reasons, every record with its status (and any open objection or pending
repair), red/black list entries, objections, repair applications, recent scans of its passes, the recent
access log and the consent register. Each report is counted; the count of the calendar year is shown on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.audit import service as audit_service
from app.consents import service as consents_service
from app.core.clock import business_date, utcnow
from app.core.errors import InvalidInput, NotFound
from app.core.pagination import PageParams
from app.core.principal import Principal
from app.core.security import mask_name
from app.enterprises import service as enterprises_service
from app.objections import service as objections_service
from app.objections.models import ObjectionStatus
from app.partners import service as partners_service
from app.records import service as records_service
from app.records.models import CreditRecord
from app.repairs import service as repairs_service
from app.repairs.models import RepairStatus
from app.reports.models import CreditReportIssue
from app.reports.schemas import (
    CreditReportOut,
    ReportAccessEntry,
    ReportListEntry,
    ReportObjection,
    ReportRecord,
    ReportRepair,
    ReportScan,
    ReportSection,
    ReportSubject,
)
from app.scenarios import service as scenarios_service
from app.scoring import explain
from app.scoring import service as scoring_service
from app.scoring.schemas import Language
from app.subjects.models import Subject
from app.verifications import service as verifications_service

SECTION_LIMIT = 50
FORMATS = ("json", "html")


def consents_section(session: Session, subject_id: str) -> list[dict[str, Any]]:
    """The consent register of the subject (issue 7, section 4): every consent, newest first, with the
    grantees by name, its status now, and when it was withdrawn."""
    consents = consents_service.all_for_subject(session, subject_id)
    grantee_ids = sorted({g for consent in consents for g in consent.grantees})
    names = partners_service.names_of(session, grantee_ids)
    section = []
    for consent in consents:
        labels = consents_service.purpose_labels(consent.purpose)
        section.append(
            {
                "id": consent.id,
                "purpose": consent.purpose,
                "purpose_labels": labels,
                "grantees": [{"id": g, "name": names.get(g, g)} for g in consent.grantees],
                "grantee": "、".join(names.get(g, g) for g in consent.grantees),
                "scope": ", ".join(consent.scope),
                "reference": consent.reference,
                "status": consents_service.status_of(consent),
                "granted_at": consent.granted_at.isoformat(),
                "expires_at": consent.expires_at.isoformat(),
                "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
            }
        )
    return section


def subject_for(session: Session, actor: Principal, enterprise_id: str | None) -> str:
    """The subject whose report ``actor`` may read: their own, or an enterprise they administer."""
    if enterprise_id is not None:
        return enterprises_service.get_administered(session, actor, enterprise_id).subject_id
    if actor.subject_id is None:
        raise NotFound("Bind your 身份证号 first (PUT /v1/me/identity).", code="identity_not_bound")
    return actor.subject_id


def _count(session: Session, actor: Principal, subject_id: str, fmt: str, year: int) -> tuple[str, int]:
    issue = CreditReportIssue(subject_id=subject_id, requested_by=actor.id, format=fmt, year=year)
    session.add(issue)
    session.flush()
    count = session.exec(
        select(func.count())
        .select_from(CreditReportIssue)
        .where(CreditReportIssue.subject_id == subject_id, CreditReportIssue.year == year)
    ).one()
    return issue.id, int(count)


def _subject(subject: Subject) -> ReportSubject:
    return ReportSubject(
        id=subject.id,
        kind=subject.kind,
        name_masked=mask_name(subject.name) if subject.name and subject.kind == "person" else subject.name,
        id_number_masked=subject.id_number_masked,
        uscc=subject.uscc,
    )


def _all_records(session: Session, subject_id: str) -> list[CreditRecord]:
    rows: list[CreditRecord] = []
    after: str | None = None
    while True:
        page, has_more = records_service.records_of(
            session, subject_id, PageParams(limit=100, starting_after=after)
        )
        rows += page
        if not has_more or not page:
            return rows
        after = page[-1].id


def _scans(session: Session, subject_id: str) -> tuple[list[ReportScan], bool]:
    rows, has_more = verifications_service.list_for_subject(
        session, subject_id, PageParams(limit=SECTION_LIMIT, starting_after=None)
    )
    names: dict[str, tuple[str, str]] = {}
    scans = []
    for row in rows:
        if row.partner_id not in names:
            partner = partners_service.get_partner(session, row.partner_id)
            names[row.partner_id] = (partner.name, str(partner.kind))
        name, kind = names[row.partner_id]
        scans.append(
            ReportScan(
                id=row.id,
                created_at=row.created_at,
                partner_name=name,
                partner_kind=kind,
                scenario=row.scenario,
                decision=row.decision,
                reason=row.reason,
                reason_labels=scenarios_service.reason_labels(row.reason),
            )
        )
    return scans, has_more


def build(
    session: Session, actor: Principal, subject_id: str, *, fmt: str, lang: Language
) -> CreditReportOut:
    if fmt not in FORMATS:
        raise InvalidInput("format: json or html.", code="invalid_format", param="format")
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("No such subject.", code="subject_not_found")
    now = utcnow()
    today = business_date(now)
    report_id, count = _count(session, actor, subject_id, fmt, today.year)
    objections = objections_service.list_for_subject(session, subject_id)
    repairs = repairs_service.list_for_subject(session, subject_id)
    open_objections = {o.record_id: o.id for o in objections if o.status == ObjectionStatus.open}
    pending_repairs = {r.record_id: r.id for r in repairs if r.status == RepairStatus.pending}
    scans, scans_more = _scans(session, subject_id)
    log_rows, log_more = audit_service.list_entries(
        session, PageParams(limit=SECTION_LIMIT, starting_after=None), subject_id=subject_id
    )
    log_partners = partners_service.names_of(
        session, sorted({e.actor_id for e in log_rows if e.actor_type == "partner"})
    )
    return CreditReportOut(
        id=report_id,
        generated_at=now,
        year=today.year,
        reports_this_year=count,
        subject=_subject(subject),
        score=explain.render(scoring_service.current_score(session, subject_id), lang, today),
        records=[
            ReportRecord.of(
                r, open_objection_id=open_objections.get(r.id), pending_repair_id=pending_repairs.get(r.id)
            )
            for r in _all_records(session, subject_id)
        ],
        lists=[
            ReportListEntry.model_validate(e, from_attributes=True)
            for e in records_service.list_entries_of(session, subject_id)
        ],
        objections=[ReportObjection.model_validate(o, from_attributes=True) for o in objections],
        repairs=[ReportRepair.model_validate(r, from_attributes=True) for r in repairs],
        verifications=scans,
        verifications_section=ReportSection(truncated=scans_more, full_list="/v1/me/verifications"),
        access_log=[ReportAccessEntry.of(e, log_partners) for e in log_rows],
        access_log_section=ReportSection(truncated=log_more, full_list="/v1/me/access-log"),
        consents=consents_section(session, subject_id),
    )
