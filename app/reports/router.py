from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import HTMLResponse

from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.deps import CurrentUser
from app.reports import render, service
from app.reports.schemas import CreditReportOut
from app.scoring import explain

router = APIRouter(route_class=AppRoute, tags=["credit report"])


@router.get(
    "/v1/me/report",
    response_model=CreditReportOut,
    responses={200: {"content": {"text/html": {}}, "description": "JSON, or printable HTML"}},
)
def my_report(
    user: CurrentUser,
    session: SessionDep,
    format: Annotated[Literal["json", "html"] | None, Query(description="json (default) or html.")] = None,
    enterprise_id: Annotated[
        str | None, Query(max_length=32, description="An enterprise you administer, instead of yourself.")
    ] = None,
    accept: Annotated[str | None, Header()] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response | CreditReportOut:
    """Your full credit report: identity (masked), score and reasons, records with their status, lists,
    objections, repairs, scans of your passes, the access log and your consents. As JSON, or as a printable
    HTML page with `format=html` (or `Accept: text/html`). Free; each report is counted and the count of the
    year is shown on it."""
    fmt = format or ("html" if accept and "text/html" in accept else "json")
    subject_id = service.subject_for(session, user, enterprise_id)
    report = service.build(session, user, subject_id, fmt=fmt, lang=explain.language_from(accept_language))
    headers = {"Cache-Control": "private, no-store"}
    if fmt == "html":
        return HTMLResponse(
            render.html(report),
            headers={
                **headers,
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
            },
        )
    return Response(report.model_dump_json(), media_type="application/json", headers=headers)
