"""``/console``: the operators' and auditors' console (DESIGN.md "The faces"). One page, desktop first;
its scripts call the public API only.

The page is a public shell: who may do what is decided by the API on every call (``require_role``), so
the navigation the page builds from ``/v1/me`` roles is a convenience, never the guard. Sign-in is the
resident app's phone + SMS code flow in cookie mode (``app.web.resident.router``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.web.pages import page

router = APIRouter(include_in_schema=False)

# The console's sections: (hash route, i18n key, roles that may use it). The template renders the
# navigation from this list; the page shows a link only to a user holding one of its roles.
SECTIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("objections", "nav_objections", ("operator",)),
    ("repairs", "nav_repairs", ("operator",)),
    ("subjects", "nav_subjects", ("operator",)),
    ("partners", "nav_partners", ("operator",)),
    ("webhooks", "nav_webhooks", ("operator",)),
    ("jobs", "nav_jobs", ("operator",)),
    ("imports", "nav_imports", ("operator",)),
    ("audit", "nav_audit", ("auditor", "operator")),
]


@router.get("/console", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    return page(request, "console/console.html", {"sections": SECTIONS})


@router.get("/console/")
def console_slash() -> RedirectResponse:
    return RedirectResponse("/console", status_code=308)
