"""The import file format as a department's clerk meets it: ``xinyi records import --help`` and the
README name every column the importer accepts, the help's example imports cleanly, and the progress bar
counts rows landed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from app.core.clock import utcnow
from app.records.catalog import CATEGORIES
from app.records.cli import app as records_cli
from app.records.file_format import COLUMNS, EXAMPLE_CSV
from app.records.files import open_record_file
from app.records.validation import FIELDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_help_names_every_column_and_category_and_shows_the_example() -> None:
    assert {name for name, _ in COLUMNS} == FIELDS
    result = CliRunner().invoke(
        records_cli, ["import", "--help"], env={"COLUMNS": "220", "TERMINAL_WIDTH": "220"}
    )
    assert result.exit_code == 0
    for name in FIELDS:
        assert re.search(rf"^\W*{name}\s", result.output, re.MULTILINE), name
    for code in CATEGORIES:
        assert code in result.output
    for line in EXAMPLE_CSV.splitlines():
        assert line in result.output


def test_the_readme_documents_every_column() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Import file format") :]
    section = section[: section.index("\n## ")]
    for name in FIELDS:
        assert f"`{name}`" in section, name
    assert "xinyi records import" in section


def test_the_example_imports_cleanly_and_the_bar_counts_its_rows(own_database: str, tmp_path: Path) -> None:
    # given the help's example, its dates moved to the recent past (the importer refuses future ones)
    example = EXAMPLE_CSV
    for days, written in enumerate(sorted(set(re.findall(r"\d{4}-\d{2}-\d{2}", example))), start=10):
        example = example.replace(written, (utcnow() - timedelta(days=days)).date().isoformat())
    path = tmp_path / "records.csv"
    path.write_text(example + "\n", encoding="utf-8")

    # when
    result = CliRunner().invoke(records_cli, ["import", str(path), "--source", "urumqi-amr"])

    # then every row lands, and the bar ends at 3 of 3 rows
    assert result.exit_code == 0, result.output
    assert re.search(r"received 3, created 3, updated 0, unchanged 0, rejected 0$", result.stdout.strip())
    assert "3/3 rows" in result.stderr


def test_the_row_count_reads_lines_not_bytes(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text(
        "source_record_id,category,uscc\nr1,honour,x\nr2,honour,x\nr3,honour,x", encoding="utf-8"
    )
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"source_record_id": "r1"}\n{"source_record_id": "r2"}\n', encoding="utf-8")
    assert open_record_file(csv_file).line_count() == 3
    assert open_record_file(jsonl).line_count() == 2
