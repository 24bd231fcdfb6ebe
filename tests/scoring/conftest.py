from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.sms import RecordingSender
from tests.records.helpers import make_operator, make_partner_key, resident_with_identity


@pytest.fixture
def provider(db: Session) -> dict[str, Any]:
    """A data-provider partner with a ``records:write`` key: ``{"id", "headers"}``."""
    return make_partner_key(db)


@pytest.fixture
def resident(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    """A signed-in resident who bound an ID: ``{"id", "headers", "subject_id", "id_number"}``."""
    return resident_with_identity(client, sms)


@pytest.fixture
def operator(client: TestClient, sms: RecordingSender, db: Session) -> dict[str, Any]:
    return make_operator(client, sms, db)
