"""Finding and creating many credit subjects at once, for ingestion: one query per few thousand subjects,
never one per row. People are created exactly as :func:`app.subjects.service.get_or_create_person` does
(ID number sealed, keyed hash, masked form); nothing here keeps a plaintext ID number.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import Session, SQLModel, col, select

from app.core.bulk import (
    each_of,
    fetch_tuples,
    in_chunks,
    insert_rows_skipping_conflicts,
    is_postgresql,
    new_ids,
    one_of,
)
from app.core.clock import utcnow
from app.core.security import Crypto, mask_id_number
from app.subjects.models import Subject, SubjectKind
from app.subjects.service import ID_NUMBER_PURPOSE

_SUBJECTS: Table = SQLModel.metadata.tables[str(Subject.__tablename__)]


def _insert_ignoring_conflicts(session: Session, rows: list[dict[str, object]], key: str) -> None:
    """Insert subjects, skipping any another transaction created meanwhile (``key`` is unique)."""
    insert_rows_skipping_conflicts(session, _SUBJECTS, rows, key)


def _ids_by(session: Session, column: str, values: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    attribute = getattr(Subject, column)
    for chunk in in_chunks(session, values):
        if is_postgresql(session):  # one index probe per value (see each_of)
            wanted = each_of(chunk)
            statement = select(col(Subject.id), attribute).select_from(
                wanted.join(_SUBJECTS, attribute == wanted.c.value)
            )
        else:
            statement = select(col(Subject.id), attribute).where(one_of(session, attribute, chunk))
        for subject_id, value in fetch_tuples(session, statement):
            found[value] = subject_id
    return found


def people_by_id_number(
    session: Session, crypto: Crypto, id_numbers: set[str], *, create: bool
) -> dict[str, str]:
    """Validated ID number -> subject id; with ``create``, missing people are created (sealed, hashed,
    masked, exactly as :func:`get_or_create_person` does)."""
    hashes = {number: crypto.id_number_hash(number) for number in id_numbers}
    by_hash = _ids_by(session, "id_number_hash", sorted(hashes.values()))
    missing = [number for number, digest in hashes.items() if digest not in by_hash]
    if create and missing:
        now = utcnow()
        rows: list[dict[str, object]] = []
        for number, subject_id in zip(sorted(missing), new_ids("sub", len(missing)), strict=True):
            sealed = crypto.cipher.seal(number, ID_NUMBER_PURPOSE)
            rows.append(
                {
                    "id": subject_id,
                    "kind": SubjectKind.person.value,
                    "name": None,
                    "id_number_hash": hashes[number],
                    "id_number_ciphertext": sealed.ciphertext,
                    "id_number_kid": sealed.kid,
                    "id_number_masked": mask_id_number(number),
                    "uscc": None,
                    "created_at": now,
                }
            )
        _insert_ignoring_conflicts(session, rows, "id_number_hash")
        by_hash.update(_ids_by(session, "id_number_hash", [hashes[number] for number in missing]))
    return {number: by_hash[digest] for number, digest in hashes.items() if digest in by_hash}


def enterprises_by_uscc(session: Session, usccs: set[str], *, create: bool) -> dict[str, str]:
    """Validated 统一社会信用代码 -> subject id; with ``create``, missing enterprises are created."""
    found = _ids_by(session, "uscc", sorted(usccs))
    missing = sorted(usccs - found.keys())
    if create and missing:
        now = utcnow()
        rows: list[dict[str, object]] = [
            {
                "id": subject_id,
                "kind": SubjectKind.enterprise.value,
                "name": None,
                "id_number_hash": None,
                "id_number_ciphertext": None,
                "id_number_kid": None,
                "id_number_masked": None,
                "uscc": uscc,
                "created_at": now,
            }
            for uscc, subject_id in zip(missing, new_ids("sub", len(missing)), strict=True)
        ]
        _insert_ignoring_conflicts(session, rows, "uscc")
        found.update(_ids_by(session, "uscc", missing))
    return found


def kinds_of(session: Session, subject_ids: set[str]) -> dict[str, str]:
    """Subject id -> kind, for the ids that exist."""
    kinds: dict[str, str] = {}
    ids = sorted(subject_ids)
    for chunk in in_chunks(session, ids):
        for subject_id, kind in session.execute(
            select(Subject.id, Subject.kind).where(one_of(session, col(Subject.id), chunk))
        ):
            kinds[subject_id] = str(kind)
    return kinds
