"""Uploading evidence, attaching it to a case, and who may read it.

A file belongs to its uploader until it is attached to an objection or a repair application; from then
on it is readable by the subject of that case (the resident, or any admin of the enterprise) and by
operators (each operator read is audited). A data provider reads the evidence of objections routed to it
through ``app.objections``. Files never attached are removed after
:data:`app.retention.rules.UNATTACHED_EVIDENCE_KEPT_FOR`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func
from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import AppError, Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.enterprises import service as enterprises_service
from app.evidence.models import EvidenceFile
from app.evidence.storage import ALLOWED_TYPES, EvidenceStore, TooLarge, WrongType
from app.retention import rules as retention_rules

PURPOSES = ("objection", "repair")
MAX_UNATTACHED_PER_USER = 20
ORPHAN_GRACE = timedelta(hours=1)  # a file written by a request whose transaction then failed
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


class EvidenceTooLarge(AppError):
    status = 413
    code = "evidence_too_large"
    title = "Payload too large"


class EvidenceTypeNotAllowed(AppError):
    status = 415
    code = "evidence_type_not_allowed"
    title = "Unsupported media type"


def store_for(settings: Settings) -> EvidenceStore:
    return EvidenceStore(settings.evidence_dir)


def clean_file_name(raw: str | None) -> str | None:
    if not raw:
        return None
    name = _UNSAFE_NAME.sub("_", raw.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[-120:] or None


def upload(
    session: Session,
    store: EvidenceStore,
    settings: Settings,
    actor: Principal,
    *,
    purpose: str,
    file_name: str | None,
    chunks: Iterable[bytes],
) -> EvidenceFile:
    if purpose not in PURPOSES:
        raise InvalidInput("purpose: one of objection, repair.", code="invalid_purpose", param="purpose")
    pending = session.exec(
        select(func.count())
        .select_from(EvidenceFile)
        .where(EvidenceFile.uploaded_by == actor.id, col(EvidenceFile.attached_to).is_(None))
    ).one()
    if pending >= MAX_UNATTACHED_PER_USER:
        raise Conflict(
            f"You have {pending} uploaded files not yet attached to an objection or repair application; "
            "attach them or wait a day for them to be removed.",
            code="too_many_unattached_evidence",
            param="file",
        )
    try:
        stored = store.save(chunks, settings.evidence_max_bytes)
    except TooLarge:
        raise EvidenceTooLarge(
            f"file: at most {settings.evidence_max_bytes} bytes per file.", param="file"
        ) from None
    except WrongType as exc:
        raise EvidenceTypeNotAllowed(
            f"file: {exc}. Accepted: PDF, PNG and JPEG (checked from the content, not the name).",
            param="file",
            extra={"allowed_types": list(ALLOWED_TYPES)},
        ) from None
    evidence = EvidenceFile(
        uploaded_by=actor.id,
        purpose=purpose,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_name=stored.storage_name,
        file_name=clean_file_name(file_name),
    )
    session.add(evidence)
    session.flush()
    return evidence


def take_for_case(
    session: Session, actor: Principal, evidence_ids: list[str], purpose: str, max_files: int, param: str
) -> list[EvidenceFile]:
    """The caller's own unattached uploads of this purpose, checked before anything else changes."""
    if len(evidence_ids) > max_files:
        raise InvalidInput(
            f"{param}: at most {max_files} files.", code="too_many_evidence_files", param=param
        )
    if len(set(evidence_ids)) != len(evidence_ids):
        raise InvalidInput(f"{param}: a file is listed twice.", code="duplicate_evidence", param=param)
    files = []
    for index, evidence_id in enumerate(evidence_ids):
        evidence = session.get(EvidenceFile, evidence_id)
        if evidence is None or evidence.uploaded_by != actor.id:
            raise NotFound(
                "No such uploaded file among yours.", code="evidence_not_found", param=f"{param}.{index}"
            )
        if evidence.attached_to is not None:
            raise Conflict(
                "This file is already attached to another case.",
                code="evidence_already_attached",
                param=f"{param}.{index}",
            )
        if evidence.purpose != purpose:
            raise InvalidInput(
                f"This file was uploaded for a {evidence.purpose}, not a {purpose}.",
                code="evidence_purpose_mismatch",
                param=f"{param}.{index}",
            )
        files.append(evidence)
    return files


