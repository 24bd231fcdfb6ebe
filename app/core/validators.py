"""Plausibility of a mainland mobile number, and the error every identifier check raises.

Each validator returns the normalised value or raises :class:`IdentifierError` with a stable code;
callers turn that into a problem naming their own field. Messages never repeat the value. The checks of
ID numbers and USCCs live with the subjects they name: :mod:`app.subjects.identifiers`.
"""

from __future__ import annotations

import re

_PHONE = re.compile(r"^1[3-9]\d{9}$")


class IdentifierError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", value)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not _PHONE.match(phone):
        raise IdentifierError("invalid_phone", "must be a mainland mobile number: 11 digits starting 13-19")
    return phone
