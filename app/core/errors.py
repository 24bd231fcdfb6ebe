"""Errors: domain exceptions with a status and a stable ``code``; one renderer for all of them.

Every error the service returns, validation errors included, is RFC 9457 ``application/problem+json``:
``{"type", "title", "status", "detail", "code", "param", "request_id"}``.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://xinyi.example/problems/"

log = structlog.get_logger("app.errors")


class AppError(Exception):
    """An expected refusal. Subclasses set ``status``/``code``/``title``; instances may override them."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}


class InvalidInput(AppError):
    status = 422
    code = "invalid_request"
    title = "Invalid request"


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None, param: str | None = None):
        super().__init__(detail, code=code, param=param, headers={"Retry-After": str(max(1, retry_after))})


def current_request_id() -> str | None:
    """The request's id, as :class:`app.core.requestid.RequestContextMiddleware` binds it for every log
    line (None outside a request)."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return None if request_id is None else str(request_id)


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "param": param,
        "request_id": current_request_id(),
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_response(exc: AppError) -> JSONResponse:
    """For the rare refusal that must still commit its transaction (return it instead of raising)."""
    return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.param, exc.headers, exc.extra)


def _validation_param(loc: tuple[int | str, ...]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or None


_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        param = _validation_param(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid value"))
        if first.get("type") == "json_invalid":
            return problem_response(
                400, "invalid_json", "Invalid JSON", "The request body is not valid JSON."
            )
        detail = f"{param}: {message}" if param else message
        # Never echo the rejected input back: it may be an ID number or a secret.
        fields = [
            {"param": _validation_param(tuple(e.get("loc", ()))), "message": e.get("msg")} for e in errors
        ]
        return problem_response(
            422, "invalid_request", "Invalid request", detail, param, extra={"errors": fields}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(exc.status_code, code, title, str(exc.detail), headers=headers)


def internal_error_response() -> JSONResponse:
    return problem_response(500, "internal_error", "Internal error", "Something went wrong on our side.")
