from __future__ import annotations

import pytest

from app.core.validators import IdentifierError, validate_phone


@pytest.mark.parametrize("raw", ["13800138000", "+86 138-0013-8000", "008613800138000"])
def test_phone_numbers_are_normalised(raw: str) -> None:
    assert validate_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError) as error:
        validate_phone(raw)
    assert error.value.code == "invalid_phone"
