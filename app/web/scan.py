"""``/scan``: the merchant's scanner, a phone or a tablet at the counter (static page + the public API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.pages import page

router = APIRouter(include_in_schema=False)


@router.get("/scan", response_class=HTMLResponse)
def scan_page(request: Request) -> HTMLResponse:
    return page(request, "scan.html")
