"""A record batch (or file import run) as the API shows it."""

from __future__ import annotations

from app.records.models import RecordBatch
from app.records.schemas import RecordBatchOut, RecordBatchSummary, RowErrorOut
from app.records.service import BatchResult
from app.records.validation import RowError


def batch_out(batch: RecordBatch) -> RecordBatchSummary:
    return RecordBatchSummary(
        id=batch.id,
        source=batch.source,
        channel=batch.channel,
        file_name=batch.file_name,
        status=batch.status,
        received=batch.received,
        created=batch.created,
        updated=batch.updated,
        unchanged=batch.unchanged,
        rejected=batch.rejected,
        created_at=batch.created_at,
        finished_at=batch.finished_at,
    )


def error_out(error: RowError) -> RowErrorOut:
    return RowErrorOut(
        row=error.row,
        field=error.field,
        code=error.code,
        message=error.message,
        source_record_id=error.source_record_id,
    )


def batch_result_out(result: BatchResult) -> RecordBatchOut:
    return RecordBatchOut(
        **batch_out(result.batch).model_dump(), errors=[error_out(error) for error in result.errors]
    )
