"""``/app``: the resident web app (DESIGN.md "The faces"). One page; its scripts call the public API.

Sign-in is phone + SMS code in cookie mode: the access token lives only in the page's memory and the
refresh token in an HttpOnly, SameSite=Strict cookie that only ``/v1/auth`` receives (see
``app.accounts.router``), so a script injected into the page could not carry the sign-in away.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.web.pages import page

router = APIRouter(include_in_schema=False)


@router.get("/app", response_class=HTMLResponse)
def resident_app(request: Request) -> HTMLResponse:
    return page(request, "resident/app.html")


@router.get("/app/")
def resident_app_slash() -> RedirectResponse:
    return RedirectResponse("/app", status_code=308)
