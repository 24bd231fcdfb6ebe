"""The score rebuild with real commits, batch by batch (both databases); its summarised read (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.core.clock import business_date
from app.core.security import Crypto
from app.records import tasks as records_tasks
from app.records.files import open_record_file
from app.records.models import CreditRecord
from app.scoring.models import CreditScore, ScoreRebuild
from app.scoring.rebuild import run_rebuild, start_rebuild
from app.subjects.models import Subject
from tests.clock import PINNED
from tests.records.helpers import new_id_number, scores_of, uid, write, written_at


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rebuild_gives_the_scores_the_incremental_path_gave(committed_engine, settings, tmp_path, workers):
    day = business_date().replace(day=1).isoformat()
    rows = [
        {"source_record_id": f"R-{n}", "category": "administrative_penalty", "id_number": new_id_number(),
         "severity": ("minor", "general", "serious")[n % 3], "decision_date": day}
        for n in range(7)
    ]  # fmt: skip
    source = uid("amr")
    records_tasks.import_file(
        committed_engine, Crypto(settings), open_record_file(write(tmp_path / "r.csv", rows)), source=source
    )
    with Session(committed_engine) as session:
        subjects = {
            r.subject_id
            for r in session.exec(select(CreditRecord).where(CreditRecord.source == source)).all()
        }
    incremental = scores_of(committed_engine, subjects)
    assert len(incremental) == 7

    with committed_engine.begin() as conn:
        for subject_id in subjects:
            conn.execute(text("DELETE FROM credit_scores WHERE subject_id = :s"), {"s": subject_id})
    summary = run_rebuild(
        committed_engine,
        start_rebuild(committed_engine, restart=True),
        batch_size=3,
        workers=workers,
    )

    assert summary.processed >= 7 and summary.changed >= 7
    assert scores_of(committed_engine, subjects) == incremental

    # Nothing changed since: a second rebuild reads every score and writes none of them.
    before = written_at(committed_engine, subjects)
    run_rebuild(
        committed_engine, start_rebuild(committed_engine, restart=True), batch_size=3, workers=workers
    )
    assert written_at(committed_engine, subjects) == before


def test_a_parallel_rebuild_resumes_after_the_checkpoint_and_completes(committed_engine):
    """On PostgreSQL the batches go to two processes; on SQLite the same call runs them in turn."""
    with Session(committed_engine) as session:
        session.add_all(Subject(kind="person") for _ in range(7))  # whatever other tests committed, too
        session.commit()
        all_ids = list(session.exec(select(Subject.id).order_by(Subject.id)).all())
    assert len(all_ids) >= 7
    summary = start_rebuild(committed_engine, restart=True)
    run_rebuild(committed_engine, summary, batch_size=2, max_batches=1)  # then "interrupted"
    first_two = summary.processed
    assert first_two == 2

    resumed = start_rebuild(committed_engine)
    assert (resumed.run_id, resumed.resumed_after) == (summary.run_id, all_ids[1])
    done = run_rebuild(committed_engine, resumed, batch_size=2, workers=2)

    assert done.processed >= len(all_ids) - 2
    with Session(committed_engine) as session:
        run = session.get(ScoreRebuild, summary.run_id)
        assert run is not None
        assert run.status == "completed" and run.finished_at is not None
        assert run.last_subject_id is not None and run.last_subject_id >= all_ids[-1]
        assert run.processed == first_two + done.processed
        unscored = session.exec(
            select(Subject.id).where(
                Subject.id.not_in(select(CreditScore.subject_id))  # type: ignore[attr-defined]
            )
        ).all()
        assert unscored == []


# (category, outcome, grade, severity): good, neutral and bad kinds, a few of them repairable.
_KINDS = [
    ("registration", None, None, None),
    ("administrative_license", None, None, None),
    ("contract_performance", "fulfilled", None, None),
    ("contract_performance", "breached", None, "minor"),
    ("credit_evaluation", None, "A", None),
    ("credit_evaluation", None, "C", None),
    ("credit_commitment", "broken", None, "minor"),
    ("administrative_penalty", None, None, "minor"),
    ("administrative_penalty", None, None, "general"),
    ("administrative_penalty", None, None, "serious"),
    ("judicial_judgment", None, None, "serious"),
    ("administrative_enforcement", None, None, "general"),
]


def test_the_rebuild_read_gives_what_the_per_subject_path_gives(db):
    """PostgreSQL: a rebuild batch reads each subject's inputs as the database's summary
    (``counted_between``) and writes with ``rebuild_many``; digests, scores, reasons, hints and history
    rows are those the per-subject path (``inputs_between`` + ``recompute_many``) writes."""
    import random
    from datetime import timedelta

    from app.core.bulk import is_postgresql
    from app.records.models import ListEntry
    from app.scoring import inputs as scoring_inputs
    from app.scoring import rebuild_batch
    from app.scoring import service as scoring_service

    if not is_postgresql(db):
        pytest.skip("the summarised read is PostgreSQL's")
    rng = random.Random(20261127)
    today = business_date()
    now = PINNED + timedelta(days=1, hours=6, microseconds=123456)
    subjects = [Subject(kind="person") for _ in range(40)]
    db.add_all(subjects)
    db.flush()
    for n, subject in enumerate(subjects):
        for k in range(rng.randrange(0 if n % 7 else 1, 14) if n % 7 else 0):
            category, outcome, grade, severity = rng.choice(_KINDS)
            decided = today - timedelta(days=rng.randrange(1, 2000))
            db.add(
                CreditRecord(
                    subject_id=subject.id, category=category, outcome=outcome, grade=grade,
                    severity=severity, decision_date=decided, publicity_starts_on=decided,
                    publicity_min_ends_on=rng.choice([None, today - timedelta(days=5), today + timedelta(days=90)]),
                    counts_until=rng.choice([None, None, today, today - timedelta(days=1), today + timedelta(days=400)]),
                    status=rng.choice(["active", "active", "active", "disputed", "revoked"]),
                    source="eq-test", source_record_id=f"{subject.id}-{k}", content_hash="x",
                )
            )  # fmt: skip
        for k in range(rng.choice([0, 0, 0, 1, 2])):
            db.add(
                ListEntry(
                    subject_id=subject.id, list_type=rng.choice(["red", "black"]), legal_basis="test",
                    starts_on=today - timedelta(days=30),
                    ends_on=rng.choice([None, today, today + timedelta(days=60)]),
                    status=rng.choice(["active", "active", "removed"]),
                    source="eq-test", source_record_id=f"{subject.id}-l{k}", content_hash="x",
                )
            )  # fmt: skip
    db.flush()
    ids = sorted(s.id for s in subjects)

    def written() -> tuple[list[tuple], list[tuple]]:
        scores = db.execute(
            text(
                "SELECT subject_id, score, level, blocked, model_version, contributions::text,"
                " explanation::text, digest, computed_at, trigger FROM credit_scores"
                " WHERE subject_id = ANY(:ids) ORDER BY subject_id"
            ),
            {"ids": ids},
        ).all()
        history = db.execute(
            text(
                "SELECT subject_id, score, level, blocked, model_version, top_reasons::text, trigger,"
                " computed_at FROM credit_score_history WHERE subject_id = ANY(:ids) ORDER BY id"
            ),
            {"ids": ids},
        ).all()
        return [tuple(r) for r in scores], [tuple(r) for r in history]

    def forget() -> None:
        db.execute(text("DELETE FROM credit_score_history WHERE subject_id = ANY(:ids)"), {"ids": ids})
        db.execute(text("DELETE FROM credit_scores WHERE subject_id = ANY(:ids)"), {"ids": ids})

    changed = scoring_service.recompute_many(
        db, scoring_inputs.inputs_between(db, ids, today), trigger="rebuild", as_of=today, now=now, stored={}
    )
    expected = written()
    assert changed == 40 and len(expected[1]) == 40
    assert any("repair" in row[6] for row in expected[0]) and any(row[3] for row in expected[0])
    forget()

    db.execute(text("SET LOCAL datestyle TO 'SQL, DMY'"))  # the read does not depend on it
    counted = rebuild_batch.counted_between(db, ids, today)
    assert rebuild_batch.rebuild_many(db, counted, as_of=today, stored={}, now=now) == 40
    assert written() == expected

    # Stored scores whose digests differ are updated in place, and history is written where the
    # headline moved (here: every other subject).
    stored = scoring_service.stored_headlines_between(db, ids[0], ids[-1])
    stale = {
        sid: ("stale", old[1] + (n % 2), *old[2:]) for n, (sid, old) in enumerate(sorted(stored.items()))
    }
    forget()
    scoring_service.recompute_many(
        db, scoring_inputs.inputs_between(db, ids, today), trigger="rebuild", as_of=today, now=now, stored={}
    )
    assert rebuild_batch.rebuild_many(db, counted, as_of=today, stored=stale, now=now) == 40
    scores, history = written()
    assert scores == expected[0] and len(history) == 60

    # Nothing changed: nothing written.
    assert rebuild_batch.rebuild_many(db, counted, as_of=today, stored=stored, now=now) == 0
