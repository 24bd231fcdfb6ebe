"""Finding and creating credit subjects. The only module that handles plaintext ID numbers."""

from __future__ import annotations

from sqlmodel import Session, select

from app.audit import service as audit_service
from app.core.errors import InvalidInput, NotFound
from app.core.principal import Principal
from app.core.reseal import SealedColumn
from app.core.security import Crypto, mask_id_number
from app.core.validators import IdentifierError
from app.subjects.identifiers import validate_id_number, validate_uscc
from app.subjects.models import Subject, SubjectKind

ID_NUMBER_PURPOSE = "subjects.id_number"
SEALED_COLUMNS = [SealedColumn(Subject, "id_number_ciphertext", "id_number_kid", lambda _: ID_NUMBER_PURPOSE)]


def normalise_id_number(raw: str, param: str = "id_number") -> str:
    try:
        return validate_id_number(raw)
    except IdentifierError as exc:
        raise InvalidInput(f"{param}: {exc.message}", code=exc.code, param=param) from None


def normalise_uscc(raw: str, param: str = "uscc") -> str:
    try:
        return validate_uscc(raw)
    except IdentifierError as exc:
        raise InvalidInput(f"{param}: {exc.message}", code=exc.code, param=param) from None


def find_person(session: Session, crypto: Crypto, id_number: str) -> Subject | None:
    return session.exec(
        select(Subject).where(Subject.id_number_hash == crypto.id_number_hash(id_number))
    ).first()


def get_or_create_person(
    session: Session, crypto: Crypto, id_number: str, name: str | None = None
) -> Subject:
    """``id_number`` must already be validated (:func:`normalise_id_number`)."""
    subject = find_person(session, crypto, id_number)
    if subject is not None:
        return subject
    sealed = crypto.cipher.seal(id_number, ID_NUMBER_PURPOSE)
    subject = Subject(
        kind=SubjectKind.person,
        name=name,
        id_number_hash=crypto.id_number_hash(id_number),
        id_number_ciphertext=sealed.ciphertext,
        id_number_kid=sealed.kid,
        id_number_masked=mask_id_number(id_number),
    )
    session.add(subject)
    session.flush()
    return subject


def get_or_create_enterprise(session: Session, uscc: str, name: str | None = None) -> Subject:
    """``uscc`` must already be validated (:func:`normalise_uscc`)."""
    subject = session.exec(select(Subject).where(Subject.uscc == uscc)).first()
    if subject is None:
        subject = Subject(kind=SubjectKind.enterprise, uscc=uscc, name=name)
        session.add(subject)
        session.flush()
    return subject


def read_for_operator(
    session: Session, operator: Principal, subject_id: str, purpose: str, legal_basis: str
) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("No such subject.", code="subject_not_found")
    audit_service.Grounds(purpose, legal_basis).record(
        session, operator, "subject.read", {}, subject_id=subject.id
    )
    return subject
