"""One row at a time: each bad input is refused with its row, field and a stable code."""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import pytest

from app.records import ingest
from app.records.validation import RowError, RowValidator, ValidRow
from tests.clock import TODAY, days_ago, days_ahead
from tests.helpers import make_id_number, make_uscc

ID = make_id_number(born="19850612", seq="123")
USCC = make_uscc("91650100MA7G8K5X1")


def check(row: dict[str, Any]) -> list[tuple[str | None, str]] | ValidRow:
    result = RowValidator(TODAY).validate(7, row)
    if isinstance(result, ValidRow):
        return result
    assert all(isinstance(e, RowError) and e.row == 7 for e in result)
    for error in result:
        assert ID not in error.message and USCC not in error.message  # never echoed
    return [(e.field, e.code) for e in result]


def penalty(**fields: Any) -> dict[str, Any]:
    return {
        "source_record_id": "AMR-2026-001",
        "category": "administrative_penalty",
        "id_number": ID,
        "severity": "general",
        "decision_date": days_ago(86).isoformat(),
        **fields,
    }


def listing(**fields: Any) -> dict[str, Any]:
    return {
        "source_record_id": "CT-9",
        "category": "black_list",
        "uscc": USCC,
        "legal_basis": "《失信被执行人名单规定》",
        "start_date": days_ago(56).isoformat(),
        **fields,
    }


def test_a_valid_penalty_row():
    row = check(penalty(id_number=ID.lower(), title=" 未按期公示年报 "))
    assert isinstance(row, ValidRow)
    assert (row.category.code, row.subject_by, row.subject_key, row.severity) == (
        "administrative_penalty",
        "id_number",
        ID,
        "general",
    )
    assert (row.decision_date, row.title) == (days_ago(86), "未按期公示年报")


def test_a_valid_list_row_and_numeric_source_ids():
    row = check(listing(source_record_id=12345, end_date=days_ahead(1040).isoformat()))
    assert isinstance(row, ValidRow)
    assert (row.source_record_id, row.start_date, row.end_date) == (
        "12345",
        days_ago(56),
        days_ahead(1040),
    )


@pytest.mark.parametrize(
    ("row", "errors"),
    [
        (penalty(category="administrative_fine"), [("category", "unknown_category")]),
        (
            penalty(id_number=ID[:-1] + ("0" if ID[-1] != "0" else "1")),
            [("id_number", "invalid_id_number_check_digit")],
        ),
        (penalty(id_number="12345"), [("id_number", "invalid_id_number")]),
        (
            penalty(id_number=None, uscc=USCC[:-1] + ("0" if USCC[-1] != "0" else "1")),
            [("uscc", "invalid_uscc_check_digit")],
        ),
        (penalty(severity=None), [("severity", "severity_required")]),
        (penalty(severity="grave"), [("severity", "invalid_severity")]),
        (listing(end_date=days_ago(57).isoformat()), [("end_date", "end_before_start")]),
        (penalty(id_number=None), [("subject", "subject_required")]),
        (penalty(uscc=USCC), [("subject", "ambiguous_subject")]),
        (penalty(id_number=None, subject_id="sub_!!"), [("subject_id", "unknown_subject")]),
        (penalty(category="abnormal_operation"), [("id_number", "subject_kind_not_allowed")]),
        (penalty(decision_date="2026-02-30"), [("decision_date", "invalid_date")]),
        (penalty(decision_date="01/09/2026"), [("decision_date", "invalid_date")]),
        (penalty(decision_date=days_ahead(1).isoformat()), [("decision_date", "date_in_future")]),
        (penalty(decision_date=None), [("decision_date", "required")]),
        (penalty(source_record_id=None), [("source_record_id", "required")]),
        (penalty(source_record_id="x" * 129), [("source_record_id", "too_long")]),
        (penalty(source_record_id="a\nb"), [("source_record_id", "invalid_source_record_id")]),
        (penalty(category=None), [("category", "required")]),
        (penalty(severty="general"), [("severty", "unknown_field")]),
        (penalty(severity=3), [("severity", "invalid_type")]),
        (penalty(title="长" * 201), [("title", "too_long")]),
        (penalty(start_date=days_ago(329).isoformat()), [("start_date", "not_applicable")]),
        (
            listing(legal_basis=None, start_date=None),
            [("legal_basis", "required"), ("start_date", "required")],
        ),
        (listing(severity="serious"), [("severity", "not_applicable")]),
        (listing(start_date=days_ahead(36).isoformat()), [("start_date", "date_in_future")]),
    ],
)
def test_bad_input_is_refused_with_field_and_code(row, errors):
    assert check(row) == errors


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"outcome": None, "severity": None}, [("outcome", "outcome_required")]),
        ({"outcome": "late", "severity": None}, [("outcome", "invalid_outcome")]),
        ({"outcome": "defaulted", "severity": None}, [("severity", "severity_required")]),
        ({"outcome": "returned_on_time", "severity": "minor"}, [("severity", "not_applicable")]),
        ({"outcome": "returned_on_time", "grade": "A", "severity": None}, [("grade", "not_applicable")]),
    ],
)
def test_outcomes_decide_whether_a_platform_record_is_a_dishonesty_record(fields, errors):
    assert check(penalty(category="platform_rental", **fields)) == errors


def test_grades_are_required_and_checked():
    base = penalty(category="tax_credit_rating", id_number=None, uscc=USCC, severity=None)
    assert check(base) == [("grade", "grade_required")]
    assert check({**base, "grade": "E"}) == [("grade", "invalid_grade")]
    assert isinstance(check({**base, "grade": "M"}), ValidRow)


def test_every_problem_of_a_row_is_reported_at_once():
    assert check({"category": "nope", "decision_date": "soon", "extra": 1}) == [
        ("extra", "unknown_field"),
        ("source_record_id", "required"),
        ("category", "unknown_category"),
        ("subject", "subject_required"),
        ("decision_date", "invalid_date"),
    ]


def test_a_row_that_is_not_an_object():
    assert check(["not", "an", "object"]) == [(None, "invalid_row")]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        {"category": "administrative_penalty", "severity": "general", "decision_date": "2025-03-01",
         "conduct_end_date": "2025-01-31", "title": "罚款\t二号", "legal_basis": "第十条"},
        {"category": "contract_performance", "outcome": "fulfilled", "decision_date": "2024-02-29"},
        {"category": "credit_evaluation", "grade": "B", "decision_date": "2026-01-15"},
    ],
)  # fmt: skip
def test_prepared_values_give_the_content_hash_of_all_the_values(raw):
    """A file import prepares a row's values ahead of landing (ingest.prepare, in its reader process):
    the content hash must stay the one stored by every earlier import, or a re-sent file would land
    as corrections."""
    checked = RowValidator(date(2026, 11, 27)).validate(
        1, {"source_record_id": "H-1", "id_number": ID, **raw}
    )
    assert isinstance(checked, ValidRow)
    fresh = ingest._record_values(checked, "sub_01TESTSUBJECT")
    shipped = pickle.loads(pickle.dumps(ingest.prepare(checked)))  # noqa: S301 (our own bytes)
    prepared = ingest._record_values(shipped, "sub_01TESTSUBJECT")
    assert prepared == fresh
    assert fresh["content_hash"] == ingest.content_hash(fresh, ingest.RECORD_CONTENT)
