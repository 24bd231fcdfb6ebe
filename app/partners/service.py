"""Partners and API keys. (Being built: see the partners issue section.)"""

from __future__ import annotations

from sqlmodel import Session

from app.core.errors import Unauthenticated
from app.core.principal import Principal

API_KEY_PREFIX = "xyk_"


def principal_from_api_key(session: Session, key: str) -> Principal:
    raise Unauthenticated("Unknown API key.", code="invalid_api_key")
