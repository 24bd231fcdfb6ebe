"""Validating one ingestion row (an API batch item, a CSV line, a JSONL line) into a :class:`ValidRow`, or
into the list of what is wrong with it: ``(row, field, code, message)``. Messages never repeat the value,
which may be an ID number.

A row names its subject by exactly one of ``id_number`` (a person), ``uscc`` (an enterprise) or
``subject_id`` (a subject the platform already knows). Empty strings count as absent (CSV).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.core.validators import IdentifierError
from app.records.catalog import CATEGORIES, PERSON, Category, Severity
from app.subjects.identifiers import validate_id_number, validate_uscc

SUBJECT_FIELDS = ("id_number", "uscc", "subject_id")
RECORD_DATE_FIELDS = ("decision_date", "conduct_end_date")
LIST_DATE_FIELDS = ("start_date", "end_date")
FIELDS = frozenset(
    {
        "source_record_id",
        "category",
        *SUBJECT_FIELDS,
        "severity",
        "outcome",
        "grade",
        "title",
        "legal_basis",
        *RECORD_DATE_FIELDS,
        *LIST_DATE_FIELDS,
    }
)
MAX_LENGTHS = {"source_record_id": 128, "title": 200, "legal_basis": 500}
_SOURCE_RECORD_ID = re.compile(r"^[^\x00-\x1f\x7f]+$")
_SUBJECT_ID = re.compile(r"^sub_[0-9A-Za-z]{1,28}$")
_EARLIEST = date(1949, 10, 1)
_SEVERITIES = frozenset(s.value for s in Severity)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    code: str
    message: str
    source_record_id: str | None = None


@dataclass(slots=True)
class ValidRow:
    row: int
    source_record_id: str
    category: Category
    subject_by: str  # "id_number" | "uscc" | "subject_id"
    subject_key: str  # the normalised ID number, 统一社会信用代码 or subject id
    severity: str | None = None
    outcome: str | None = None
    grade: str | None = None
    title: str | None = None
    legal_basis: str | None = None
    decision_date: date | None = None
    conduct_end_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    # Values worked out ahead of landing (app.records.ingest.prepare), or None.
    prepared: tuple[Any, ...] | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled by a file import's reader process: positional arguments (the category pickles as a
        # reference to the catalog's, once per chunk: Category.__reduce__).
        return ValidRow, (
            self.row,
            self.source_record_id,
            self.category,
            self.subject_by,
            self.subject_key,
            self.severity,
            self.outcome,
            self.grade,
            self.title,
            self.legal_basis,
            self.decision_date,
            self.conduct_end_date,
            self.start_date,
            self.end_date,
            self.prepared,
        )


class RowValidator:
    """Validates rows against one ``today``. Caches identifier checks: a file names each subject often."""

    def __init__(self, today: date) -> None:
        self.today = today
        self._identifiers: dict[tuple[str, str], str | IdentifierError] = {}
        self._dates: dict[str, date | None] = {}

    def validate(self, row: int, raw: Any) -> ValidRow | list[RowError]:
        if not isinstance(raw, Mapping):
            return [RowError(row, None, "invalid_row", "each row must be an object")]
        errors: list[tuple[str | None, str, str]] = []
        values: dict[str, str] = {}

        def fail(field: str | None, code: str, message: str) -> None:
            # One error per field: the first thing wrong with it (a mistyped value is not also missing).
            if field is None or not _failed(errors, field):
                errors.append((field, code, message))

        for name, value in raw.items():
            if name not in FIELDS:
                fail(str(name)[:64], "unknown_field", "not a field of a record row")
            elif value is None or value == "":
                continue
            elif isinstance(value, str):
                values[name] = value.strip()
            elif isinstance(value, int) and not isinstance(value, bool) and name == "source_record_id":
                values[name] = str(value)
            else:
                fail(name, "invalid_type", "must be a string")
        for name, limit in MAX_LENGTHS.items():
            if len(values.get(name, "")) > limit:
                fail(name, "too_long", f"at most {limit} characters")
                values.pop(name)

        source_record_id = values.get("source_record_id")
        if source_record_id is None:
            fail("source_record_id", "required", "the source's own id of the record is required")
        elif source_record_id is not None and not _SOURCE_RECORD_ID.match(source_record_id):
            fail("source_record_id", "invalid_source_record_id", "must not contain control characters")
            source_record_id = None

        category = CATEGORIES.get(values.get("category", ""))
        if "category" not in values:
            fail("category", "required", "the category is required")
        elif category is None and "category" in values:
            fail("category", "unknown_category", "not a known category (see GET /v1/scoring/model)")

        subject_by, subject_key = self._subject(values, category, fail)
        dates = {name: self._date(name, values, fail) for name in (*RECORD_DATE_FIELDS, *LIST_DATE_FIELDS)}
        if category is not None:
            if category.list_type is not None:
                self._check_list(values, dates, fail)
            else:
                self._check_record(category, values, dates, fail)

        if errors:
            return [RowError(row, field, code, message, source_record_id) for field, code, message in errors]
        assert category is not None and source_record_id is not None and subject_by and subject_key
        return ValidRow(
            row=row,
            source_record_id=source_record_id,
            category=category,
            subject_by=subject_by,
            subject_key=subject_key,
            severity=values.get("severity"),
            outcome=values.get("outcome"),
            grade=values.get("grade"),
            title=values.get("title"),
            legal_basis=values.get("legal_basis"),
            decision_date=dates["decision_date"],
            conduct_end_date=dates["conduct_end_date"],
            start_date=dates["start_date"],
            end_date=dates["end_date"],
        )

    def _subject(self, values: dict[str, str], category: Category | None, fail: Any) -> tuple[str, str]:
        given = [name for name in SUBJECT_FIELDS if name in values]
        if not given:
            fail("subject", "subject_required", "name the subject by id_number, uscc or subject_id")
            return "", ""
        if len(given) > 1:
            fail("subject", "ambiguous_subject", "give only one of id_number, uscc and subject_id")
            return "", ""
        name = given[0]
        raw = values[name]
        if name == "subject_id":
            if not _SUBJECT_ID.match(raw):
                fail("subject_id", "unknown_subject", "no subject has this id")
                return "", ""
            return name, raw
        checked = self._identifiers.get((name, raw))
        if checked is None:
            try:
                checked = validate_id_number(raw, self.today) if name == "id_number" else validate_uscc(raw)
            except IdentifierError as exc:
                checked = exc
            self._identifiers[(name, raw)] = checked
        if isinstance(checked, IdentifierError):
            fail(name, checked.code, checked.message)
            return "", ""
        kind = PERSON if name == "id_number" else "enterprise"
        if category is not None and category.list_type is None and kind not in category.subject_kinds:
            fail(name, "subject_kind_not_allowed", f"a {category.code} record cannot be about a {kind}")
            return "", ""
        return name, checked

    def _date(self, name: str, values: dict[str, str], fail: Any) -> date | None:
        raw = values.get(name)
        if raw is None:
            return None
        if raw not in self._dates:
            try:
                parsed: date | None = date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                parsed = None
            self._dates[raw] = parsed if parsed is not None and parsed >= _EARLIEST else None
        value = self._dates[raw]
        if value is None:
            fail(name, "invalid_date", "must be a date written YYYY-MM-DD")
        elif value > self.today and name != "end_date":
            fail(name, "date_in_future", "must not be after today")
            return None
        return value

    def _check_list(self, values: dict[str, str], dates: dict[str, date | None], fail: Any) -> None:
        for name in ("severity", "outcome", "grade", *RECORD_DATE_FIELDS):
            if name in values:
                fail(name, "not_applicable", "list entries have no such field")
        if "legal_basis" not in values:
            fail("legal_basis", "required", "a list entry needs its legal basis")
        if "start_date" not in values:
            fail("start_date", "required", "a list entry needs its start date")
        start, end = dates["start_date"], dates["end_date"]
        if start is not None and end is not None and end < start:
            fail("end_date", "end_before_start", "the end date is before the start date")

    def _check_record(
        self, category: Category, values: dict[str, str], dates: dict[str, date | None], fail: Any
    ) -> None:
        for name in LIST_DATE_FIELDS:
            if name in values:
                fail(name, "not_applicable", "only list entries have start and end dates")
        if "decision_date" not in values:
            fail("decision_date", "required", "the decision date is required")
        # A conduct end after the decision is allowed: conduct may go on (e.g. an unpaid judgment).
        needs_severity = category.dishonest
        outcome = values.get("outcome")
        if category.outcomes:
            if outcome is None:
                fail("outcome", "outcome_required", f"one of: {', '.join(category.outcomes)}")
            elif outcome not in category.outcomes:
                fail("outcome", "invalid_outcome", f"one of: {', '.join(category.outcomes)}")
            else:
                needs_severity = category.outcomes[outcome]
        elif outcome is not None:
            fail("outcome", "not_applicable", f"a {category.code} record has no outcome")
        grade = values.get("grade")
        if category.grades:
            if grade is None:
                fail("grade", "grade_required", f"one of: {', '.join(category.grades)}")
            elif grade not in category.grades:
                fail("grade", "invalid_grade", f"one of: {', '.join(category.grades)}")
        elif grade is not None:
            fail("grade", "not_applicable", f"a {category.code} record has no grade")
        severity = values.get("severity")
        outcome_unknown = bool(category.outcomes) and outcome not in category.outcomes
        if needs_severity:
            if severity is None:
                fail(
                    "severity",
                    "severity_required",
                    "a 失信 record needs a severity: minor, general or serious",
                )
            elif severity not in _SEVERITIES:
                fail("severity", "invalid_severity", "one of: minor, general, serious")
        elif severity is not None and not outcome_unknown:
            fail("severity", "not_applicable", "only 失信 records have a severity")


def _failed(errors: list[tuple[str | None, str, str]], field: str) -> bool:
    return any(error[0] == field for error in errors)
