"""The pages people touch (DESIGN.md, "The faces"): Jinja templates and vendored static files, served
by the API itself. Pages call only the public API, from the same origin.

Every page is sent with a strict Content-Security-Policy: scripts and styles from this origin only (no
inline script, no CDN), API calls to this origin only. ``'wasm-unsafe-eval'`` lets the scanner compile
its vendored QR decoder (WebAssembly), and nothing else. Static files get the same policy, so a worker
or an SVG opened on its own is held to it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.types import Receive, Scope, Send

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_PREFIX = "/static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]),
    )
)


def page(request: Request, template: str, context: dict[str, Any] | None = None) -> HTMLResponse:
    """A page, with the security headers and never cached (it names the assets' versions)."""
    response = templates.TemplateResponse(request, template, context or {})
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


class _StaticFiles(StaticFiles):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def mount_static(app: FastAPI) -> None:
    """The pages' static files, under the pages' own security headers (the pages' routers are included
    with the API's, in ``app.main``)."""
    app.mount(STATIC_PREFIX, _StaticFiles(directory=STATIC_DIR), name="static")
