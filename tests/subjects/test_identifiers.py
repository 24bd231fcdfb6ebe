"""身份证号 and 统一社会信用代码: check characters and plausibility."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.validators import IdentifierError
from app.subjects.identifiers import (
    USCC_ALPHABET,
    id_number_check_char,
    uscc_check_char,
    validate_id_number,
    validate_uscc,
)
from tests.clock import TODAY


def test_the_standard_example_id_numbers_are_valid() -> None:
    assert validate_id_number("11010519491231002x", TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "invalid_id_number_check_digit"),
        ("11010519491231002", "invalid_id_number"),
        ("01010519491231002X", "invalid_id_number"),
        ("1101051949123100XX", "invalid_id_number"),
        ("110105194902300023", "implausible_birth_date"),  # 30 February, check digit correct
        ("110105203001010014", "implausible_birth_date"),  # born in 2030
        ("440524188001010014", "implausible_birth_date"),  # the standard's own example: born 1880
    ],
)
def test_bad_id_numbers_are_refused_with_a_code(value: str, code: str) -> None:
    if code == "implausible_birth_date":
        value = value[:17] + id_number_check_char(value[:17])
    with pytest.raises(IdentifierError) as error:
        validate_id_number(value, TODAY)
    assert error.value.code == code
    assert value not in str(error.value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_single_digit_change_breaks_the_check(seq: str) -> None:
    first17 = "65010219900307" + seq[:3]
    number = first17 + id_number_check_char(first17)
    assert validate_id_number(number, TODAY) == number
    changed = str((int(number[15]) + 1) % 10)
    with pytest.raises(IdentifierError):
        validate_id_number(number[:15] + changed + number[16:], TODAY)


def test_the_standard_example_uscc_is_valid() -> None:
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y44", "invalid_uscc_check_digit"),
        ("91350100M000100Y4", "invalid_uscc"),
        ("91350100M000100I43", "invalid_uscc"),  # I is not in the alphabet
    ],
)
def test_bad_uscc_is_refused_with_a_code(value: str, code: str) -> None:
    with pytest.raises(IdentifierError) as error:
        validate_uscc(value)
    assert error.value.code == code


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_computed_uscc_check_characters_validate(body: str) -> None:
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
