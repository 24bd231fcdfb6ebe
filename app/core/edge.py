"""The request's edge: what every route checks before a byte of its body is parsed (issue 17).

- Body limits. Every route has one: 64 KiB unless it declares more (:func:`max_body`, published in
  OpenAPI as ``x-max-body-bytes``). :func:`check` refuses a ``Content-Length`` past it before anything
  is read, authentication included; :class:`BodyLimitMiddleware` counts a body as it streams in and stops
  reading at the limit. Both answer ``413 payload_too_large``.
- JSON routes take JSON: another content type is ``415 unsupported_media_type``.
- Strings PostgreSQL cannot store (NUL, lone UTF-16 surrogates) are ``422 unstorable_string`` naming the
  parameter, wherever they come: path, query or a JSON body.

:func:`check` runs in :class:`app.core.idempotency.AppRoute`, the route class of every router.
"""

from __future__ import annotations

import email.message
import json
import re
from typing import Any, TypeVar

from fastapi import Request, params
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message, Receive, Scope, Send

from app.core.asgi import HttpMiddleware
from app.core.errors import AppError, InvalidInput, problem_response

M = TypeVar("M", bound=BaseModel)

KIB = 1024
MIB = 1024 * KIB
# A small JSON request: every route's limit unless it declares more.
DEFAULT_MAX_BODY = 64 * KIB
# Lists of up to 100 items (offline reports) and Stripe's events.
LIST_MAX_BODY = 1 * MIB
# A record batch: 10,000 rows of up to 1.6 KiB each on average (a full-length Chinese title and legal
# basis take about 2.4 KiB; typical rows 300-500 bytes). Larger batches are split by the sender.
RECORD_BATCH_MAX_BODY = 16 * MIB
# One evidence file of at most 10 MiB (XINYI_EVIDENCE_MAX_BYTES) plus its multipart framing.
EVIDENCE_MAX_BODY = 10 * MIB + 64 * KIB

LIMIT_EXTENSION = "x-max-body-bytes"  # in a route's openapi_extra
_LIMIT_SCOPE_KEY = "xinyi.max_body_bytes"  # the matched route's limit, for the middleware's count


def max_body(limit: int) -> dict[str, Any]:
    """``openapi_extra`` giving a route a body limit other than :data:`DEFAULT_MAX_BODY`."""
    return {LIMIT_EXTENSION: limit}


def route_max_body(route: APIRoute) -> int:
    limit: int = (route.openapi_extra or {}).get(LIMIT_EXTENSION, DEFAULT_MAX_BODY)
    return limit


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class BodyTooLarge(HTTPException):
    """Raised by the counting ``receive``: an HTTPException, so that FastAPI's body parsing passes it on
    (it turns any other exception into a 400) to the handler that renders it as 413 payload_too_large."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The body may hold at most {limit} bytes on this route.")


class BodyLimitMiddleware(HttpMiddleware):
    """Pure ASGI: counts the request body as the app reads it, against the matched route's limit
    (the default before a route matched), and raises :class:`BodyTooLarge` at the first chunk past it,
    or at the first read when ``Content-Length`` already says so. Nothing past the limit is buffered."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = Headers(scope=scope).get("content-length", "")
        declared = int(length) if length.isdigit() else None
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            limit: int = scope.get(_LIMIT_SCOPE_KEY, DEFAULT_MAX_BODY)
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:  # read outside a route's error handling
            if started:
                raise
            response = problem_response(413, "payload_too_large", "Payload too large", str(exc.detail))
            await response(scope, receive, send)


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


