"""Check digits and plausibility of the identifiers that name a credit subject (DESIGN.md, "Domain facts").

- 身份证号, GB 11643-1999: 17 digits + check character; weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2;
  Σ mod 11 indexes "10X98765432"; digits 7-14 are the birth date.
- 统一社会信用代码, GB 32100-2015: 18 characters from 0-9A-HJ-NPQRTUWXY; weights 3^(i-1) mod 31;
  check = (31 - Σ mod 31) mod 31.

Each validator returns the normalised value or raises :class:`IdentifierError` with a stable code;
callers turn that into a problem naming their own field (:func:`app.subjects.service.normalise_id_number`).
Messages never repeat the value.
"""

from __future__ import annotations

import re
from datetime import date

from app.core.clock import business_date
from app.core.validators import IdentifierError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def id_number_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, today: date | None = None) -> str:
    number = value.strip().upper()
    if not _ID_SHAPE.match(number):
        raise IdentifierError("invalid_id_number", "must be 18 characters: 17 digits then a digit or X")
    if id_number_check_char(number[:17]) != number[17]:
        raise IdentifierError("invalid_id_number_check_digit", "the check digit does not match")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("implausible_birth_date", "the birth date in it is not a real date") from None
    today = today or business_date()
    if born > today or born.year < today.year - 130:
        raise IdentifierError("implausible_birth_date", "the birth date in it is not plausible")
    return number


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    code = value.strip().upper()
    if not _USCC_SHAPE.match(code):
        raise IdentifierError(
            "invalid_uscc", "must be 18 characters from 0-9 and A-Z without I, O, S, V and Z"
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise IdentifierError("invalid_uscc_check_digit", "the check character does not match")
    return code
