"""The OpenAPI document says what the service does with errors: every error response of every operation
is ``application/problem+json`` (the ``Problem`` schema), listed by status with the codes it carries.

FastAPI documents only 422 (in its own shape) and what a route declares. Here each operation gets the
statuses its shape can produce: 503 and 500 always; 401/403 when it needs credentials; 400 and 422 when it
takes parameters or a body; 404 and 409 for an authenticated call, a path naming an object and a write;
413 and 415 for a body. A route's own ``responses`` (their descriptions: its domain codes) are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.core.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `code` is stable: branch on it, not on `title` or `detail`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable code, e.g. `invalid_request`."},
        "param": {"type": ["string", "null"], "description": "The parameter or field at fault, if any."},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "description": "Validation errors (422 invalid_request): each field at fault.",
            "items": {
                "type": "object",
                "properties": {"param": {"type": ["string", "null"]}, "message": {"type": "string"}},
            },
        },
    },
}

# status -> (title, codes every operation of that shape may answer)
_GENERIC: dict[int, tuple[str, list[str]]] = {
    400: ("Bad request", ["bad_request"]),
    401: (
        "Authentication required",
        [
            "missing_credentials",
            "invalid_access_token",
            "access_token_expired",
            "account_closed",
            "unauthenticated",
        ],
    ),
    403: ("Forbidden", ["forbidden", "user_required", "partner_required", "role_required", "scope_required"]),
    404: ("Not found", ["not_found"]),
    409: ("Conflict", ["conflict"]),
    413: ("Payload too large", ["payload_too_large"]),
    415: ("Unsupported media type", ["unsupported_media_type"]),
    422: ("Invalid request", ["invalid_request", "unstorable_string"]),
    429: ("Too many requests", ["rate_limited"]),
    500: ("Internal error", ["internal_error"]),
    503: (
        "Service unavailable (retry after Retry-After seconds)",
        ["database_unavailable", "store_unavailable"],
    ),
}
_WRITES = {"post", "put", "patch", "delete"}


def _dependency_names(route: APIRoute) -> set[str]:
    names: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for dependency in dependant.dependencies:
            names.add(getattr(dependency.call, "__name__", ""))
            walk(dependency)

    walk(route.dependant)
    return names


def _statuses(route: APIRoute, method: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    statuses: dict[int, list[str]] = {500: [], 503: []}
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if operation.get("security") or "authenticated_principal" in _dependency_names(route):
        # a caller's own state can refuse any call (identity_not_bound, an object not theirs)
        statuses |= {401: [], 403: [], 404: [], 409: []}
    if parameters or has_body:
        statuses |= {400: [], 422: []}
    if any(p["in"] == "path" for p in parameters) or method in _WRITES:
        statuses[404] = []
    if method in _WRITES:
        statuses[409] = []
    if has_body:
        statuses |= {413: [], 415: []}
        statuses[400].append("invalid_json")
    if any(p["name"] == "starting_after" for p in parameters):
        statuses[400].append("invalid_cursor")
    if {"optional_idempotency", "required_idempotency"} & _dependency_names(route):
        statuses.setdefault(409, []).append("idempotency_request_in_progress")
        statuses.setdefault(422, []).extend(["invalid_idempotency_key", "idempotency_key_reused"])
        if "required_idempotency" in _dependency_names(route):
            statuses[422].append("idempotency_key_required")
    return statuses


def _document(route: APIRoute, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = _statuses(route, method, operation)
    for declared in list(responses):
        if declared.isdigit() and int(declared) >= 400:
            statuses.setdefault(int(declared), [])
    for status, extra_codes in sorted(statuses.items()):
        title, codes = _GENERIC.get(status, ("Error", []))
        declared = responses.get(str(status), {}).get("description", "")
        own = "" if declared in ("", "Validation Error", "Successful Response") else f" {declared}."
        listed = ", ".join(f"`{code}`" for code in [*codes, *extra_codes])
        responses[str(status)] = {
            "description": f"{title}.{own} Codes: {listed}." if listed else f"{title}.{own}",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, including those of included routers (FastAPI keeps those as routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(router.routes)


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that documents every error response (built once, then kept)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,  # the reading order of /docs
        )
        routes = {(r.path_format, m.lower()): r for r in _api_routes(app.routes) for m in r.methods or ()}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                route = routes.get((path, method))
                if route is not None:
                    _document(route, method, operation)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