# A JSON escape of NUL or of a surrogate, preceded by an even number of backslashes (so not itself an
# escaped backslash followed by text). Surrogate pairs also match; the walk below tells them apart.
_SUSPECT_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def storable(text: str) -> bool:
    """Whether PostgreSQL can store ``text``: no NUL and valid UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_unstorable(value: Any, location: str) -> str | None:
    """The location (``records.3.title``) of the first string or key in ``value`` that is not storable."""
    if isinstance(value, str):
        return None if storable(value) else location
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if not storable(key):
                return ".".join(filter(None, [location, "(key)"]))
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _first_unstorable(item, ".".join(filter(None, [location, str(key)])))
        if found is not None:
            return found
    return None


def _refuse_unstorable(param: str) -> InvalidInput:
    return InvalidInput(
        f"{param}: contains a character that cannot be stored (NUL or an unpaired surrogate).",
        code="unstorable_string",
        param=param,
    )


def is_json_route(route: APIRoute) -> bool:
    """A route whose body is JSON: a declared body that is not a form, or a JSON body it documents
    itself (one it parses on a worker thread)."""
    if route.body_field is not None:
        return not isinstance(route.body_field.field_info, params.Form)
    body = (route.openapi_extra or {}).get("requestBody", {})
    return "application/json" in body.get("content", {})


def is_json_media_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


async def check(request: Request, limit: int, json_route: bool) -> None:
    """Refuse what the route may not receive; raises the problem. Reads (and so caches) a JSON body."""
    request.scope[_LIMIT_SCOPE_KEY] = limit
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The body may hold at most {limit} bytes on this route.")
    for name, value in request.path_params.items():
        if isinstance(value, str) and not storable(value):
            raise _refuse_unstorable(name)
    for name, value in request.query_params.multi_items():
        if not (storable(name) and storable(value)):
            raise _refuse_unstorable(name if storable(name) else "query")
    if not json_route or not _has_body(request):
        return
    content_type = request.headers.get("content-type")
    if content_type is None or not is_json_media_type(content_type):
        raise UnsupportedMediaType(
            "Send this body as JSON, with Content-Type: application/json.", param="Content-Type"
        )
    body = await request.body()  # counted by BodyLimitMiddleware as it streams in; kept for the route
    # A large body (a record batch) is scanned on a worker thread, as it is parsed (parse_json_body).
    small = len(body) <= DEFAULT_MAX_BODY
    found = _unstorable_in_json(body) if small else await run_in_threadpool(_unstorable_in_json, body)
    if found is not None:
        raise _refuse_unstorable(found)


def _unstorable_in_json(body: bytes) -> str | None:
    """Where in a JSON body an unstorable string is (``body`` for the whole), None when there is none.
    A regular expression over the bytes first: only a body with such an escape is parsed here."""
    if _SUSPECT_ESCAPE.search(body) is None:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None  # the route's own parse answers 400 invalid_json
    found = _first_unstorable(parsed, "")
    return None if found is None else found or "body"


def json_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the JSON body of a route that parses it itself with
    :func:`parse_json_body` (a model without nested models: its schema is given inline)."""
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise ValueError(f"{model.__name__} nests models; document it with a declared body instead")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def multipart_body_doc(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting the multipart form of a route that reads it itself with
    :func:`read_upload_form`."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


async def read_upload_form(request: Request) -> FormData:
    """An upload's multipart form: one file and a few fields; 422 ``invalid_upload`` when it is not valid
    multipart. The caller closes it."""
    try:
        return await request.form(max_files=1, max_fields=4)
    except MultiPartException as exc:
        raise InvalidInput(
            f"The upload is not valid multipart/form-data: {exc.message}.", code="invalid_upload"
        ) from None


async def parse_json_body(request: Request, model: type[M]) -> M:
    """A large JSON body parsed and validated on a worker thread, so that the event loop keeps serving
    other requests meanwhile (FastAPI parses a declared body on the loop: fine for 64 KiB, not for
    megabytes). Problems as for a declared body: 400 invalid_json, 422 naming the field."""
    raw = await request.body()
    try:
        return await run_in_threadpool(model.model_validate_json, raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise RequestValidationError([{**errors[0], "loc": ("body", 0)}]) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
