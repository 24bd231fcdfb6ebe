"""Records past their publicity or retention end, and list entries past theirs, stop counting."""

from __future__ import annotations

from sqlmodel import select

from app.records import service
from app.records.models import CreditRecord, ListEntry
from app.scoring.models import CreditScore
from tests.clock import days_ago, days_ahead
from tests.records.helpers import black_list, penalty, post_batch


def test_expiry_marks_what_ended_unblocks_and_rescores_once(client, db, provider, resident):
    post_batch(
        client,
        provider,
        [
            penalty(
                resident["id_number"], "general", days_ago(178).isoformat(), source_record_id="E-1"
            ),  # counts until 2027-06-01
            black_list(
                {"id_number": resident["id_number"]},
                source_record_id="E-2",
                end_date=days_ahead(36).isoformat(),
            ),
        ],
    )
    assert service.is_blocked(db, resident["subject_id"], days_ahead(35)) is True
    # The end date alone lifts the block, before the expiry job has run.
    assert service.is_blocked(db, resident["subject_id"], days_ahead(36)) is False

    first = service.expire_due(db, days_ahead(187), limit=100_000)
    again = service.expire_due(db, days_ahead(187), limit=100_000)

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
        client,
        provider,
        [penalty(resident["id_number"], "minor", days_ago(685).isoformat(), source_record_id="OLD-1")],
    )
    record = db.exec(select(CreditRecord).where(CreditRecord.source_record_id == "OLD-1")).one()
    assert (record.status, record.counts_until) == ("expired", days_ago(595))
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 600
