"""Operators, residents and partners with keys, made through the real API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import User
from app.core.sms import RecordingSender
from tests.helpers import make_phone, sign_in


@pytest.fixture
def operator(client: TestClient, sms: RecordingSender, db: Session) -> dict[str, Any]:
    """A signed-in user with the operator role: ``{"id", "headers"}``."""
    pair = sign_in(client, sms, make_phone())
    user = db.get(User, pair["user_id"])
    assert user is not None
    user.roles = ["operator"]
    db.add(user)
    # Releases the test's savepoint only (the outer transaction is still rolled back after the test),
    # so a later refused request, which rolls back its own savepoint, keeps the role.
    db.commit()
    return {"id": pair["user_id"], "headers": pair["headers"]}


@pytest.fixture
def resident(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    pair = sign_in(client, sms, make_phone())
    return {"id": pair["user_id"], "headers": pair["headers"]}
