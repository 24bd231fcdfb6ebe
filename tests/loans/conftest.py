from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from tests.partners.conftest import operator
from tests.passes import helpers as pass_helpers

__all__ = ["bank", "operator", "other_bank"]


@pytest.fixture
def bank(db: Session) -> dict[str, Any]:
    return pass_helpers.partner(db, "bank", name="天山示范银行")


@pytest.fixture
def other_bank(db: Session) -> dict[str, Any]:
    return pass_helpers.partner(db, "bank", name="昆仑农商银行")
