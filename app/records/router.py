from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.core import edge
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute, IdempotencyRequiredDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.core.principal import Principal
from app.core.security import Crypto
from app.deps import CryptoDep, CurrentUser, OperatorDep, require_scope
from app.partners import service as partners_service
from app.records import schemas, service, uploads
from app.records.views import batch_out, batch_result_out

router = APIRouter(route_class=AppRoute, tags=["records"])

RecordsWriter = Annotated[Principal, Depends(require_scope("records:write"))]


@router.post(
    "/v1/records/batches",
    status_code=201,
    openapi_extra=edge.json_body_doc(schemas.RecordBatchIn) | edge.max_body(edge.RECORD_BATCH_MAX_BODY),
)
async def submit_batch(
    request: Request,
    partner: RecordsWriter,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> schemas.RecordBatchOut:
    """Push up to 10,000 public credit records or red/black list entries (data providers, `records:write`).

    Every row is validated on its own: valid rows land even when others are refused, and each refused row
    is reported with its row number, field and code. Idempotent on (your partner id, `source_record_id`).
    Each subject touched is rescored before the response is sent. At most 16 MiB of JSON."""
    return await batch_submitted(request, session, crypto, partner)


@router.post("/v1/records/files", status_code=201, openapi_extra=uploads.OPENAPI)
async def submit_file(
    request: Request,
    partner: RecordsWriter,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> schemas.RecordBatchOut:
    """Upload a record file (multipart `file`: `.csv` with a header line or `.jsonl`; `encoding` utf-8 or
    gbk), in the format of `xinyi records import` (README, Import file format), up to 10,000 rows and
    16 MiB. A file that cannot be read as a whole is refused (`file_refused`) with nothing written;
    otherwise each refused row is reported with its row number, field and code and the others land."""
    return await uploads.file_submitted(request, session, crypto, partner)


async def batch_submitted(
    request: Request, session: Session, crypto: Crypto, partner: Principal
) -> schemas.RecordBatchOut:
    """A batch as the provider's key and its members (app.members.consoles) submit it."""
    body = await edge.parse_json_body(request, schemas.RecordBatchIn)  # up to 16 MiB: off the event loop
    result = await run_in_threadpool(service.submit_batch, session, crypto, partner, body.records)
    return batch_result_out(result)


@router.get("/v1/admin/record-batches")
def list_import_runs(
    op: OperatorDep,
    session: SessionDep,
    page: PageParamsDep,
    source: Annotated[str | None, Query(max_length=32, description="One data provider's (ptn_…).")] = None,
    channel: Literal["api", "file"] | None = None,
    status: Literal["running", "completed"] | None = None,
) -> Page[schemas.RecordBatchSummary]:
    """Every data provider's batches and file import runs (operators), newest first, in counts: whether
    the city's feeds arrive and how many rows each refused. A run is ``running`` until it finishes; one
    still running long after it began was cut off."""
    return page_of(service.batches(session, page, source=source, channel=channel, status=status), batch_out)


@router.get("/v1/me/records")
def my_records(user: CurrentUser, session: SessionDep, page: PageParamsDep) -> Page[schemas.RecordOut]:
    """The public credit records about you, newest first, with their publicity windows and status."""
    if user.subject_id is None:
        raise NotFound("Bind your 身份证号 first (PUT /v1/me/identity).", code="identity_not_bound")
    rows, has_more = service.records_of(session, user.subject_id, page)
    departments = partners_service.names_of(session, sorted({row.source for row in rows}))
    return Page(
        data=[schemas.RecordOut.of(row, department=departments.get(row.source)) for row in rows],
        has_more=has_more,
    )


@router.get("/v1/me/list-entries")
def my_list_entries(user: CurrentUser, session: SessionDep) -> Page[schemas.ListEntryOut]:
    """Your red- and black-list entries, newest first: who listed you, on what basis, until when."""
    if user.subject_id is None:
        raise NotFound("Bind your 身份证号 first (PUT /v1/me/identity).", code="identity_not_bound")
    rows = service.list_entries_of(session, user.subject_id)
    departments = partners_service.names_of(session, sorted({row.source for row in rows}))
    return Page(
        data=[
            schemas.ListEntryOut(
                id=row.id,
                list_type=row.list_type,
                title=row.title,
                legal_basis=row.legal_basis,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                status=row.status,
                department=departments.get(row.source),
            )
            for row in rows
        ],
        has_more=False,
    )
