"""File imports and rebuilds with real commits, chunk by chunk (both databases)."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlmodel import Session, select

from app.core.clock import business_date
from app.core.security import Crypto
from app.records import tasks
from app.records.files import open_record_file
from app.records.models import CreditRecord
from tests.records.helpers import new_id_number, scores_of, uid, write


def test_a_file_lands_in_chunks_and_a_duplicate_in_a_later_chunk_is_caught(
    committed_engine, settings, tmp_path
):
    day = business_date().replace(day=1).isoformat()
    people = [new_id_number() for _ in range(4)]
    rows = [
        {"source_record_id": f"C-{n}", "category": "judicial_judgment", "id_number": people[n % 4],
         "severity": "general", "decision_date": day}
        for n in range(10)
    ]  # fmt: skip
    rows.append({**rows[1], "severity": "serious"})  # row 11: same id as row 2, three chunks later
    source = uid("court")
    errors: list = []
    summary = tasks.import_file(
        committed_engine, Crypto(settings), open_record_file(write(tmp_path / "c.csv", rows)),
        source=source, chunk_size=3, on_error=errors.append,
    )  # fmt: skip

    assert (summary.received, summary.created, summary.rejected) == (11, 10, 1)
    assert [(e.row, e.field, e.code) for e in errors] == [(11, "source_record_id", "duplicate_in_batch")]
    with Session(committed_engine) as session:
        landed = session.exec(select(CreditRecord).where(CreditRecord.source == source)).all()
        assert len(landed) == 10 and {r.severity for r in landed} == {"general"}
        subjects = {r.subject_id for r in landed}
    # Each of the 4 people has 2 or 3 general judgments (-60 x 1.2 each); 3 x -72 = -216.
    assert sorted(s[0] for s in scores_of(committed_engine, subjects).values()) == [384, 384, 456, 456]


def test_a_file_read_by_the_reader_process_lands_the_same(committed_engine, settings, tmp_path, monkeypatch):
    """On PostgreSQL a large file is read and checked by a forked process (here: any file); refused rows,
    in-batch duplicates, scores and the progress position come out as with the reader thread."""
    monkeypatch.setattr(tasks, "READER_PROCESS_MIN_BYTES", 0)
    day = business_date().replace(day=1).isoformat()
    people = [new_id_number() for _ in range(4)]
    rows = [
        {"source_record_id": f"P-{n}", "category": "judicial_judgment", "id_number": people[n % 4],
         "severity": "general", "decision_date": day}
        for n in range(10)
    ]  # fmt: skip
    rows.append({**rows[1], "severity": "serious"})  # row 11: a duplicate, three chunks later
    rows.append({**rows[0], "source_record_id": "P-bad", "severity": "grave"})  # row 12: refused
    record_file = open_record_file(write(tmp_path / "p.csv", rows))
    source = uid("court")
    errors: list = []
    positions: list[int] = []
    summary = tasks.import_file(
        committed_engine, Crypto(settings), record_file, source=source, chunk_size=3,
        on_error=errors.append, on_chunk=lambda count, outcome: positions.append(record_file.position),
    )  # fmt: skip

    assert (summary.received, summary.created, summary.rejected) == (12, 10, 2)
    assert [(e.row, e.field, e.code) for e in errors] == [
        (11, "source_record_id", "duplicate_in_batch"),
        (12, "severity", "invalid_severity"),
    ]
    assert positions == sorted(positions) and positions[-1] == record_file.size
    with Session(committed_engine) as session:
        landed = session.exec(select(CreditRecord).where(CreditRecord.source == source)).all()
    assert sorted(s[0] for s in scores_of(committed_engine, {r.subject_id for r in landed}).values()) == [
        384, 384, 456, 456,
    ]  # fmt: skip


def test_the_reader_process_reports_a_failure(committed_engine, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "READER_PROCESS_MIN_BYTES", 0)
    record_file = open_record_file(
        write(tmp_path / "f.csv", [{"source_record_id": "F-1", "category": "judicial_judgment",
                                   "id_number": new_id_number(), "severity": "general",
                                   "decision_date": business_date().isoformat()}])
    )  # fmt: skip
    record_file.path.unlink()  # checked, then gone before it is read
    with pytest.raises((RuntimeError, FileNotFoundError)):
        tasks.import_file(committed_engine, Crypto(settings), record_file, source=uid("gone"))


def test_a_failed_import_stops_its_reader_at_once(committed_engine, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "READER_PROCESS_MIN_BYTES", 0)
    day = business_date().replace(day=1).isoformat()
    rows = [
        {"source_record_id": f"S-{n}", "category": "judicial_judgment", "id_number": new_id_number(),
         "severity": "general", "decision_date": day}
        for n in range(12)
    ]  # fmt: skip

    def stop(count, outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tasks.import_file(
            committed_engine, Crypto(settings), open_record_file(write(tmp_path / "s.csv", rows)),
            source=uid("stop"), chunk_size=2, on_chunk=stop,
        )  # fmt: skip
    assert multiprocessing.active_children() == []
