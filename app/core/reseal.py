"""Re-sealing encrypted columns under the active ID-encryption key (``xinyi keys reencrypt``), so that an
old key can be retired. Each domain declares its sealed columns (:class:`SealedColumn`); this module walks
one of them in batches, in the caller's transaction, by primary key (keyset: a batch never rescans rows
already done), so a run interrupted anywhere resumes by running again and a finished run finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from app.core.errors import AppError
from app.core.security import FieldCipher, Sealed


class UnknownSealingKey(AppError):
    status = 409
    code = "unknown_sealing_key"
    title = "A row is sealed under a key that is not configured"


@dataclass(frozen=True)
class SealedColumn:
    """One encrypted column: its table, the ciphertext and key-id fields, and the cipher's purpose."""

    model: type[SQLModel]
    ciphertext_field: str
    kid_field: str
    purpose: Callable[[Any], str]
    id_field: str = "id"

    @property
    def name(self) -> str:
        return f"{self.model.__tablename__}.{self.ciphertext_field}"


def reseal_batch(
    session: Session, cipher: FieldCipher, column: SealedColumn, after_id: str, limit: int
) -> tuple[int, str | None]:
    """Re-seal up to ``limit`` values not under the active key, among rows whose id sorts after
    ``after_id``. Returns how many, and the id to continue after (None: the column is done)."""
    model = column.model
    row_id = col(getattr(model, column.id_field))
    kid = col(getattr(model, column.kid_field))
    rows = session.exec(
        select(model)
        .where(kid.is_not(None), kid != cipher.active_kid, row_id > after_id)
        .order_by(row_id)
        .limit(limit)
        .with_for_update()
    ).all()
    for row in rows:
        old_kid = getattr(row, column.kid_field)
        if old_kid not in cipher.kids:
            raise UnknownSealingKey(
                f"{column.name} of {getattr(row, column.id_field)} is sealed under key id {old_kid!r}, which "
                "XINYI_ID_ENCRYPTION_KEYS does not hold: put that key back, then run this again.",
                param="XINYI_ID_ENCRYPTION_KEYS",
            )
        purpose = column.purpose(row)
        plaintext = cipher.open(Sealed(old_kid, getattr(row, column.ciphertext_field)), purpose)
        sealed = cipher.seal(plaintext, purpose)
        setattr(row, column.ciphertext_field, sealed.ciphertext)
        setattr(row, column.kid_field, sealed.kid)
        session.add(row)
    session.flush()
    return len(rows), (getattr(rows[-1], column.id_field) if len(rows) == limit else None)


def kids_in_use(session: Session, column: SealedColumn) -> set[str]:
    kid = col(getattr(column.model, column.kid_field))
    return {k for k in session.exec(select(kid).where(kid.is_not(None)).distinct()).all() if k}
