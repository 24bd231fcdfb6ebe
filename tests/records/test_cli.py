"""``xinyi records import|expire`` and ``xinyi scores rebuild|model`` against their own migrated SQLite file."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.core.clock import add_months, business_date
from app.core.config import get_settings
from app.core.db import make_engine
from app.core.migrate import upgrade
from app.records.cli import app as records_app
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.scoring.cli import app as scores_app
from app.scoring.models import CreditScore, ScoreRebuild
from tests.clock import days_ago
from tests.helpers import make_uscc
from tests.records.helpers import new_id_number

COLUMNS = ["source_record_id", "category", "id_number", "uscc", "severity", "outcome", "grade",
           "decision_date", "title", "legal_basis", "start_date", "end_date"]  # fmt: skip


@pytest.fixture
def cli_db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url=url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(url: str, app: Any, *args: str):
    result = CliRunner().invoke(app, list(args), env={"XINYI_DATABASE_URL": url})
    get_settings.cache_clear()
    return result


def query(url: str, statement: Any) -> Any:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.exec(statement).all()
    finally:
        engine.dispose()


def count(url: str, model: type) -> int:
    return query(url, select(func.count()).select_from(model))[0]


def write_csv(
    path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS, encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def raw_file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def recent(days: int) -> str:
    return (business_date() - timedelta(days=days)).isoformat()


def test_import_a_csv_reports_refused_rows_and_lands_the_rest(cli_db, tmp_path):
    person, firm = new_id_number(), make_uscc()
    rows = [
        {
            "source_record_id": "A-1",
            "category": "administrative_penalty",
            "id_number": person,
            "severity": "general",
            "decision_date": recent(40),
            "title": "未按规定公示",
        },
        {
            "source_record_id": "A-2",
            "category": "tax_credit_rating",
            "uscc": firm,
            "grade": "A",
            "decision_date": recent(200),
        },
        {
            "source_record_id": "A-3",
            "category": "administrative_penalty",
            "id_number": person,
            "decision_date": recent(5),
        },
        {
            "source_record_id": "A-4",
            "category": "black_list",
            "uscc": firm,
            "legal_basis": "《严重失信主体名单管理办法》",
            "start_date": recent(3),
        },
        {
            "source_record_id": "A-5",
            "category": "honour",
            "id_number": person[:-1] + ("0" if person[-1] != "0" else "1"),
            "decision_date": recent(9),
        },
    ]
    source = write_csv(tmp_path / "amr-2026-11.csv", rows)
    errors = tmp_path / "refused.csv"

    result = run(cli_db, records_app, "import", str(source), "--source", "urumqi-amr", "--errors", str(errors),
                 "--no-progress")  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "row 3 severity: severity_required" in result.stderr
    assert "row 5 id_number: invalid_id_number_check_digit" in result.stderr
    assert result.stdout.strip().endswith("received 5, created 3, updated 0, unchanged 0, rejected 2")
    with errors.open(encoding="utf-8") as handle:
        refused = list(csv.DictReader(handle))
    assert [(r["row"], r["field"], r["code"], r["source_record_id"]) for r in refused] == [
        ("3", "severity", "severity_required", "A-3"),
        ("5", "id_number", "invalid_id_number_check_digit", "A-5"),
    ]
    assert person not in errors.read_text(encoding="utf-8") and person not in result.output
    assert {r.source_record_id for r in query(cli_db, select(CreditRecord))} == {"A-1", "A-2"}
    assert [(e.source_record_id, e.source, e.list_type) for e in query(cli_db, select(ListEntry))] == [
        ("A-4", "urumqi-amr", "black")
    ]
    levels = {s.level for s in query(cli_db, select(CreditScore))}
    assert levels == {"B", "D"}  # the person's penalty; the black-listed firm
    batch = query(cli_db, select(RecordBatch))[0]
    assert (batch.channel, batch.file_name, batch.status, batch.received, batch.rejected) == (
        "file",
        "amr-2026-11.csv",
        "completed",
        5,
        2,
    )


def test_reimporting_a_file_changes_nothing(cli_db, tmp_path):
    rows = [
        {
            "source_record_id": f"J-{n}",
            "category": "judicial_judgment",
            "id_number": new_id_number(),
            "severity": "minor",
            "decision_date": recent(n + 1),
        }
        for n in range(30)
    ]
    source = write_csv(tmp_path / "court.csv", rows)
    first = run(
        cli_db,
        records_app,
        "import",
        str(source),
        "--source",
        "court",
        "--chunk-size",
        "100",
        "--no-progress",
    )
    assert first.exit_code == 0, first.output

    def state() -> list[Any]:
        engine = make_engine(cli_db)
        with engine.connect() as conn:
            tables = ["credit_records", "credit_scores", "credit_score_history", "subjects"]
            snapshot = [sorted(conn.execute(text(f"SELECT * FROM {t}")).all()) for t in tables]  # noqa: S608
        engine.dispose()
        return snapshot

    before = state()
    again = run(cli_db, records_app, "import", str(source), "--source", "court", "--no-progress")
    assert again.exit_code == 0
    assert again.stdout.strip().endswith("received 30, created 0, updated 0, unchanged 30, rejected 0")
    assert state() == before


def test_import_json_lines(cli_db, tmp_path):
    person = new_id_number()
    lines = [
        {
            "source_record_id": "V-1",
            "category": "volunteer_service",
            "id_number": person,
            "decision_date": recent(10),
        },
        {
            "source_record_id": "V-2",
            "category": "blood_donation",
            "id_number": person,
            "decision_date": recent(20),
        },
    ]
    source = tmp_path / "welfare.jsonl"
    source.write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n", encoding="utf-8"
    )
    result = run(cli_db, records_app, "import", str(source), "--source", "red-cross", "--no-progress")
    assert result.exit_code == 0, result.output
    assert [s.score for s in query(cli_db, select(CreditScore))] == [620]


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (
            lambda d: write_csv(
                d / "gbk.csv",
                [
                    {
                        "source_record_id": "1",
                        "category": "honour",
                        "id_number": new_id_number(),
                        "decision_date": days_ago(329).isoformat(),
                        "title": "诚信企业",
                    }
                ],
                encoding="gbk",
            ),
            "gbk.csv is not valid utf-8: undecodable byte at offset",
        ),
        (
            lambda d: write_csv(d / "typo.csv", [], columns=["source_record_id", "catgory", "id_number"]),
            "typo.csv: unknown column(s) in the header: 'catgory'",
        ),
        (
            lambda d: write_csv(
                d / "nosubject.csv", [], columns=["source_record_id", "category", "decision_date"]
            ),
            "the header needs a subject column",
        ),
        (lambda d: raw_file(d / "empty.csv", b""), "empty.csv is empty"),
        (lambda d: raw_file(d / "x.jsonl", b"source_record_id,category\n"), "is this JSON Lines?"),
        (lambda d: raw_file(d / "records.xlsx", b"PK"), "cannot tell the format"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_before_anything_is_written(
    cli_db, tmp_path, make_file, message
):
    path = make_file(tmp_path)
    result = run(cli_db, records_app, "import", str(path), "--source", "amr", "--no-progress")
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert (count(cli_db, RecordBatch), count(cli_db, CreditRecord)) == (0, 0)


def test_a_gbk_file_imports_when_told_its_encoding(cli_db, tmp_path):
    rows = [{"source_record_id": "1", "category": "honour", "id_number": new_id_number(), "decision_date": recent(3),
             "title": "诚信企业"}]  # fmt: skip
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    result = run(
        cli_db, records_app, "import", str(path), "--source", "amr", "--encoding", "gbk", "--no-progress"
    )
    assert result.exit_code == 0, result.output
    assert [r.title for r in query(cli_db, select(CreditRecord))] == ["诚信企业"]


def test_a_bad_source_code_is_refused(cli_db, tmp_path):
    path = write_csv(tmp_path / "x.csv", [])
    result = run(cli_db, records_app, "import", str(path), "--source", "市场监管局", "--no-progress")
    assert result.exit_code == 2
    assert count(cli_db, RecordBatch) == 0


def test_expire_marks_what_ended_rescores_and_is_idempotent(cli_db, tmp_path):
    person = new_id_number()
    decided = business_date() - timedelta(days=10)
    rows = [{"source_record_id": "M-1", "category": "administrative_penalty", "id_number": person, "severity": "minor",
             "decision_date": decided.isoformat()}]  # fmt: skip
    run(
        cli_db,
        records_app,
        "import",
        str(write_csv(tmp_path / "m.csv", rows)),
        "--source",
        "amr",
        "--no-progress",
    )
    assert [s.score for s in query(cli_db, select(CreditScore))] == [585]
    later = add_months(decided, 3).isoformat()  # a minor penalty is public for at most 3 months

    first = run(cli_db, records_app, "expire", "--today", later)
    again = run(cli_db, records_app, "expire", "--today", later)

    assert first.exit_code == again.exit_code == 0
    assert first.stdout.strip() == "expired 1 records and 0 list entries; 1 scores changed"
    assert again.stdout.strip() == "expired 0 records and 0 list entries; 0 scores changed"
    assert [r.status for r in query(cli_db, select(CreditRecord))] == ["expired"]
    assert [(s.score, s.trigger) for s in query(cli_db, select(CreditScore))] == [(600, "expiry")]
    assert run(cli_db, records_app, "expire", "--today", "tomorrow").exit_code == 2


def test_rebuild_scores_every_subject_and_resumes_after_an_interruption(cli_db, tmp_path):
    rows = [
        {
            "source_record_id": f"H-{n}",
            "category": "honour",
            "id_number": new_id_number(),
            "decision_date": recent(n + 1),
        }
        for n in range(12)
    ]
    run(
        cli_db,
        records_app,
        "import",
        str(write_csv(tmp_path / "h.csv", rows)),
        "--source",
        "civ",
        "--no-progress",
    )
    engine = make_engine(cli_db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM credit_scores"))
    engine.dispose()

    # An interrupted rebuild: two batches of 5 committed, then the process died.
    from app.scoring import rebuild

    engine = make_engine(cli_db)
    summary = rebuild.start_rebuild(engine)
    rebuild.run_rebuild(engine, summary, batch_size=5, max_batches=2)
    engine.dispose()
    assert count(cli_db, CreditScore) == 10
    checkpoint = query(cli_db, select(ScoreRebuild))[0]
    assert (checkpoint.status, checkpoint.processed) == ("running", 10)

    resumed = run(cli_db, scores_app, "rebuild", "--batch-size", "100", "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming rebuild {checkpoint.id} after {checkpoint.last_subject_id}" in resumed.stderr
    assert "2 subjects scored, 2 changed" in resumed.stdout
    assert [(s.score, s.trigger) for s in query(cli_db, select(CreditScore))][:1] == [(630, "rebuild")]
    assert count(cli_db, CreditScore) == 12
    assert [r.status for r in query(cli_db, select(ScoreRebuild))] == ["completed"]

    fresh = run(cli_db, scores_app, "rebuild", "--no-progress")
    assert "12 subjects scored, 0 changed" in fresh.stdout


def test_scores_model_prints_the_published_model(cli_db):
    result = run(cli_db, scores_app, "model")
    assert result.exit_code == 0
    assert "model v1" in result.stdout and "AAA" in result.stdout
    as_json = run(cli_db, scores_app, "model", "--json")
    assert json.loads(as_json.stdout)["version"] == "v1"
