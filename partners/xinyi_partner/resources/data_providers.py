"""Data providers (departments): record batches with per-row results, record files sent as batches,
objections to their records and the objections' events."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from xinyi_partner.calls import Call, ListCall, answer, list_call
from xinyi_partner.models import Objection, ObjectionEvent, RecordBatch, RowError

BATCHES = "/v1/records/batches"
OBJECTIONS = "/v1/partner/objections"
MAX_BATCH_ROWS = 10_000  # the API's largest batch


def submit_records(records: Sequence[Any], *, idempotency_key: str | None = None) -> Call[RecordBatch]:
    """Send up to 10,000 records or red/black list entries in one batch. Valid rows land even when others
    are refused; each refused row is in ``errors`` with its row number (from 1), field and code."""
    return Call.post(BATCHES, answer(RecordBatch), {"records": list(records)}, idempotency_key)


def list_objections(
    *,
    status: Literal["open", "upheld", "rejected"] | None = None,
    limit: int = 100,
    starting_after: str | None = None,
) -> ListCall[Objection]:
    """Objections to the records you sent, newest first (each one listed is in its subject's access log)."""
    return list_call(OBJECTIONS, Objection, {"status": status}, limit, starting_after)


def list_objection_events(*, limit: int = 100, starting_after: str | None = None) -> ListCall[ObjectionEvent]:
    """Events about objections to your records (filed, answered, overdue), newest first."""
    return list_call("/v1/partner/objection-events", ObjectionEvent, {}, limit, starting_after)


def get_objection_evidence(objection_id: str, evidence_id: str) -> Call[bytes]:
    """The bytes of one evidence file of an objection to your record."""
    return Call.get(f"{OBJECTIONS}/{objection_id}/evidence/{evidence_id}/content", lambda r: bytes(r.content))


# --- a record file, sent as batches -------------------------------------------------------------------------


@dataclass(frozen=True)
class FileBatch:
    """One batch of a file: its rows and the file row number of the first (data rows count from 1)."""

    first_row: int
    rows: list[Any]
    idempotency_key: str


@dataclass
class FileUpload:
    """A whole file's outcome: each batch, the totals, and every refused row numbered as in the file."""

    file_name: str
    batches: list[RecordBatch] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, batch: FileBatch, result: RecordBatch) -> None:
        self.batches.append(result)
        offset = batch.first_row - 1
        self.errors.extend(error.model_copy(update={"row": error.row + offset}) for error in result.errors)
        self.received += result.received
        self.created += result.created
        self.updated += result.updated
        self.unchanged += result.unchanged
        self.rejected += result.rejected


def file_batches(
    path: str | Path, *, file_format: Literal["csv", "jsonl"] | None = None, batch_size: int = MAX_BATCH_ROWS
) -> Iterator[FileBatch]:
    """The rows of a CSV (header line naming the columns; UTF-8, a BOM allowed; empty cells are absent
    values) or JSON Lines file, in batches. The platform checks every row; a line that is not a JSON
    object, or a CSV line with the wrong number of fields, is sent as it is and comes back refused with
    its row number. Each batch's idempotency key is derived from the file's content and the batch's place,
    so sending the same file again (after a crash) is answered from the first sending."""
    if not 1 <= batch_size <= MAX_BATCH_ROWS:
        raise ValueError(f"batch_size is 1-{MAX_BATCH_ROWS}")
    source = Path(path)
    raw = source.read_bytes()
    chosen = file_format or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(source.suffix.lower())
    if chosen not in ("csv", "jsonl"):
        raise ValueError(f"{source.name}: cannot tell the format from the name; pass file_format")
    text = raw.decode("utf-8-sig")
    rows = _csv_rows(text) if chosen == "csv" else _jsonl_rows(text)
    digest = hashlib.sha256(raw).hexdigest()[:32]
    first = 1
    while chunk := list(islice(rows, batch_size)):
        yield FileBatch(first, chunk, f"file-{digest}-{first}")
        first += len(chunk)


def _csv_rows(text: str) -> Iterator[Any]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    for values in reader:
        if not values:
            continue  # a blank line
        if len(values) != len(header):
            yield values  # refused by the platform as a row that is not an object
            continue
        yield {name: value for name, value in zip(header, values, strict=True) if value != ""}


def _jsonl_rows(text: str) -> Iterator[Any]:
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            yield line  # refused by the platform as a row that is not an object