def attach(session: Session, files: list[EvidenceFile], case_id: str, subject_id: str) -> None:
    for evidence in files:
        evidence.attached_to = case_id
        evidence.subject_id = subject_id
        session.add(evidence)
    session.flush()


def for_cases(session: Session, case_ids: Iterable[str]) -> dict[str, list[EvidenceFile]]:
    ids = list(case_ids)
    found: dict[str, list[EvidenceFile]] = {case_id: [] for case_id in ids}
    if not ids:
        return found
    rows = session.exec(
        select(EvidenceFile).where(col(EvidenceFile.attached_to).in_(ids)).order_by(col(EvidenceFile.id))
    ).all()
    for row in rows:
        assert row.attached_to is not None
        found[row.attached_to].append(row)
    return found


def readable(session: Session, actor: Principal, evidence_id: str) -> EvidenceFile:
    """The file if ``actor`` may read it (uploader, subject, enterprise admin, operator); 404 otherwise,
    so that an id reveals nothing. An operator's read is written to the subject's audit chain."""
    evidence = session.get(EvidenceFile, evidence_id)
    if evidence is None or actor.type != "user":
        raise NotFound("No such file.", code="evidence_not_found", param="evidence_id")
    if evidence.uploaded_by == actor.id:
        return evidence
    if evidence.subject_id is not None and enterprises_service.acts_for(session, actor, evidence.subject_id):
        return evidence
    if "operator" in actor.roles and evidence.subject_id is not None:
        disclose(session, actor, evidence, purpose="review of an objection or repair application")
        return evidence
    raise NotFound("No such file.", code="evidence_not_found", param="evidence_id")


def disclose(session: Session, actor: Principal, evidence: EvidenceFile, *, purpose: str) -> None:
    grounds = audit_service.Grounds(
        purpose, "handling the subject's own objection or credit repair application"
    )
    details = {"evidence_id": evidence.id, "case_id": evidence.attached_to}
    grounds.record(session, actor, "evidence.read", details, subject_id=evidence.subject_id)


def delete_for_cases(session: Session, case_ids: list[str]) -> list[str]:
    """Remove the rows of the cases' files; returns their storage names, to unlink after the commit."""
    if not case_ids:
        return []
    names = list(
        session.exec(
            select(EvidenceFile.storage_name).where(col(EvidenceFile.attached_to).in_(case_ids))
        ).all()
    )
    session.execute(delete(EvidenceFile).where(col(EvidenceFile.attached_to).in_(case_ids)))
    return names


def sweep(engine: Engine, store: EvidenceStore, now: datetime | None = None) -> tuple[int, int]:
    """Remove uploads never attached in time (:mod:`app.retention.rules`), then files on disk that no row names (their request
    failed after writing them). Returns (rows removed, files removed)."""
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        stale = session.exec(
            select(EvidenceFile).where(
                col(EvidenceFile.attached_to).is_(None),
                col(EvidenceFile.created_at) < now - retention_rules.UNATTACHED_EVIDENCE_KEPT_FOR,
            )
        ).all()
        names = [row.storage_name for row in stale]
        for row in stale:
            session.delete(row)
        session.commit()
    for name in names:
        store.delete(name)
    orphans = 0
    cutoff = (now - ORPHAN_GRACE).timestamp()
    candidates = [name for name, mtime in store.names() if mtime < cutoff]
    with Session(engine) as session:
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            known = set(
                session.exec(
                    select(EvidenceFile.storage_name).where(col(EvidenceFile.storage_name).in_(chunk))
                ).all()
            )
            for name in chunk:
                if name not in known:
                    store.delete(name)
                    orphans += 1
    return len(names), orphans
