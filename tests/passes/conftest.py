from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.sms import RecordingSender
from tests.passes import helpers


@pytest.fixture
def holder(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    """A resident with a bound ID (base score: level B)."""
    return helpers.resident(client, sms)


@pytest.fixture
def merchant(db: Session) -> dict[str, Any]:
    return helpers.partner(db, "merchant")


@pytest.fixture
def counter(db: Session) -> dict[str, Any]:
    return helpers.partner(db, "government_counter")
