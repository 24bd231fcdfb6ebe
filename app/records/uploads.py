"""A record file uploaded over HTTP (multipart: ``file``, and ``encoding`` utf-8 or gbk), by a data
provider's key (``POST /v1/records/files``) or its members (``POST /v1/partners/{id}/record-files``): read
and checked as ``xinyi records import`` reads a file, then landed in the request's transaction with the
refused rows listed."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.core import edge
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import service
from app.records.files import FORMATS, FileRefused, open_record_file
from app.records.schemas import RecordBatchOut
from app.records.views import batch_result_out

ENCODINGS = ("utf-8", "gbk")
_UNSAFE = re.compile(r"[^\w.\-]")

OPENAPI = edge.max_body(edge.RECORD_BATCH_MAX_BODY) | edge.multipart_body_doc(
    ["file"],
    {
        "file": {"type": "string", "format": "binary", "description": ".csv or .jsonl"},
        "encoding": {"type": "string", "enum": list(ENCODINGS), "default": "utf-8"},
    },
)


def _safe_name(name: str | None) -> str:
    """The uploaded file's own name (it tells the format and names the file in errors), never a path."""
    base = _UNSAFE.sub("_", Path(name or "").name)[-128:]
    return base if base.strip("._") else "upload"


async def file_submitted(
    request: Request, session: Session, crypto: Crypto, partner: Principal
) -> RecordBatchOut:
    form = await edge.read_upload_form(request)
    try:
        upload, encoding = form.get("file"), form.get("encoding") or "utf-8"
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "file: attach the file as the form field `file`.", code="file_required", param="file"
            )
        if encoding not in ENCODINGS:
            raise InvalidInput(
                f"encoding: one of {', '.join(ENCODINGS)}.", code="invalid_encoding", param="encoding"
            )
        with tempfile.TemporaryDirectory(prefix="xinyi-upload-") as folder:
            path = Path(folder) / _safe_name(upload.filename)
            with path.open("wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out)
            if path.suffix.lower() not in FORMATS:  # said for HTTP, not as the CLI says it (--format)
                raise InvalidInput(
                    f"file: {path.name} must be named .csv or .jsonl (its format).",
                    code="file_refused",
                    param="file",
                )
            try:
                record_file = await run_in_threadpool(open_record_file, path, None, str(encoding))
            except FileRefused as exc:
                raise InvalidInput(str(exc), code="file_refused", param="file") from None
            result = await run_in_threadpool(
                service.submit_file, session, crypto, partner, record_file, path.name
            )
    finally:
        await form.close()
    return batch_result_out(result)
