"""The subject's standing, read in one statement (black list in force + stored score), must say what the
two separate reads say: the lists themselves decide the block, the stored score the level."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import business_date
from app.core.sms import RecordingSender
from app.records import service as records_service
from app.records.catalog import ListStatus, ListType
from app.records.models import ListEntry
from app.scenarios import service as scenarios_service
from app.scoring import service as scoring_service
from app.scoring.models import CreditScore
from tests.clock import TODAY, days_ago
from tests.records.helpers import resident_with_identity, uid


@pytest.fixture
def subject_id(client: TestClient, sms: RecordingSender) -> str:
    """A subject with no record, no list entry and no stored score."""
    return str(resident_with_identity(client, sms)["subject_id"])


def _list_entry(db: Session, subject_id: str, list_type: ListType, **fields: Any) -> ListEntry:
    entry = ListEntry(
        subject_id=subject_id,
        list_type=list_type,
        legal_basis="test",
        starts_on=days_ago(329),
        source="test",
        source_record_id=uid(),
        content_hash="0" * 32,
        **fields,
    )
    db.add(entry)
    db.flush()
    return entry


def _stored_score(
    db: Session, subject_id: str, level: str, reasons: list[str], blocked: bool = False
) -> None:
    db.add(
        CreditScore(
            subject_id=subject_id,
            score=700,
            level=level,
            blocked=blocked,
            model_version="test",
            explanation={"reasons": [[code, "test", 10, 1] for code in reasons], "improvements": []},
            digest="0" * 32,
            trigger="test",
        )
    )
    db.flush()


def test_an_unscored_subject_stands_as_current_score_and_is_blocked_say(db: Session, subject_id: str) -> None:
    standing = scenarios_service.subject_standing(db, subject_id)
    current = scoring_service.current_score(db, subject_id).result
    assert scoring_service.stored_score(db, subject_id) is None
    assert standing == scenarios_service.Standing(
        level=current.level, blocked=False, red_listed=False, open_default=False
    )
    assert records_service.is_blocked(db, subject_id) is False


def test_a_black_list_entry_in_force_blocks_even_when_the_stored_score_does_not_say_so(
    db: Session, subject_id: str
) -> None:
    # given a stored score that is not blocked, and a black-list entry in force not yet scored
    _stored_score(db, subject_id, "AA", ["level_bonus"])
    _list_entry(db, subject_id, ListType.black)
    # then the lists decide
    standing = scenarios_service.subject_standing(db, subject_id)
    assert (standing.level, standing.blocked) == ("AA", True)
    assert records_service.is_blocked(db, subject_id) is True


@pytest.mark.parametrize(
    "fields",
    [
        {"ends_on": TODAY},  # the first day it no longer applies is today
        {"ends_on": TODAY - timedelta(days=328)},
        {"status": ListStatus.removed},
        {"status": ListStatus.expired},
    ],
)
def test_a_black_list_entry_no_longer_in_force_does_not_block(
    db: Session, subject_id: str, fields: dict[str, Any]
) -> None:
    _list_entry(db, subject_id, ListType.black, **fields)
    assert scenarios_service.subject_standing(db, subject_id).blocked is False
    assert records_service.is_blocked(db, subject_id) is False


def test_a_black_list_entry_ending_tomorrow_still_blocks(db: Session, subject_id: str) -> None:
    _list_entry(db, subject_id, ListType.black, ends_on=business_date() + timedelta(days=1))
    assert scenarios_service.subject_standing(db, subject_id).blocked is True


def test_a_red_list_entry_alone_does_not_block(db: Session, subject_id: str) -> None:
    _list_entry(db, subject_id, ListType.red)
    assert scenarios_service.subject_standing(db, subject_id).blocked is False


def test_the_stored_score_gives_level_block_red_list_and_open_defaults(db: Session, subject_id: str) -> None:
    _stored_score(db, subject_id, "A", ["red_list", "platform_rental.defaulted.deposit_free"], blocked=True)
    assert scenarios_service.subject_standing(db, subject_id) == scenarios_service.Standing(
        level="A", blocked=True, red_listed=True, open_default=True
    )
