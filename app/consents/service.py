"""Consents: grant, withdraw, check at the moment of disclosure, list for the subject.

Rules (DESIGN.md: "A query of someone's credit report needs their consent with a stated purpose; no
'forever' consent"): a consent names a registered purpose, at least one grantee and a scope, and expires at
most :data:`MAX_VALIDITY` after it is given. It can be withdrawn at any time, with effect at once: a
disclosure checks it with :func:`require_valid` in its own transaction (under a shared row lock on
PostgreSQL, so a withdrawal that commits first is always seen, and one that comes later waits for the
disclosure to finish). Every disclosure names the consent it relied on in its audit entry
(:func:`record_disclosure`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.consents.models import Consent
from app.core.clock import utcnow
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal

MAX_VALIDITY = timedelta(days=90)
LEGAL_BASIS = "信息主体同意（《个人信息保护法》第十三条、《征信业管理条例》第十八条）"


@dataclass(frozen=True)
class Purpose:
    code: str
    zh: str
    en: str


PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        Purpose(
            "xinyidai_loan_application",
            "信易贷融资申请：向所选合作银行提供信用报告",
            "信易贷 loan application: credit report to the partner banks chosen",
        ),
    )
}
SCOPES = frozenset({"credit_report"})


def purpose_labels(code: str) -> dict[str, str]:
    purpose = PURPOSES.get(code)
    return {"zh": purpose.zh, "en": purpose.en} if purpose else {"zh": code, "en": code}


def grounds_of(consent: Consent, legal_basis: str = LEGAL_BASIS) -> audit_service.Grounds:
    """A consent's entries name its purpose, on the subject's consent (a disclosure's also names which)."""
    return audit_service.Grounds(purpose_labels(consent.purpose)["zh"], legal_basis)


def status_of(consent: Consent, now: datetime | None = None) -> Literal["active", "withdrawn", "expired"]:
    """active | withdrawn | expired."""
    if consent.withdrawn_at is not None:
        return "withdrawn"
    if consent.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def grant(
    session: Session,
    actor: Principal,
    *,
    subject_id: str,
    purpose: str,
    grantees: Iterable[str],
    scope: Iterable[str],
    expires_at: datetime | None,
    reference: str | None = None,
    param: str = "consent",
    now: datetime | None = None,
) -> Consent:
    """Record a consent given by ``actor`` for ``subject_id``. The caller has checked that ``actor`` may
    speak for the subject. Open-ended or over-long consents are refused."""
    now = now or utcnow()
    if purpose not in PURPOSES:
        raise InvalidInput(f"{param}.purpose: not a known purpose.", code="unknown_purpose", param=param)
    named = list(dict.fromkeys(grantees))
    if not named:
        raise InvalidInput(
            f"{param}: name at least one recipient.", code="consent_without_grantee", param=param
        )
    scopes = sorted(set(scope))
    if not scopes or not set(scopes) <= SCOPES:
        raise InvalidInput(f"{param}.scope: one of {', '.join(sorted(SCOPES))}.", code="invalid_scope")
    if expires_at is None:
        raise InvalidInput(
            f"{param}.expires_at: a consent must end; open-ended consent is refused.",
            code="consent_open_ended",
            param=f"{param}.expires_at",
        )
    if expires_at.tzinfo is None:
        raise InvalidInput(
            f"{param}.expires_at: give a time zone (e.g. 2027-01-31T00:00:00+08:00).",
            code="invalid_datetime",
            param=f"{param}.expires_at",
        )
    if expires_at <= now:
        raise InvalidInput(
            f"{param}.expires_at: must be in the future.",
            code="consent_expires_in_past",
            param=f"{param}.expires_at",
        )
    if expires_at - now > MAX_VALIDITY:
        raise InvalidInput(
            f"{param}.expires_at: at most {MAX_VALIDITY.days} days from now.",
            code="consent_too_long",
            param=f"{param}.expires_at",
        )
    consent = Consent(
        subject_id=subject_id,
        purpose=purpose,
        grantees=named,
        scope=scopes,
        reference=reference,
        granted_by=actor.id,
        granted_at=now,
        expires_at=expires_at,
    )
    session.add(consent)
    session.flush()
    grounds_of(consent).record(
        session,
        actor,
        "consent.granted",
        {
            "consent_id": consent.id,
            "grantees": named,
            "scope": scopes,
            "expires_at": expires_at.isoformat(),
            "reference": reference,
        },
        subject_id=subject_id,
    )
    return consent


def get(session: Session, consent_id: str) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound("No consent with this id.", code="consent_not_found", param="consent_id")
    return consent


def get_for_subjects(session: Session, consent_id: str, subject_ids: Iterable[str]) -> Consent:
    """The consent, if it belongs to one of ``subject_ids``; 404 otherwise (ids reveal nothing)."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.subject_id not in set(subject_ids):
        raise NotFound("No consent with this id among yours.", code="consent_not_found", param="consent_id")
    return consent


def withdraw(session: Session, actor: Principal, consent: Consent, now: datetime | None = None) -> Consent:
    """Effective at once. Withdrawing a withdrawn consent changes nothing; an expired one can still be
    withdrawn (it records the subject's wish)."""
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = now or utcnow()
    consent.withdrawn_by = actor.id
    session.add(consent)
    session.flush()
    grounds_of(consent).record(
        session,
        actor,
        "consent.withdrawn",
        {"consent_id": consent.id, "reference": consent.reference},
        subject_id=consent.subject_id,
    )
    return consent


def require_valid(
    session: Session,
    consent_id: str,
    grantee: str,
    purpose: str,
    scope: str | None = None,
    now: datetime | None = None,
) -> Consent:
    """The consent, if it lets ``grantee`` receive ``scope`` for ``purpose`` right now. Otherwise 403 with
    its own code: ``consent_withdrawn``, ``consent_expired`` or ``consent_not_covering``. The row is read
    under a shared lock so that a concurrent withdrawal is ordered before or after this disclosure."""
    consent = session.exec(
        select(Consent)
        .where(Consent.id == consent_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).first()
    if consent is None or grantee not in consent.grantees or consent.purpose != purpose:
        raise Forbidden("No consent of the subject covers this.", code="consent_not_covering")
    if scope is not None and scope not in consent.scope:
        raise Forbidden("No consent of the subject covers this.", code="consent_not_covering")
    if consent.withdrawn_at is not None:
        raise Forbidden("The subject withdrew this consent.", code="consent_withdrawn")
    if consent.expires_at <= (now or utcnow()):
        raise Forbidden("This consent has expired.", code="consent_expired")
    return consent


def record_disclosure(
    session: Session,
    actor: Principal,
    consent: Consent,
    *,
    action: str,
    details: dict[str, Any] | None = None,
) -> audit_service.EntryRef:
    """The audit entry of a disclosure, on the subject's chain, naming the consent it relied on."""
    grounds = grounds_of(consent, f"{LEGAL_BASIS}; consent {consent.id}")
    details = {**(details or {}), "consent_id": consent.id}
    return grounds.record(session, actor, action, details, subject_id=consent.subject_id)


def list_for_subjects(
    session: Session, subject_ids: Iterable[str], params: PageParams, subject_id: str | None = None
) -> tuple[list[Consent], bool]:
    """Newest first, of the subjects given (a user's own and those of the enterprises they administer)."""
    allowed = sorted(set(subject_ids))
    if subject_id is not None:
        allowed = [s for s in allowed if s == subject_id]
    if not allowed:
        return [], False
    statement = select(Consent).where(col(Consent.subject_id).in_(allowed))
    return fetch_page(session, statement, Consent.id, params)


def all_for_subject(session: Session, subject_id: str) -> list[Consent]:
    """Every consent about one subject, newest first (the own credit report lists them all)."""
    statement = select(Consent).where(Consent.subject_id == subject_id).order_by(col(Consent.id).desc())
    return list(session.exec(statement).all())


def list_for_subject(session: Session, subject_id: str, params: PageParams) -> tuple[list[Consent], bool]:
    return list_for_subjects(session, [subject_id], params)
