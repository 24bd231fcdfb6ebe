"""The 信用承诺书 text, versioned in the repository (``commitments/commitment_<version>.md``).

An application stores the full text it was signed under and its SHA-256, so a later edit of the file never
changes what an applicant committed to. A new wording is a new file and ``CURRENT_VERSION`` moves to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CURRENT_VERSION = "v1"
_DIR = Path(__file__).resolve().parent / "commitments"


@dataclass(frozen=True)
class Commitment:
    version: str
    text: str
    sha256: str


@lru_cache
def load(version: str = CURRENT_VERSION) -> Commitment:
    path = _DIR / f"commitment_{version}.md"
    if not version.isalnum() or not path.is_file():
        raise LookupError(f"no commitment text {version!r}")
    text = path.read_text(encoding="utf-8")
    return Commitment(version, text, hashlib.sha256(text.encode()).hexdigest())


def current() -> Commitment:
    return load(CURRENT_VERSION)
