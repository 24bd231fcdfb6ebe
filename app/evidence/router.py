from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.core import edge
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import AppError, InvalidInput
from app.core.idempotency import AppRoute, IdempotencyDep
from app.deps import CurrentUser, SettingsDep
from app.evidence import service
from app.evidence.models import EvidenceFile
from app.evidence.schemas import EvidenceOut, EvidenceRef
from app.evidence.storage import CHUNK, EXTENSIONS

router = APIRouter(route_class=AppRoute, tags=["evidence"])
FORM_OVERHEAD = 64 * 1024


class LengthRequired(AppError):
    status = 411
    code = "length_required"
    title = "Length required"


def body_limit(request: Request, settings: SettingsDep) -> None:
    """Refuse an oversize upload from its Content-Length, before a byte of it is read."""
    raw = request.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise LengthRequired("Send the upload with a Content-Length header.", param="Content-Length")
    if int(raw) > settings.evidence_max_bytes + FORM_OVERHEAD:
        raise service.EvidenceTooLarge(
            f"file: at most {settings.evidence_max_bytes} bytes per file.", param="file"
        )


BodyLimitDep = Annotated[None, Depends(body_limit)]


def evidence_out(row: EvidenceFile) -> EvidenceOut:
    return EvidenceOut.model_validate(row, from_attributes=True)


def evidence_refs(rows: list[EvidenceFile]) -> list[EvidenceRef]:
    return [EvidenceRef.model_validate(row, from_attributes=True) for row in rows]


def _chunks(upload: UploadFile):  # type: ignore[no-untyped-def]
    upload.file.seek(0)
    while chunk := upload.file.read(CHUNK):
        yield chunk


@router.post(
    "/v1/me/evidence",
    status_code=201,
    openapi_extra=edge.max_body(edge.EVIDENCE_MAX_BODY)
    | edge.multipart_body_doc(
        ["file", "purpose"],
        {
            "file": {"type": "string", "format": "binary"},
            "purpose": {"type": "string", "enum": list(service.PURPOSES)},
        },
    ),
)
async def upload_evidence(
    request: Request,
    user: CurrentUser,
    _limit: BodyLimitDep,
    idem: IdempotencyDep,
    session: SessionDep,
    settings: SettingsDep,
) -> EvidenceOut:
    """Upload one evidence file (multipart: `file`, `purpose` = objection | repair) for an objection or a
    repair application you are about to file; attach it by listing its id there. PDF, PNG or JPEG, checked
    from the content; at most 10 MB (XINYI_EVIDENCE_MAX_BYTES). Files not attached within a day are
    removed."""
    form = await edge.read_upload_form(request)
    upload = form.get("file")
    purpose = form.get("purpose")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "file: attach the file as the form field `file`.", code="file_required", param="file"
        )
    if not isinstance(purpose, str):
        raise InvalidInput("purpose: one of objection, repair.", code="invalid_purpose", param="purpose")
    try:
        row = await run_in_threadpool(
            service.upload,
            session,
            service.store_for(settings),
            settings,
            user,
            purpose=purpose,
            file_name=upload.filename,
            chunks=_chunks(upload),
        )
    finally:
        await form.close()
    return evidence_out(row)


@router.get("/v1/evidence/{evidence_id}/content", response_class=StreamingResponse)
def evidence_content(
    evidence_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """Download an evidence file: its uploader, the subject of its case (or the enterprise's admins) and
    operators (each operator read is recorded in the subject's access log)."""
    row = service.readable(session, user, evidence_id)
    return file_response(row, settings)


def file_response(row: EvidenceFile, settings: Settings) -> StreamingResponse:
    store = service.store_for(settings)
    return StreamingResponse(
        store.read(row.storage_name),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{row.id}.{EXTENSIONS[row.content_type]}"',
            "Content-Length": str(row.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
