"""A record batch (or file import run) as the API shows it."""

from __future__ import annotations

from app.records.models import RecordBatch
from app.records.schemas import RecordBatchOut, RecordBatchSummary, RowErrorOut
from app.records.service import BatchResult
from app.records.validation import RowError


def batch_out(batch: RecordBatch) -> RecordBatchSummary:
    return RecordBatchSummary.model_validate(batch, from_attributes=True)


def error_out(error: RowError) -> RowErrorOut:
    return RowErrorOut.model_validate(error, from_attributes=True)


def batch_result_out(result: BatchResult) -> RecordBatchOut:
    return RecordBatchOut(
        **batch_out(result.batch).model_dump(), errors=[error_out(error) for error in result.errors]
    )
