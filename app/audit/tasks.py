"""The worker's job: sign a checkpoint of the audit chains every hour (``app.audit.checkpoints``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.audit import checkpoints
from app.core.config import get_settings
from app.core.security import Crypto
from app.signing.keyring import Keyring


def checkpoint(engine: Engine, now: datetime) -> int | None:
    """The new checkpoint's seq, or None when no chain moved since the last one."""
    keyring = Keyring(Crypto(get_settings()).cipher)
    with Session(engine, expire_on_commit=False) as session:
        made = checkpoints.make(session, keyring, now)
        session.commit()
        return None if made is None else made.seq
