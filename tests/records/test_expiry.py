"""Records past their publicity or retention end, and list entries past theirs, stop counting."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from app.records import service
from app.records.models import CreditRecord, ListEntry
from app.scoring.models import CreditScore
from tests.records.helpers import black_list, penalty, post_batch


def test_expiry_marks_what_ended_unblocks_and_rescores_once(client, db, provider, resident):
    post_batch(
        client,
        provider,
        [
            penalty(
                resident["id_number"], "general", "2026-06-01", source_record_id="E-1"
            ),  # counts until 2027-06-01
            black_list({"id_number": resident["id_number"]}, source_record_id="E-2", end_date="2027-01-01"),
        ],
    )
    assert service.is_blocked(db, resident["subject_id"], date(2026, 12, 31)) is True
    # The end date alone lifts the block, before the expiry job has run.
    assert service.is_blocked(db, resident["subject_id"], date(2027, 1, 1)) is False

    first = service.expire_due(db, date(2027, 6, 1), limit=100_000)
    again = service.expire_due(db, date(2027, 6, 1), limit=100_000)

    assert first.records >= 1 and first.list_entries >= 1 and first.rescored >= 1
    assert again == service.ExpiryOutcome(0, 0, 0)
    record = db.exec(
        select(CreditRecord)
        .where(CreditRecord.source_record_id == "E-1")
        .execution_options(populate_existing=True)
    ).one()
    entry = db.exec(
        select(ListEntry).where(ListEntry.source_record_id == "E-2").execution_options(populate_existing=True)
    ).one()
    assert (record.status, entry.status) == ("expired", "expired")
    score = db.exec(
        select(CreditScore)
        .where(CreditScore.subject_id == resident["subject_id"])
        .execution_options(populate_existing=True)
    ).one()
    assert (score.score, score.level, score.blocked, score.trigger) == (600, "B", False, "expiry")


def test_records_already_past_their_end_land_expired(client, db, provider, resident):
    post_batch(
        client, provider, [penalty(resident["id_number"], "minor", "2025-01-10", source_record_id="OLD-1")]
    )
    record = db.exec(select(CreditRecord).where(CreditRecord.source_record_id == "OLD-1")).one()
    assert (record.status, record.counts_until) == ("expired", date(2025, 4, 10))
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 600
