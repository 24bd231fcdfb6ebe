from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.sms import RecordingSender
from tests.records.helpers import make_operator, make_partner_key, resident_with_identity


@pytest.fixture
def provider(db: Session) -> dict[str, Any]:
    """A data provider whose key may write records and read objections to them."""
    return make_partner_key(db, scopes=("records:write", "objections:read"))


@pytest.fixture
def resident(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    return resident_with_identity(client, sms)


@pytest.fixture
def other_resident(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    return resident_with_identity(client, sms)


@pytest.fixture
def operator(client: TestClient, sms: RecordingSender, db: Session) -> dict[str, Any]:
    return make_operator(client, sms, db)
